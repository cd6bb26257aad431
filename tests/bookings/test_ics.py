"""The calendar file: parses, has the right start, and later emails update the same event."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from icalendar import Calendar

from bookings.delivery import deliver_notification
from bookings.emails import build_message
from bookings.models import Booking, Notification
from bookings.services import queue_notification
from tests.factories import make_booking, make_walk

pytestmark = pytest.mark.django_db
Kind = Notification.Kind


def queue(**kwargs) -> Notification:
    with transaction.atomic():
        return queue_notification(**kwargs)


def calendar_of(message) -> tuple[Calendar, str]:
    [(filename, content, mimetype)] = message.attachments
    assert filename == "walk.ics"
    return Calendar.from_ical(content), mimetype


def event_of(calendar: Calendar):
    [event] = calendar.walk("VEVENT")
    return event


@pytest.mark.parametrize(
    ("starts_utc", "local_clock"),
    [
        (datetime(2026, 7, 1, 17, 30, tzinfo=UTC), "18:30"),  # BST
        (datetime(2026, 12, 1, 18, 30, tzinfo=UTC), "18:30"),  # GMT
        (datetime(2026, 3, 29, 17, 30, tzinfo=UTC), "18:30"),  # the day the clocks go forward
        (datetime(2026, 10, 25, 18, 30, tzinfo=UTC), "18:30"),  # the day they go back
    ],
)
def test_the_confirmation_ics_parses_and_starts_at_the_walks_time(starts_utc, local_clock):
    with time_machine.travel(starts_utc - timedelta(days=5), tick=False):
        booking = make_booking(walk=make_walk(starts_at=starts_utc))
        message = build_message(queue(kind=Kind.BOOKING_CONFIRMED, booking=booking))
    calendar, mimetype = calendar_of(message)
    assert mimetype.startswith("text/calendar; method=REQUEST")
    assert calendar["METHOD"] == "REQUEST"
    event = event_of(calendar)
    start = event.decoded("DTSTART")
    assert start.astimezone(UTC) == starts_utc
    assert event.decoded("DTEND").astimezone(UTC) == starts_utc + timedelta(minutes=90)
    # Wall-clock London time, with the zone's rules in the file for any calendar program.
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert f"{start:%H:%M}" == local_clock
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]
    assert "Brixton station" in str(event["LOCATION"])
    assert str(event["ORGANIZER"]).startswith("mailto:")


def test_a_change_replaces_the_event_the_confirmation_put_in_her_calendar():
    now = timezone.now()
    walk = make_walk(
        starts_at=(now + timedelta(days=3)).replace(minute=30, second=0, microsecond=0)
    )
    booking = make_booking(walk=walk)
    first = build_message(queue(kind=Kind.BOOKING_CONFIRMED, booking=booking), now=now)

    later = now + timedelta(hours=5)
    walk.starts_at += timedelta(hours=1)
    walk.ends_at += timedelta(hours=1)
    walk.save()
    booking = Booking.objects.get(pk=booking.pk)
    changed = build_message(queue(kind=Kind.WALK_CHANGED, booking=booking), now=later)

    old, new = event_of(calendar_of(first)[0]), event_of(calendar_of(changed)[0])
    assert old["UID"] == new["UID"]
    assert str(walk.code) in new["UID"] and booking.reference in new["UID"]
    assert new.decoded("SEQUENCE") > old.decoded("SEQUENCE")
    assert new.decoded("DTSTART").astimezone(UTC) == walk.starts_at.astimezone(UTC)
    assert calendar_of(changed)[0]["METHOD"] == "REQUEST"


def test_a_cancellation_removes_the_event_it_had_sent():
    now = timezone.now()
    booking = make_booking(walk=make_walk(starts_at=now + timedelta(days=3)))
    confirmed = queue(kind=Kind.BOOKING_CONFIRMED, booking=booking)
    assert deliver_notification(notification_id=confirmed.pk) == "sent"
    first = build_message(confirmed, now=now)

    booking.status, booking.cancelled_at = Booking.Status.CANCELLED, now
    booking.save()
    cancelled = build_message(
        queue(kind=Kind.BOOKING_CANCELLED, booking=booking), now=now + timedelta(minutes=1)
    )
    calendar, mimetype = calendar_of(cancelled)
    assert mimetype.startswith("text/calendar; method=CANCEL")
    assert calendar["METHOD"] == "CANCEL"
    event = event_of(calendar)
    assert event["STATUS"] == "CANCELLED"
    assert event["UID"] == event_of(calendar_of(first)[0])["UID"]
    assert event.decoded("SEQUENCE") > event_of(calendar_of(first)[0]).decoded("SEQUENCE")


def test_no_cancellation_file_when_no_event_was_ever_sent():
    booking = make_booking(status=Booking.Status.CANCELLED)
    message = build_message(queue(kind=Kind.BOOKING_CANCELLED, booking=booking))
    assert message.attachments == []


def test_the_waiting_list_email_adds_nothing_to_her_calendar():
    booking = make_booking(status=Booking.Status.WAITLISTED)
    assert build_message(queue(kind=Kind.WAITLISTED, booking=booking)).attachments == []


def test_in_discreet_mode_the_calendar_entry_is_neutral():
    walk = make_walk(title="Police walk in Brixton", meeting_point="Brixton Police Station")
    booking = make_booking(walk=walk, discreet_emails=True)
    message = build_message(queue(kind=Kind.BOOKING_CONFIRMED, booking=booking))
    [(_, content, _)] = message.attachments
    event = event_of(Calendar.from_ical(content))
    assert str(event["SUMMARY"]) == "Walk"
    assert "police" not in str(content).replace("\r\n ", "").lower()
