"""A changed walk's email says what changed (as she knew it, and as it is now) and carries her
calendar event again, same UID, higher SEQUENCE. The clock is pinned: a winter evening."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from icalendar import Calendar

from bookings.delivery import deliver_notification
from bookings.models import Notification
from bookings.services import book_place, cancel_walk, change_walk
from tests.factories import make_walk

pytestmark = pytest.mark.django_db
Kind = Notification.Kind

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
SEVEN_PM = datetime(2026, 11, 5, 19, 0, tzinfo=UTC)  # GMT: 7pm in London


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def booking(clock):
    walk = make_walk(starts_at=SEVEN_PM, meeting_point="Albany Road gate")
    return book_place(walk=walk, full_name="Amira Begum", email="amira@example.org")


def send(booking, kind):
    row = booking.notifications.get(kind=kind)
    assert deliver_notification(notification_id=row.pk) == "sent"


def event_of(message):
    [(_, content, mimetype)] = message.attachments
    calendar = Calendar.from_ical(content)
    [event] = calendar.walk("VEVENT")
    return calendar, event, mimetype


def test_a_new_time_is_named_old_and_new_with_a_higher_sequence(booking, mailoutbox):
    send(booking, Kind.BOOKING_CONFIRMED)
    change_walk(walk=booking.walk, starts_at=SEVEN_PM + timedelta(minutes=30))
    send(booking, Kind.WALK_CHANGED)  # the same second: SEQUENCE still grows

    confirmed, changed = mailoutbox
    assert "Starts: was 7pm, now 7:30pm" in changed.body
    assert "Ends: was 8:30pm, now 9pm" in changed.body
    assert "Meeting point" not in changed.body.split("Walk:")[0]  # only what changed
    assert "was 7pm, now <strong>7:30pm</strong>" in changed.alternatives[0][0]
    _, old, _ = event_of(confirmed)
    calendar, new, mimetype = event_of(changed)
    assert calendar["METHOD"] == "REQUEST" and mimetype.startswith("text/calendar; method=REQUEST")
    assert new["UID"] == old["UID"]
    assert new.decoded("SEQUENCE") > old.decoded("SEQUENCE")


def test_a_new_meeting_point_is_named_old_and_new(booking, mailoutbox):
    change_walk(walk=booking.walk, meeting_point="Camberwell Road gate")
    send(booking, Kind.WALK_CHANGED)
    [changed] = mailoutbox
    assert "Meeting point: was Albany Road gate, now Camberwell Road gate" in changed.body
    assert "Starts:" not in changed.body


def test_several_changes_before_the_email_go_from_what_she_knew_to_what_is(booking, mailoutbox):
    change_walk(walk=booking.walk, starts_at=SEVEN_PM + timedelta(minutes=30))
    change_walk(walk=booking.walk, starts_at=SEVEN_PM + timedelta(days=1, hours=1))
    send(booking, Kind.WALK_CHANGED)
    [changed] = mailoutbox
    assert "Date: was Thursday 5 November 2026, now Friday 6 November 2026" in changed.body
    assert "Starts: was 7pm, now 8pm" in changed.body


def test_after_one_change_was_sent_the_next_starts_from_it(booking, mailoutbox):
    change_walk(walk=booking.walk, starts_at=SEVEN_PM + timedelta(minutes=30))
    send(booking, Kind.WALK_CHANGED)
    change_walk(walk=booking.walk, meeting_point="Camberwell Road gate")
    send(booking, Kind.WALK_CHANGED)
    first, second = mailoutbox
    assert "Starts: was 7pm, now 7:30pm" in first.body
    assert "Starts:" not in second.body  # she was told of the new time already
    assert "Meeting point: was Albany Road gate, now Camberwell Road gate" in second.body
    assert event_of(second)[1].decoded("SEQUENCE") > event_of(first)[1].decoded("SEQUENCE")


def test_a_change_and_back_says_nothing_changed_in_particular(booking, mailoutbox):
    change_walk(walk=booking.walk, meeting_point="Camberwell Road gate")
    change_walk(walk=booking.walk, meeting_point="Albany Road gate")
    send(booking, Kind.WALK_CHANGED)
    [changed] = mailoutbox
    assert " was " not in changed.body
    assert "Please check the time and the meeting point" in changed.body


def test_a_discreet_email_names_no_police_meeting_point(clock, mailoutbox):
    walk = make_walk(starts_at=SEVEN_PM, meeting_point="Albany Road gate")
    booking = book_place(
        walk=walk, full_name="Bea Jones", email="bea@example.org", discreet_emails=True
    )
    change_walk(walk=walk, meeting_point="Outside Walworth police station")
    send(booking, Kind.WALK_CHANGED)
    [changed] = mailoutbox
    assert "Meeting point: changed, see your booking page" in changed.body
    assert "Albany Road gate" not in changed.body


def test_only_a_new_time_or_place_raises_the_walks_sequence(booking):
    walk = booking.walk
    assert walk.sequence == 0
    walk = change_walk(walk=walk, capacity=12)
    assert walk.sequence == 0
    walk = change_walk(walk=walk, meeting_point="Camberwell Road gate")
    assert walk.sequence == 1
    walk = change_walk(walk=walk, starts_at=SEVEN_PM + timedelta(hours=1))
    assert walk.sequence == 2


def test_a_police_cancellation_still_takes_the_event_out_with_a_higher_sequence(
    booking, mailoutbox
):
    send(booking, Kind.BOOKING_CONFIRMED)
    cancel_walk(walk=booking.walk, reason="Officers needed elsewhere")
    send(booking, Kind.WALK_CANCELLED)
    confirmed, cancelled = mailoutbox
    calendar, event, mimetype = event_of(cancelled)
    assert calendar["METHOD"] == "CANCEL" and mimetype.startswith("text/calendar; method=CANCEL")
    assert event["UID"] == event_of(confirmed)[1]["UID"]
    assert event.decoded("SEQUENCE") > event_of(confirmed)[1].decoded("SEQUENCE")
