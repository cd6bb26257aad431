import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from bookings.models import Booking, Notification
from bookings.services import book_place
from patrols.models import Walk
from tests.factories import make_booking, make_walk

pytestmark = pytest.mark.django_db

Status = Booking.Status


def url(booking):
    return f"/bookings/manage/{booking.manage_token()}/"


def test_her_link_shows_the_booking_the_walk_and_a_cancel_button(client):
    booking = make_booking(walk=make_walk(meeting_point="Brixton library steps"))
    response = client.get(url(booking))
    assert response.status_code == 200
    body = response.content.decode()
    assert booking.reference in body
    assert "You have a place on this walk." in body
    assert "Brixton library steps" in body
    assert 'name="action" value="cancel"' in body
    assert "Cancel my booking" in body


@pytest.mark.parametrize("query", ["", "?action=cancel", "?action=cancel&confirm=yes"])
def test_opening_the_link_never_cancels(client, query):
    # Mail scanners follow links: only a POST acts.
    booking = make_booking()
    assert client.get(url(booking) + query).status_code == 200
    assert client.head(url(booking) + query).status_code == 200
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED


def test_the_manage_page_is_never_stored_nor_sent_on_as_a_referrer(client):
    response = client.get(url(make_booking()))
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert '<meta name="referrer" content="no-referrer">' in response.content.decode()


def test_posting_cancel_cancels_and_shows_the_booking_as_cancelled(client):
    booking = make_booking()
    response = client.post(url(booking), {"action": "cancel"})
    assert response.status_code == 302
    assert response["Location"] == url(booking)
    booking.refresh_from_db()
    assert booking.status == Status.CANCELLED
    assert booking.notifications.filter(kind=Notification.Kind.BOOKING_CANCELLED).exists()
    body = client.get(url(booking)).content.decode()
    assert "Your booking is cancelled." in body
    assert "This booking is cancelled." in body
    assert 'value="cancel"' not in body


def test_cancelling_through_the_link_gives_the_place_to_the_waiting_list(client):
    walk = make_walk(capacity=1)
    holder = book_place(walk=walk, full_name="Amira", email="amira@example.org")
    waiting = book_place(walk=walk, full_name="Bea", email="bea@example.org")
    client.post(url(holder), {"action": "cancel"})
    waiting.refresh_from_db()
    assert waiting.status == Status.CONFIRMED


def test_leaving_the_waiting_list(client):
    booking = make_booking(status=Status.WAITLISTED)
    body = client.get(url(booking)).content.decode()
    assert "You are on the waiting list." in body
    assert "Leave the waiting list" in body
    client.post(url(booking), {"action": "cancel"})
    booking.refresh_from_db()
    assert booking.status == Status.CANCELLED


@pytest.mark.parametrize("data", [{}, {"action": "delete"}, {"action": "cancel\x00"}])
def test_a_post_without_action_cancel_changes_nothing(client, data):
    booking = make_booking()
    response = client.post(url(booking), data)
    assert response.status_code == 400
    assert 'class="error-summary"' in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED


def test_cancelling_twice_says_it_is_already_cancelled(client):
    booking = make_booking(status=Status.CANCELLED)
    response = client.post(url(booking), {"action": "cancel"})
    assert response.status_code == 409
    assert "already cancelled" in response.content.decode()


def test_a_booking_cannot_be_cancelled_after_the_walk_has_started(client):
    booking = make_booking(walk=make_walk(starts_at=timezone.now() - timedelta(minutes=5)))
    assert 'value="cancel"' not in client.get(url(booking)).content.decode()
    response = client.post(url(booking), {"action": "cancel"})
    assert response.status_code == 409
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED


def test_a_walk_cancelled_by_the_police_shows_why(client):
    walk = make_walk(status=Walk.Status.CANCELLED, cancel_reason="Weather warning.")
    booking = make_booking(walk=walk, status=Status.CANCELLED)
    body = client.get(url(booking)).content.decode()
    assert "The police cancelled the walk: Weather warning." in body


def assert_plain_404(response, booking):
    assert response.status_code == 404
    body = response.content.decode()
    assert booking.reference not in body
    assert booking.full_name not in body
    assert booking.email not in body
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"


def test_a_tampered_token_is_a_plain_404(client):
    booking = make_booking()
    token = booking.manage_token()
    tampered = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert_plain_404(client.get(f"/bookings/manage/{tampered}/"), booking)
    assert_plain_404(client.post(f"/bookings/manage/{tampered}/", {"action": "cancel"}), booking)
    assert_plain_404(client.get(f"/bookings/manage/{token[:32]}/"), booking)
    assert_plain_404(client.get("/bookings/manage/%27%20OR%201=1--/"), booking)
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED


def test_her_survey_link_does_not_open_the_manage_page(client):
    """A survey link passed on (to a friend, a partner) cannot see or cancel her booking: it is
    refused exactly as a made-up token is."""
    walk = make_walk(starts_at=timezone.now() + timedelta(days=1))
    booking = make_booking(walk=walk)
    unknown = client.get("/bookings/manage/" + "0" * 64 + "/")
    for response in (
        client.get(f"/bookings/manage/{booking.survey_token()}/"),
        client.post(f"/bookings/manage/{booking.survey_token()}/", {"action": "cancel"}),
    ):
        assert_plain_404(response, booking)
        assert without_nonces(response.content.decode()) == without_nonces(unknown.content.decode())
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED
    assert client.get(url(booking)).status_code == 200


def without_nonces(html: str) -> str:
    return re.sub(r'nonce="[^"]*"', "", html)


def test_another_bookings_reference_is_not_a_token(client):
    booking = make_booking()
    assert_plain_404(client.get(f"/bookings/manage/{booking.reference}/"), booking)
    assert_plain_404(client.get(f"/bookings/manage/{booking.manage_token_hash}/"), booking)
    assert_plain_404(client.get(f"/bookings/manage/{booking.survey_token_hash}/"), booking)


def test_the_link_works_until_a_week_after_the_walk_and_then_expires(client, time_machine):
    walk = make_walk(starts_at=timezone.now() + timedelta(days=1))
    booking = make_booking(walk=walk)
    time_machine.move_to(walk.ends_at + timedelta(days=6, hours=23))
    body = client.get(url(booking)).content.decode()
    assert booking.reference in body
    assert 'value="cancel"' not in body  # the walk is over
    time_machine.move_to(walk.ends_at + timedelta(days=7, minutes=1))
    assert_plain_404(client.get(url(booking)), booking)


def test_an_anonymised_booking_has_no_page(client):
    booking = make_booking()
    Booking.objects.filter(pk=booking.pk).update(anonymised_at=timezone.now())
    assert_plain_404(client.get(url(booking)), booking)


def test_cancelling_works_without_a_csrf_cookie_because_the_token_is_the_authority():
    # Under Referrer-Policy: no-referrer the browser sends "Origin: null" with the form.
    booking = make_booking()
    client = Client(enforce_csrf_checks=True)
    response = client.post(url(booking), {"action": "cancel"}, HTTP_ORIGIN="null")
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Status.CANCELLED
