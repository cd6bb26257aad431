from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from bookings.models import Booking, Notification
from bookings.services import REPEAT_BOOKING_KEY, book_place
from patrols.models import Walk
from tests.factories import make_booking, make_walk

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


def book(walk, email="amira@example.org", **fields):
    return book_place(walk=walk, full_name="Amira Begum", email=email, **fields)


def kinds(booking):
    return sorted(booking.notifications.values_list("kind", flat=True))


def test_a_walk_with_places_confirms_her_booking_and_plans_both_reminders():
    walk = make_walk(capacity=3)
    booking = book(walk, phone="07700 900982", topics="The station", discreet_emails=True)
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.screen_status == Booking.Status.CONFIRMED
    assert (booking.phone, booking.topics, booking.discreet_emails) == (
        "07700 900982",
        "The station",
        True,
    )
    assert kinds(booking) == sorted([Kind.BOOKING_CONFIRMED, Kind.REMINDER_24H, Kind.REMINDER_2H])
    due = {n.kind: n.due_at for n in booking.notifications.all()}
    assert due[Kind.REMINDER_24H] == walk.starts_at - timedelta(hours=24)
    assert due[Kind.REMINDER_2H] == walk.starts_at - timedelta(hours=2)


def test_the_confirmation_is_published_after_commit_and_the_reminders_wait(
    django_capture_on_commit_callbacks, monkeypatch
):
    published = []
    monkeypatch.setattr("bookings.services.publish_notification", published.append)
    walk = make_walk()
    with django_capture_on_commit_callbacks() as callbacks:
        booking = book(walk)
    assert published == []  # nothing before the commit
    for callback in callbacks:  # the page cache's own callbacks run too
        callback()
    # The confirmation; reminders wait for the sweep.
    assert published == [booking.notifications.get(kind=Kind.BOOKING_CONFIRMED).pk]


def test_a_full_walk_puts_her_on_the_waiting_list_without_reminders():
    walk = make_walk(capacity=1)
    make_booking(walk=walk)
    booking = book(walk)
    assert booking.status == Booking.Status.WAITLISTED
    assert booking.screen_status == Booking.Status.WAITLISTED
    assert kinds(booking) == [Kind.WAITLISTED]


def test_booking_three_hours_before_the_walk_plans_only_the_two_hour_reminder():
    walk = make_walk(starts_at=timezone.now() + timedelta(hours=3))
    assert kinds(book(walk)) == sorted([Kind.BOOKING_CONFIRMED, Kind.REMINDER_2H])


def test_booking_an_hour_before_the_walk_plans_no_reminder():
    walk = make_walk(starts_at=timezone.now() + timedelta(hours=1))
    assert kinds(book(walk)) == [Kind.BOOKING_CONFIRMED]


def test_her_details_are_stored_without_surrounding_spaces():
    booking = book(make_walk(), email="  amira@example.org ")
    assert booking.email == "amira@example.org"


def test_booking_again_with_the_same_email_writes_nothing_but_an_email_about_her_booking():
    walk = make_walk(capacity=2)
    first = book(walk, email="Amira@Example.org")
    counts = (Booking.objects.count(), Notification.objects.count())
    again = book_place(walk=walk, full_name="Someone Else", email="amira@example.ORG ")
    assert again.pk == first.pk
    again.refresh_from_db()
    assert again.full_name == "Amira Begum"
    assert Booking.objects.count() == counts[0]
    assert Notification.objects.count() == counts[1] + 1
    assert again.notifications.get(kind=Kind.MANAGE_LINK).key == REPEAT_BOOKING_KEY


def test_a_repeat_on_a_full_walk_shows_what_a_newcomer_would_see_not_her_place():
    walk = make_walk(capacity=1)
    first = book(walk)
    again = book(walk)
    assert first.status == again.status == Booking.Status.CONFIRMED
    assert again.screen_status == Booking.Status.WAITLISTED


def test_repeated_attempts_in_quick_succession_send_her_one_email():
    walk = make_walk()
    booking = book(walk)
    book(walk)
    sent = booking.notifications.get(kind=Kind.MANAGE_LINK)
    sent.sent_at = timezone.now()
    sent.save()
    book(walk)
    sent.refresh_from_db()
    assert sent.sent_at is not None  # not re-armed inside the spacing


def test_after_cancelling_she_can_book_the_same_walk_again():
    walk = make_walk()
    make_booking(walk=walk, email="amira@example.org", status=Booking.Status.CANCELLED)
    assert book(walk).status == Booking.Status.CONFIRMED
    assert Booking.objects.filter(walk=walk).count() == 2


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"status": Walk.Status.CANCELLED}, "walk_cancelled"),
        ({"status": Walk.Status.COMPLETED}, "walk_started"),
        ({"starts_at": timezone.now() - timedelta(minutes=5)}, "walk_started"),
        ({"kind": Walk.Kind.ROUTE}, "route_walk"),
    ],
)
def test_a_walk_that_is_not_bookable_is_refused_and_nothing_is_written(fields, code):
    walk = make_walk(**fields)
    with pytest.raises(ValidationError) as refused:
        book(walk)
    assert refused.value.code == code
    assert not Booking.objects.exists()
    assert not Notification.objects.exists()
