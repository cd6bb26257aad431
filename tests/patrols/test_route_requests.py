"""Route requests in the admin: a queue of open requests, oldest first with their age;
scheduling one books her onto a walk on her route; declining records a reason; she is told."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking, Notification, WalkRequest
from bookings.services import decline_request, schedule_request
from patrols.models import Walk
from patrols.services import roster_officer
from tests.factories import borough, make_officer, make_request, make_walk

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:bookings_walkrequest_changelist")


def schedule_url(walk_request):
    return reverse("admin:bookings_walkrequest_schedule", args=[walk_request.pk])


def decline_url(walk_request):
    return reverse("admin:bookings_walkrequest_decline", args=[walk_request.pk])


def in_a_week(hour=19):
    return (timezone.localtime() + timedelta(days=7)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


def test_the_queue_shows_open_requests_oldest_first_with_their_age(client, inspector):
    now = timezone.now()
    newer = make_request(created_at=now - timedelta(hours=5))
    older = make_request(created_at=now - timedelta(days=4, hours=1))
    make_request(status=WalkRequest.Status.DECLINED)
    response = client.get(QUEUE)
    assert list(response.context["cl"].result_list) == [older, newer]
    page = response.content.decode()
    assert "4 days" in page
    assert "5 hours" in page


def test_scheduling_a_request_books_her_onto_a_walk_on_her_route(client, inspector):
    walk_request = make_request(
        borough=borough("southwark"),
        full_name="Ama Mensah",
        email="ama@example.org",
        phone="07700 900456",
        accessibility_needs="I walk slowly",
    )
    lead, other = make_officer(name="Lead Officer"), make_officer()
    page = client.get(schedule_url(walk_request))
    assert page.status_code == 200
    assert walk_request.route_description in page.content.decode()
    starts = in_a_week()
    response = client.post(
        schedule_url(walk_request),
        {
            "starts_at": f"{starts:%Y-%m-%dT%H:%M}",
            "duration": "90",
            "meeting_point": "Peckham Rye station forecourt",
            "officers": [lead.pk, other.pk],
        },
    )
    walk_request.refresh_from_db()
    walk = walk_request.walk
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:patrols_walk_change", args=[walk.pk])
    assert walk_request.status == WalkRequest.Status.SCHEDULED
    assert walk_request.decided_at is not None
    assert (walk.kind, walk.capacity, walk.borough.slug, walk.bcu.code) == (
        "route",
        1,
        "southwark",
        "AS",
    )
    assert (walk.starts_at, walk.ends_at) == (starts, starts + timedelta(minutes=90))
    assert walk.meeting_point == "Peckham Rye station forecourt"
    assert set(walk.roster.values_list("officer", "role")) == {
        (lead.pk, "lead"),
        (other.pk, "officer"),
    }
    booking = walk.bookings.get()
    assert (booking.full_name, booking.email, booking.phone, booking.status) == (
        "Ama Mensah",
        "ama@example.org",
        "07700 900456",
        Booking.Status.CONFIRMED,
    )
    assert booking.accessibility_needs == "I walk slowly"
    assert Notification.objects.filter(
        request=walk_request, kind=Notification.Kind.REQUEST_SCHEDULED
    ).exists()
    reminders = Notification.objects.filter(booking=booking).values_list("kind", flat=True)
    assert set(reminders) == {Notification.Kind.REMINDER_24H, Notification.Kind.REMINDER_2H}


def test_a_busy_officer_is_a_form_error_and_nothing_is_written(client, inspector):
    walk_request = make_request()
    starts = in_a_week()
    busy = make_officer(name="Already Walking")
    roster_officer(walk=make_walk(starts_at=starts), officer=busy)
    response = client.post(
        schedule_url(walk_request),
        {
            "starts_at": f"{starts:%Y-%m-%dT%H:%M}",
            "duration": "60",
            "meeting_point": "Brixton station",
            "officers": [make_officer().pk, busy.pk],
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page
    assert "Already Walking is already on another walk at that time" in page
    walk_request.refresh_from_db()
    assert walk_request.status == WalkRequest.Status.OPEN
    assert not Walk.objects.filter(kind=Walk.Kind.ROUTE).exists()
    assert not Booking.objects.exists()


def test_the_schedule_form_offers_only_the_requests_bcus_active_officers(client, inspector):
    walk_request = make_request()
    own = make_officer(name="Own Officer")
    make_officer(name="Retired Officer", is_active=False)
    other = make_officer(name="Westminster Officer", bcu=borough("westminster").bcu)
    page = client.get(schedule_url(walk_request)).content.decode()
    assert "Own Officer" in page
    assert "Retired Officer" not in page
    assert "Westminster Officer" not in page
    response = client.post(
        schedule_url(walk_request),
        {
            "starts_at": f"{in_a_week():%Y-%m-%dT%H:%M}",
            "duration": "60",
            "meeting_point": "Brixton station",
            "officers": [own.pk, other.pk],
        },
    )
    assert response.status_code == 400
    assert not Walk.objects.exists()


def test_an_empty_schedule_form_says_what_is_missing(client, inspector):
    response = client.post(schedule_url(make_request()), {})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'href="#id_starts_at"' in page
    assert "Enter the date and time the walk starts." in page
    assert "Choose the officers who will walk with her." in page


def test_declining_needs_a_reason_and_tells_her(client, inspector):
    walk_request = make_request()
    response = client.post(decline_url(walk_request), {"reason": ""})
    assert response.status_code == 400
    walk_request.refresh_from_db()
    assert walk_request.status == WalkRequest.Status.OPEN
    response = client.post(
        decline_url(walk_request),
        {"reason": "We cannot walk after midnight. There is a group walk on Thursdays."},
    )
    assert response.status_code == 302
    walk_request.refresh_from_db()
    assert walk_request.status == WalkRequest.Status.DECLINED
    assert walk_request.decline_reason.startswith("We cannot walk after midnight")
    assert Notification.objects.filter(
        request=walk_request, kind=Notification.Kind.REQUEST_DECLINED
    ).exists()


def test_a_request_is_answered_only_once():
    walk_request = make_request()
    decline_request(request=walk_request, reason="Not possible")
    with pytest.raises(ValidationError) as error:
        schedule_request(
            request=walk_request,
            starts_at=timezone.now() + timedelta(days=2),
            ends_at=timezone.now() + timedelta(days=2, hours=1),
            meeting_point="Brixton",
            officers=[make_officer()],
        )
    assert error.value.code == "request_not_open"
    with pytest.raises(ValidationError):
        decline_request(request=walk_request, reason="Again")


def test_an_answered_request_has_no_schedule_or_decline_buttons(client, inspector):
    walk_request = make_request(status=WalkRequest.Status.DECLINED)
    page = client.get(
        reverse("admin:bookings_walkrequest_change", args=[walk_request.pk])
    ).content.decode()
    assert "Schedule her walk" not in page
    open_request = make_request()
    page = client.get(
        reverse("admin:bookings_walkrequest_change", args=[open_request.pk])
    ).content.decode()
    assert "Schedule her walk" in page
    assert 'value="Save"' not in page
