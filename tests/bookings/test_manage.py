import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from bookings.ics import calendar_uid
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
    assert "You are 1st on the waiting list." in body  # her place in line
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


# --- Her place on the waiting list, her calendar file, and a second thought before cancelling


@pytest.mark.querycount
def test_her_place_on_the_waiting_list_counts_only_those_ahead_of_her_on_her_walk(
    client, django_assert_num_queries
):
    walk = make_walk(capacity=1)
    book_place(walk=walk, full_name="Has a place", email="placed@example.org")
    first = book_place(walk=walk, full_name="First", email="first@example.org")
    second = book_place(walk=walk, full_name="Second", email="second@example.org")
    third = book_place(walk=walk, full_name="Third", email="third@example.org")
    other_walk = make_walk(capacity=1)
    make_booking(walk=other_walk)
    make_booking(walk=other_walk, status=Status.WAITLISTED)  # another walk's list: not counted
    first_out = Booking.objects.get(pk=first.pk)
    first_out.status = Status.CANCELLED  # she left: those behind her move up
    first_out.save()

    positions = dict(
        Booking.objects.filter(walk=walk)
        .with_waitlist_position()
        .values_list("full_name", "waitlist_position")
    )
    assert positions == {"Has a place": None, "First": None, "Second": 1, "Third": 2}
    with django_assert_num_queries(1):
        [found] = Booking.objects.filter(pk=third.pk).with_waitlist_position()
    assert found.waitlist_position == 2

    body = client.get(url(third)).content.decode()
    assert "You are 2nd on the waiting list." in body
    assert "Second" not in body and "second@example.org" not in body
    assert "You are 1st on the waiting list." in client.get(url(second)).content.decode()


def test_ordinals():
    from website.views import ordinal

    words = [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111)]
    assert words == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st", "111th"
    ]  # fmt: skip


def calendar_url(booking):
    return url(booking) + "walk.ics"


def test_add_to_calendar_downloads_her_event_and_is_never_stored(client):
    booking = make_booking(walk=make_walk(meeting_point="Brixton library steps"))
    page = client.get(url(booking)).content.decode()
    assert f'href="{calendar_url(booking)}"' in page
    assert "Add to calendar" in page

    response = client.get(calendar_url(booking))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="walk.ics"'
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    calendar = Calendar.from_ical(response.content)
    assert calendar["METHOD"] == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    assert event["UID"] == calendar_uid(booking)  # the event her emails add and update
    assert "Brixton library steps" in str(event["LOCATION"])
    assert "ATTENDEE" not in event


def test_a_discreet_booking_downloads_a_neutral_event(client):
    booking = make_booking(discreet_emails=True, walk=make_walk(title="Police walk in Lambeth"))
    content = client.get(calendar_url(booking)).content.decode()
    assert "police" not in content.replace("\r\n ", "").lower()


@pytest.mark.parametrize(
    "token",
    [
        "0" * 64,
        "walk",
        "x" * 200,
    ],
)
def test_a_wrong_token_downloads_nothing(client, token):
    make_booking()
    response = client.get(f"/bookings/manage/{token}/walk.ics")
    assert response.status_code == 404
    assert "no-store" in response["Cache-Control"]


def test_her_survey_token_downloads_nothing(client):
    booking = make_booking()
    response = client.get(f"/bookings/manage/{booking.survey_token()}/walk.ics")
    assert response.status_code == 404


@pytest.mark.parametrize("status", [Status.WAITLISTED, Status.CANCELLED])
def test_without_a_place_there_is_nothing_to_add_to_her_calendar(client, status):
    booking = make_booking(status=status)
    assert "Add to calendar" not in client.get(url(booking)).content.decode()
    assert client.get(calendar_url(booking)).status_code == 404


def test_the_cancel_button_asks_first_with_the_walks_details(client):
    booking = make_booking(walk=make_walk(meeting_point="Brixton library steps"))
    page = client.get(url(booking)).content.decode()
    assert re.search(
        r'<form method="get">\s*<input type="hidden" name="action" value="cancel">', page
    )

    response = client.get(url(booking) + "?action=cancel")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Are you sure?" in body
    assert "Brixton library steps" in body
    assert f'<form method="post" action="{url(booking)}"' in body
    assert "Yes, cancel my booking" in body
    assert "no-store" in response["Cache-Control"]
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED  # asking is not cancelling

    client.post(url(booking), {"action": "cancel"})
    booking.refresh_from_db()
    assert booking.status == Status.CANCELLED
    # Asked again once it is cancelled: her page, not the question.
    assert "Are you sure?" not in client.get(url(booking) + "?action=cancel").content.decode()


def test_the_cancelled_page_offers_other_walks_in_her_borough(client):
    from tests.factories import borough

    booking = make_booking(walk=make_walk(title="Walk she gave up"))
    make_walk(title="Next Lambeth walk")
    make_walk(title="Lambeth walk, called off", status=Walk.Status.CANCELLED)
    make_walk(title="Lambeth walk, already gone", starts_at=timezone.now() - timedelta(days=1))
    make_walk(title="Camden walk", borough=borough("camden"))
    client.post(url(booking), {"action": "cancel"})
    body = client.get(url(booking)).content.decode()
    assert "Other walks in Lambeth" in body
    assert "Next Lambeth walk" in body
    for absent in ("called off", "already gone", "Camden walk"):
        assert absent not in body
