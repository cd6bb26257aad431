"""Reminders are rows with a due time that the beat sweep sends: at the right moment, exactly
once, across the clock changes, and following the walk when it moves or is called off."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from bookings.delivery import deliver_due_notifications
from bookings.models import Notification
from bookings.services import book_place, cancel_booking, cancel_walk, change_walk
from tests.factories import make_walk

pytestmark = pytest.mark.django_db
Kind = Notification.Kind
LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")
MINUTE = timedelta(minutes=1)


def beat(start: datetime, end: datetime, close_to: list[datetime]) -> None:
    """Run the sweep as beat would from `start` to `end`: every minute for five minutes either
    side of each moment in `close_to`, every hour elsewhere (to keep the test quick)."""
    moments = set()
    moment = start
    while moment <= end:
        moments.add(moment)
        moment += timedelta(hours=1)
    for target in close_to:
        moments.update(target + MINUTE * n for n in range(-5, 6))
    for moment in sorted(m for m in moments if start <= m <= end):
        with time_machine.travel(moment, tick=False):
            deliver_due_notifications()


def emails_of(kind: str) -> list:
    subjects = {
        Kind.REMINDER_24H: "Reminder: your walk is",
        Kind.REMINDER_2H: "Your walk starts at",
        Kind.WALK_CHANGED: "Your walk has changed",
        Kind.WALK_CANCELLED: "is cancelled",
        Kind.BOOKING_CONFIRMED: "place is booked",
    }
    return [message for message in mail.outbox if subjects[kind] in message.subject]


def book(walk, booked_at: datetime):
    with time_machine.travel(booked_at, tick=False):
        return book_place(walk=walk, full_name="Jo Bloggs", email="jo@example.org")


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


@pytest.mark.parametrize(
    ("walk_local", "reminder_24h_local", "reminder_2h_local"),
    [
        # Sunday 29 March 2026: the clocks go forward at 1am. 24 hours before 6:30pm BST is
        # 5:30pm GMT the day before.
        ("2026-03-29 18:30", "2026-03-28 17:30", "2026-03-29 16:30"),
        # Monday 30 March: the 24-hour reminder falls just after the change.
        ("2026-03-30 18:30", "2026-03-29 18:30", "2026-03-30 16:30"),
        # A morning walk that day: 9am BST is 8am GMT the day before, 24 real hours earlier.
        ("2026-03-29 09:00", "2026-03-28 08:00", "2026-03-29 07:00"),
        # Sunday 25 October 2026: the clocks go back at 2am. 24 hours before 6:30pm GMT is
        # 7:30pm BST the day before.
        ("2026-10-25 18:30", "2026-10-24 19:30", "2026-10-25 16:30"),
        ("2026-10-25 09:00", "2026-10-24 10:00", "2026-10-25 07:00"),
    ],
)
def test_reminders_go_out_at_the_right_moment_exactly_once_across_the_clock_changes(
    walk_local, reminder_24h_local, reminder_2h_local
):
    def london(text):
        # In UTC: arithmetic on London-zoned datetimes is wall-clock, not real, time.
        return datetime.fromisoformat(text).replace(tzinfo=LONDON).astimezone(UTC)

    starts = london(walk_local)
    walk = make_walk(starts_at=starts)
    booked_at = starts - timedelta(days=4)
    booking = book(walk, booked_at)
    due_24h, due_2h = london(reminder_24h_local), london(reminder_2h_local)
    # Exactly 24 and 2 real hours before the walk, however the clocks moved in between.
    assert starts - due_24h == timedelta(hours=24)
    assert starts - due_2h == timedelta(hours=2)

    beat(booked_at, due_24h - MINUTE, close_to=[due_24h])
    assert emails_of(Kind.REMINDER_24H) == []
    beat(due_24h, starts + timedelta(hours=1), close_to=[due_24h, due_2h])

    rows = {n.kind: n for n in booking.notifications.all()}
    assert utc(rows[Kind.REMINDER_24H].sent_at) == utc(due_24h)
    assert utc(rows[Kind.REMINDER_2H].sent_at) == utc(due_2h)
    [day_before] = emails_of(Kind.REMINDER_24H)
    [same_day] = emails_of(Kind.REMINDER_2H)
    clock = {"18:30": "6:30pm", "09:00": "9am"}[walk_local[-5:]]
    assert f"your walk is tomorrow at {clock}" in day_before.body
    assert f"Your walk starts at {clock} today" in same_day.body
    assert len(emails_of(Kind.BOOKING_CONFIRMED)) == 1


def test_retiming_a_walk_replans_its_reminders_for_the_new_time():
    # Saturday 24 October 6:30pm BST moves to Sunday 25 October 6:30pm GMT: 25 real hours later.
    old_start = utc(datetime(2026, 10, 24, 18, 30, tzinfo=LONDON))
    new_start = utc(datetime(2026, 10, 25, 18, 30, tzinfo=LONDON))
    assert new_start - old_start == timedelta(hours=25)
    walk = make_walk(starts_at=old_start)
    booked_at = old_start - timedelta(days=3)
    booking = book(walk, booked_at)
    with time_machine.travel(booked_at + timedelta(hours=1), tick=False):
        change_walk(walk=walk, starts_at=new_start)
    old_dues = [old_start - timedelta(hours=24), old_start - timedelta(hours=2)]
    new_dues = [new_start - timedelta(hours=24), new_start - timedelta(hours=2)]

    beat(booked_at, new_start, close_to=old_dues + new_dues)

    rows = {n.kind: n for n in booking.notifications.all()}
    assert utc(rows[Kind.REMINDER_24H].sent_at) == utc(new_dues[0])
    assert utc(rows[Kind.REMINDER_2H].sent_at) == utc(new_dues[1])
    assert len(emails_of(Kind.REMINDER_24H)) == 1
    assert len(emails_of(Kind.REMINDER_2H)) == 1
    [changed] = emails_of(Kind.WALK_CHANGED)
    assert "Sunday 25 October 2026, 6:30pm" in changed.body


def test_a_walk_moved_after_its_reminder_went_is_reminded_again_at_the_new_time():
    start = utc(datetime(2026, 3, 27, 18, 30, tzinfo=LONDON))
    later = utc(datetime(2026, 3, 30, 18, 30, tzinfo=LONDON))
    walk = make_walk(starts_at=start)
    booked_at = start - timedelta(days=3)
    booking = book(walk, booked_at)
    beat(booked_at, start - timedelta(hours=20), close_to=[start - timedelta(hours=24)])
    assert len(emails_of(Kind.REMINDER_24H)) == 1

    with time_machine.travel(start - timedelta(hours=20), tick=False):
        change_walk(walk=walk, starts_at=later)
    beat(start - timedelta(hours=20), later, close_to=[later - timedelta(hours=24)])

    reminders = emails_of(Kind.REMINDER_24H)
    assert len(reminders) == 2
    assert "Monday 30 March 2026, 6:30pm" in reminders[1].body
    row = booking.notifications.get(kind=Kind.REMINDER_24H)
    assert utc(row.sent_at) == utc(later - timedelta(hours=24))


def test_cancelling_a_walk_drops_its_reminders_and_tells_her_once():
    start = utc(datetime(2026, 3, 29, 18, 30, tzinfo=LONDON))
    walk = make_walk(starts_at=start)
    booked_at = start - timedelta(days=3)
    book(walk, booked_at)
    beat(booked_at, booked_at + timedelta(hours=1), close_to=[])
    with time_machine.travel(booked_at + timedelta(hours=2), tick=False):
        cancel_walk(walk=walk, reason="Not enough officers that evening.")
    beat(booked_at + timedelta(hours=2), start + timedelta(hours=1), close_to=[])

    assert emails_of(Kind.REMINDER_24H) == emails_of(Kind.REMINDER_2H) == []
    [cancelled] = emails_of(Kind.WALK_CANCELLED)
    assert "Not enough officers that evening." in cancelled.body
    assert cancelled.attachments[0][2].startswith("text/calendar; method=CANCEL")


def test_cancelling_her_booking_drops_her_reminders():
    start = timezone.now() + timedelta(days=3)
    walk = make_walk(starts_at=start)
    booked_at = timezone.now()
    booking = book(walk, booked_at)
    with time_machine.travel(booked_at + timedelta(minutes=1), tick=False):
        cancel_booking(booking=booking)
    beat(booked_at + timedelta(minutes=1), start, close_to=[])
    assert emails_of(Kind.REMINDER_24H) == emails_of(Kind.REMINDER_2H) == []
    assert not booking.notifications.filter(kind__startswith="reminder").exists()
