from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from bookings.models import Booking, Notification
from bookings.services import book_place, change_walk
from patrols.models import RosterAssignment, Walk
from tests.factories import make_assignment, make_booking, make_officer, make_walk

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def book(walk, n):
    return book_place(walk=walk, full_name=f"Woman {n}", email=f"woman{n}@example.org")


def due(booking, kind):
    return booking.notifications.get(kind=kind).due_at


def test_moving_a_walk_later_replans_reminders_moves_the_roster_and_tells_everyone_booked():
    walk = make_walk(capacity=1)
    confirmed, waiting = book(walk, 1), book(walk, 2)
    gone = make_booking(walk=walk, status=Booking.Status.CANCELLED)
    assignment = make_assignment(walk, make_officer())
    later = walk.starts_at + timedelta(days=1)

    changed = change_walk(walk=walk, starts_at=later)

    assert changed.starts_at == later
    assert changed.ends_at == later + timedelta(minutes=90)  # the duration is kept
    assert due(confirmed, Kind.REMINDER_24H) == later - timedelta(hours=24)
    assert due(confirmed, Kind.REMINDER_2H) == later - timedelta(hours=2)
    assert not waiting.notifications.filter(kind=Kind.REMINDER_24H).exists()
    for booking in (confirmed, waiting):
        assert booking.notifications.filter(kind=Kind.WALK_CHANGED).exists()
    assert not gone.notifications.exists()
    assignment.refresh_from_db()
    assert (assignment.starts_at, assignment.ends_at) == (changed.starts_at, changed.ends_at)


def test_a_reminder_already_sent_goes_again_for_the_new_time():
    walk = make_walk()
    booking = book(walk, 1)
    booking.notifications.filter(kind=Kind.REMINDER_24H).update(sent_at=timezone.now())
    change_walk(walk=walk, starts_at=walk.starts_at + timedelta(days=2))
    reminder = booking.notifications.get(kind=Kind.REMINDER_24H)
    assert reminder.sent_at is None


def test_moving_a_walk_closer_drops_reminders_whose_moment_has_passed():
    walk = make_walk()
    booking = book(walk, 1)
    change_walk(walk=walk, starts_at=timezone.now() + timedelta(hours=5))
    kinds = set(booking.notifications.values_list("kind", flat=True))
    assert Kind.REMINDER_24H not in kinds
    assert Kind.REMINDER_2H in kinds


def test_a_new_meeting_point_tells_her_but_leaves_her_reminders_alone():
    walk = make_walk()
    booking = book(walk, 1)
    booking.notifications.filter(kind=Kind.REMINDER_24H).update(sent_at=timezone.now())
    changed = change_walk(walk=walk, meeting_point=" Brixton library steps ")
    assert changed.meeting_point == "Brixton library steps"
    assert booking.notifications.get(kind=Kind.REMINDER_24H).sent_at is not None
    assert booking.notifications.filter(kind=Kind.WALK_CHANGED).exists()


def test_a_second_change_re_arms_the_walk_changed_message():
    walk = make_walk()
    booking = book(walk, 1)
    change_walk(walk=walk, meeting_point="The library steps")
    booking.notifications.filter(kind=Kind.WALK_CHANGED).update(sent_at=timezone.now())
    change_walk(walk=walk, meeting_point="The clock tower")
    assert booking.notifications.get(kind=Kind.WALK_CHANGED).sent_at is None


def test_a_change_that_changes_nothing_tells_no_one():
    walk = make_walk()
    booking = book(walk, 1)
    change_walk(walk=walk, starts_at=walk.starts_at, meeting_point=walk.meeting_point)
    assert not booking.notifications.filter(kind=Kind.WALK_CHANGED).exists()


def test_a_move_that_puts_an_officer_on_two_walks_at_once_is_refused_and_nothing_changes():
    officer = make_officer()
    walk = make_walk()
    other = make_walk(starts_at=walk.starts_at + timedelta(days=1))
    make_assignment(walk, officer)
    make_assignment(other, officer)
    booking = book(walk, 1)
    with pytest.raises(ValidationError) as refused:
        change_walk(walk=walk, starts_at=other.starts_at + timedelta(minutes=30))
    assert refused.value.code == "officer_overlap"
    assert Walk.objects.get(pk=walk.pk).starts_at == walk.starts_at
    assert RosterAssignment.objects.get(walk=walk).starts_at == walk.starts_at
    assert not booking.notifications.filter(kind=Kind.WALK_CHANGED).exists()


def refused_code(walk, **change):
    with pytest.raises(ValidationError) as refused:
        change_walk(walk=walk, **change)
    return refused.value.code


def test_a_walk_must_end_after_it_starts():
    walk = make_walk()
    assert refused_code(walk, ends_at=walk.starts_at) == "ends_before_start"


def test_a_walk_cannot_be_moved_into_the_past():
    walk = make_walk()
    assert refused_code(walk, starts_at=timezone.now() - timedelta(hours=1)) == "in_the_past"


def test_a_walk_needs_a_meeting_point():
    assert refused_code(make_walk(), meeting_point="  ") == "meeting_point_required"


def test_a_cancelled_walk_cannot_be_changed():
    walk = make_walk(status=Walk.Status.CANCELLED)
    assert refused_code(walk, meeting_point="Elsewhere") == "not_scheduled"


def test_a_walk_that_has_started_cannot_be_changed():
    walk = make_walk(starts_at=timezone.now() - timedelta(minutes=10))
    assert refused_code(walk, meeting_point="Elsewhere") == "walk_started"
