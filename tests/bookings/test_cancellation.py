from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from bookings.models import Booking, Notification
from bookings.services import book_place, cancel_booking, cancel_walk, promote_waitlisted
from patrols.models import RosterAssignment, Walk
from tests.factories import make_assignment, make_booking, make_officer, make_walk

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
Status = Booking.Status


def book(walk, n):
    return book_place(walk=walk, full_name=f"Woman {n}", email=f"woman{n}@example.org")


def kinds(booking):
    return sorted(booking.notifications.values_list("kind", flat=True))


def test_cancelling_gives_back_her_place_drops_her_reminders_and_tells_her():
    walk = make_walk(capacity=2)
    booking = book(walk, 1)
    cancelled = cancel_booking(booking=booking)
    assert cancelled.status == Status.CANCELLED
    assert cancelled.cancelled_at is not None
    assert walk.places_left() == 2
    assert kinds(cancelled) == sorted([Kind.BOOKING_CONFIRMED, Kind.BOOKING_CANCELLED])


def test_a_reminder_already_sent_stays_as_history_when_she_cancels():
    booking = book(make_walk(), 1)
    booking.notifications.filter(kind=Kind.REMINDER_24H).update(sent_at=timezone.now())
    cancel_booking(booking=booking)
    assert booking.notifications.filter(kind=Kind.REMINDER_24H).exists()
    assert not booking.notifications.filter(kind=Kind.REMINDER_2H).exists()


def test_a_place_given_back_goes_to_the_first_on_the_waiting_list():
    walk = make_walk(capacity=1)
    holder = book(walk, 1)
    first, second = book(walk, 2), book(walk, 3)
    assert first.status == second.status == Status.WAITLISTED
    cancel_booking(booking=holder)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Status.CONFIRMED
    assert second.status == Status.WAITLISTED
    assert kinds(first) == sorted(
        [Kind.WAITLISTED, Kind.PROMOTED, Kind.REMINDER_24H, Kind.REMINDER_2H]
    )
    assert walk.places_left() == 0


def test_a_place_given_back_two_hours_or_less_before_the_walk_stays_free():
    walk = make_walk(capacity=1, starts_at=timezone.now() + timedelta(hours=2))
    holder = make_booking(walk=walk)
    waiting = make_booking(walk=walk, status=Status.WAITLISTED)
    cancel_booking(booking=holder)
    waiting.refresh_from_db()
    assert waiting.status == Status.WAITLISTED
    assert walk.places_left() == 1
    assert not waiting.notifications.exists()


def test_leaving_the_waiting_list_promotes_no_one():
    walk = make_walk(capacity=1)
    book(walk, 1)
    leaving, staying = book(walk, 2), book(walk, 3)
    cancel_booking(booking=leaving)
    staying.refresh_from_db()
    assert staying.status == Status.WAITLISTED
    assert kinds(leaving) == sorted([Kind.WAITLISTED, Kind.BOOKING_CANCELLED])


def test_a_booking_cannot_be_cancelled_twice():
    booking = book(make_walk(), 1)
    cancel_booking(booking=booking)
    with pytest.raises(ValidationError) as refused:
        cancel_booking(booking=booking)
    assert refused.value.code == "not_active"


def test_a_booking_cannot_be_cancelled_once_the_walk_has_started():
    walk = make_walk(starts_at=timezone.now() - timedelta(minutes=10))
    booking = make_booking(walk=walk)
    with pytest.raises(ValidationError) as refused:
        cancel_booking(booking=booking)
    assert refused.value.code == "walk_started"
    booking.refresh_from_db()
    assert booking.status == Status.CONFIRMED


def test_raising_capacity_then_promoting_fills_the_new_places_in_order():
    walk = make_walk(capacity=1)
    book(walk, 1)
    waiting = [book(walk, n) for n in (2, 3, 4)]
    Walk.objects.filter(pk=walk.pk).update(capacity=3)
    promoted = promote_waitlisted(walk=walk)
    assert [b.pk for b in promoted] == [waiting[0].pk, waiting[1].pk]
    waiting[2].refresh_from_db()
    assert waiting[2].status == Status.WAITLISTED


def test_the_police_cancelling_a_walk_cancels_and_tells_every_active_booking():
    walk = make_walk(capacity=1)
    confirmed, waiting = book(walk, 1), book(walk, 2)
    earlier = make_booking(walk=walk, status=Status.CANCELLED)
    officers = [make_officer(), make_officer()]
    for officer in officers:
        make_assignment(walk, officer)

    told = cancel_walk(walk=walk, reason="  Officers called to an emergency. ")

    assert told == 2
    walk.refresh_from_db()
    assert walk.status == Walk.Status.CANCELLED
    assert walk.cancel_reason == "Officers called to an emergency."
    for booking in (confirmed, waiting):
        booking.refresh_from_db()
        assert booking.status == Status.CANCELLED
        assert booking.notifications.filter(kind=Kind.WALK_CANCELLED).exists()
        assert not booking.notifications.filter(kind__in=[Kind.REMINDER_24H, Kind.REMINDER_2H])
    assert not earlier.notifications.exists()
    assert not RosterAssignment.objects.filter(walk=walk).exists()


def test_freed_officers_can_be_rostered_on_another_walk_at_that_time():
    walk = make_walk()
    officer = make_officer()
    make_assignment(walk, officer)
    cancel_walk(walk=walk, reason="Weather warning.")
    other = make_walk(starts_at=walk.starts_at)
    assert make_assignment(other, officer).pk


def test_cancelling_a_walk_needs_a_reason_and_happens_once():
    walk = make_walk()
    with pytest.raises(ValidationError) as refused:
        cancel_walk(walk=walk, reason="   ")
    assert refused.value.code == "reason_required"
    cancel_walk(walk=walk, reason="Weather warning.")
    with pytest.raises(ValidationError) as refused:
        cancel_walk(walk=walk, reason="Again.")
    assert refused.value.code == "already_cancelled"


def test_a_walk_that_has_taken_place_cannot_be_cancelled():
    walk = make_walk(starts_at=timezone.now() - timedelta(days=1), status=Walk.Status.COMPLETED)
    with pytest.raises(ValidationError) as refused:
        cancel_walk(walk=walk, reason="Too late.")
    assert refused.value.code == "walk_completed"
