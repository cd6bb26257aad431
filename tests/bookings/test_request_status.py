"""Her route request's private link: what it shows, withdrawing it, and the token rules it
shares with the manage link."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from bookings import links
from bookings.delivery import deliver_notification
from bookings.models import Booking, Notification, WalkRequest
from bookings.services import (
    cancel_walk,
    decline_request,
    queue_notification,
    schedule_request,
    withdraw_request,
)
from patrols.models import Walk
from privacy.services import erase_personal_data
from tests.factories import make_booking, make_officer, make_request

pytestmark = pytest.mark.django_db

Status = WalkRequest.Status


def url(walk_request):
    return f"/requests/{links.make_token(walk_request.reference, links.REQUEST)}/"


def without_nonces(response) -> str:
    return re.sub(r'nonce="[^"]*"', "", response.content.decode())


def scheduled(walk_request, days=5):
    start = timezone.now() + timedelta(days=days)
    return schedule_request(
        request=walk_request,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        meeting_point="Outside Brixton library",
        officers=[make_officer()],
    )


def test_the_acknowledgement_email_carries_her_private_link():
    walk_request = make_request()
    row = queue_notification(kind=Notification.Kind.REQUEST_RECEIVED, request=walk_request)
    assert deliver_notification(notification_id=row.pk) == "sent"
    [message] = mail.outbox
    link = walk_request.request_url()
    assert link.endswith(url(walk_request))
    assert link in message.body
    assert link in message.alternatives[0][0]


def test_only_a_hash_of_the_token_is_stored():
    walk_request = make_request()
    token = links.make_token(walk_request.reference, links.REQUEST)
    assert walk_request.token_hash == links.hash_token(token)
    assert token not in str(WalkRequest.objects.filter(pk=walk_request.pk).values().get())


def test_a_waiting_request_shows_it_is_waiting_and_can_be_withdrawn(client):
    walk_request = make_request()
    response = client.get(url(walk_request))
    assert response.status_code == 200
    body = response.content.decode()
    assert walk_request.reference in body
    assert "Waiting for an inspector." in body
    assert 'name="action" value="withdraw"' in body
    assert walk_request.full_name not in body and walk_request.email not in body
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"


def test_posting_withdraw_withdraws_it_and_opening_the_link_never_does(client):
    walk_request = make_request()
    assert client.get(url(walk_request) + "?action=withdraw").status_code == 200
    walk_request.refresh_from_db()
    assert walk_request.status == Status.OPEN
    response = client.post(url(walk_request), {"action": "withdraw"})
    assert response.status_code == 302
    assert response["Location"] == url(walk_request)
    walk_request.refresh_from_db()
    assert walk_request.status == Status.WITHDRAWN
    assert walk_request.decided_at is None  # not an inspector's answer: the report's median
    body = client.get(url(walk_request)).content.decode()
    assert "You withdrew this request." in body
    assert 'value="withdraw"' not in body
    # Twice is the same as once.
    assert client.post(url(walk_request), {"action": "withdraw"}).status_code == 302


def test_another_action_is_refused_and_changes_nothing(client):
    walk_request = make_request()
    response = client.post(url(walk_request), {"action": "cancel"})
    assert response.status_code == 400
    walk_request.refresh_from_db()
    assert walk_request.status == Status.OPEN


def test_a_scheduled_request_shows_her_walk_and_withdrawing_calls_it_off(client):
    walk_request = make_request()
    walk = scheduled(walk_request)
    body = client.get(url(walk_request)).content.decode()
    assert "Your walk is arranged." in body
    assert "Outside Brixton library" in body
    place = Booking.objects.get(walk=walk)
    assert f"/bookings/manage/{place.manage_token()}/" in body
    assert walk.get_absolute_url() not in body  # her walk is not a public page

    assert client.post(url(walk_request), {"action": "withdraw"}).status_code == 302
    walk.refresh_from_db()
    place.refresh_from_db()
    walk_request.refresh_from_db()
    assert walk_request.status == Status.WITHDRAWN
    assert walk.status == Walk.Status.CANCELLED
    assert walk.cancel_reason == "You withdrew your request for this walk."
    assert not walk.roster.exists()
    assert place.status == Booking.Status.CANCELLED
    assert place.notifications.filter(kind=Notification.Kind.WALK_CANCELLED).exists()
    assert not place.notifications.filter(kind__startswith="reminder", sent_at=None).exists()


def test_a_walk_already_called_off_by_the_police_is_left_as_it_was():
    walk_request = make_request()
    walk = scheduled(walk_request)
    cancel_walk(walk=walk, reason="No officers free")
    withdraw_request(request=walk_request)
    walk.refresh_from_db()
    assert walk.cancel_reason == "No officers free"
    walk_request.refresh_from_db()
    assert walk_request.status == Status.WITHDRAWN


def test_a_walk_that_has_started_cannot_be_withdrawn(client, time_machine):
    walk_request = make_request()
    walk = scheduled(walk_request, days=1)
    time_machine.move_to(walk.starts_at + timedelta(minutes=5))
    body = client.get(url(walk_request)).content.decode()
    assert 'value="withdraw"' not in body
    response = client.post(url(walk_request), {"action": "withdraw"})
    assert response.status_code == 409
    walk.refresh_from_db()
    assert walk.status == Walk.Status.SCHEDULED


def test_a_declined_request_shows_the_reason_and_cannot_be_withdrawn(client):
    walk_request = make_request()
    decline_request(request=walk_request, reason="The route is covered by a group walk.")
    body = client.get(url(walk_request)).content.decode()
    assert "The route is covered by a group walk." in body
    assert 'value="withdraw"' not in body
    with pytest.raises(ValidationError):
        withdraw_request(request=walk_request)


def test_wrong_and_other_purpose_tokens_get_the_same_404_as_an_unknown_page(client):
    walk_request = make_request()
    booking = make_booking()
    unknown = client.get("/no-such-page/")
    for token in (
        "nope",
        "a" * 64,
        "a" * 500,
        links.make_token(walk_request.reference, links.MANAGE),
        links.make_token(walk_request.reference, links.SURVEY),
        booking.manage_token(),
    ):
        for method in (client.get, client.post):
            response = method(f"/requests/{token}/")
            assert response.status_code == 404
            assert without_nonces(response) == without_nonces(unknown)
            assert "no-store" in response["Cache-Control"]
    # Nor does her request token open a booking's pages.
    token = links.make_token(walk_request.reference, links.REQUEST)
    assert client.get(f"/bookings/manage/{token}/").status_code == 404
    assert client.get(f"/feedback/{token}/").status_code == 404


def test_the_link_closes_a_week_after_her_walk_and_when_her_data_is_erased(client, time_machine):
    walk_request = make_request()
    walk = scheduled(walk_request)
    time_machine.move_to(walk.ends_at + timedelta(days=6))
    assert client.get(url(walk_request)).status_code == 200
    time_machine.move_to(walk.ends_at + timedelta(days=8))
    assert client.get(url(walk_request)).status_code == 404

    waiting = make_request()
    erase_personal_data(email=waiting.email)
    assert client.get(url(waiting)).status_code == 404
