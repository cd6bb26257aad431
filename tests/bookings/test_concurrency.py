import threading

import pytest
from django.db import connection

from bookings.models import Booking, Notification
from bookings.services import book_place, cancel_booking
from tests.factories import make_walk


def run_at_once(count, target):
    """Start `count` threads that call target(n) at the same moment, each on its own
    database connection, and return what each raised."""
    barrier = threading.Barrier(count)
    errors = []

    def run(n):
        try:
            barrier.wait()
            target(n)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_thirty_simultaneous_bookings_for_five_places_give_five_confirmed_and_25_waitlisted():
    walk = make_walk(capacity=5)

    errors = run_at_once(
        30,
        lambda n: book_place(walk=walk, full_name=f"Woman {n}", email=f"woman{n}@example.org"),
    )

    assert errors == []
    bookings = Booking.objects.filter(walk=walk)
    assert bookings.filter(status=Booking.Status.CONFIRMED).count() == 5
    assert bookings.filter(status=Booking.Status.WAITLISTED).count() == 25
    assert Notification.objects.filter(kind="booking_confirmed").count() == 5
    assert Notification.objects.filter(kind="waitlisted").count() == 25


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_woman_booking_twice_at_once_holds_one_booking():
    walk = make_walk(capacity=5)
    errors = run_at_once(
        8, lambda n: book_place(walk=walk, full_name="Amira", email="Amira@example.org")
    )
    assert errors == []
    assert Booking.objects.filter(walk=walk).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_places_given_back_at_once_go_to_the_waiting_list_without_overfilling():
    walk = make_walk(capacity=3)
    bookings = [
        book_place(walk=walk, full_name=f"Woman {n}", email=f"woman{n}@example.org")
        for n in range(8)
    ]
    holders = bookings[:3]

    errors = run_at_once(3, lambda n: cancel_booking(booking=holders[n]))

    assert errors == []
    confirmed = Booking.objects.filter(walk=walk, status=Booking.Status.CONFIRMED)
    assert sorted(confirmed.values_list("pk", flat=True)) == [b.pk for b in bookings[3:6]]
