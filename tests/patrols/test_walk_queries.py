from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking
from patrols.models import Walk
from tests.factories import bcu, borough, make_assignment, make_booking, make_officer, make_walk

pytestmark = pytest.mark.django_db


def test_upcoming_bookable_walks_are_scheduled_group_walks_in_the_future():
    soon = make_walk()
    make_walk(starts_at=timezone.now() - timedelta(hours=1))
    make_walk(status=Walk.Status.CANCELLED)
    make_walk(kind=Walk.Kind.ROUTE)
    assert list(Walk.objects.upcoming().bookable()) == [soon]


def test_walks_in_a_bcu_and_all_london():
    lambeth = make_walk()
    westminster = make_walk(borough=borough("westminster"))
    assert list(Walk.objects.in_bcu(bcu("AS"))) == [lambeth]
    assert set(Walk.objects.in_bcu(None)) == {lambeth, westminster}


def test_places_left_counts_confirmed_places_only():
    walk = make_walk(capacity=3)
    make_booking(walk=walk)
    make_booking(walk=walk, status=Booking.Status.WAITLISTED)
    make_booking(walk=walk, status=Booking.Status.CANCELLED)
    assert walk.places_left() == 2
    annotated = Walk.objects.with_counts().get(pk=walk.pk)
    assert (annotated.booked, annotated.waitlisted, annotated.places_left()) == (1, 1, 2)


def test_counts_are_not_multiplied_by_the_roster():
    walk = make_walk()
    make_booking(walk=walk)
    make_booking(walk=walk)
    make_assignment(walk, make_officer())
    make_assignment(walk, make_officer())
    annotated = Walk.objects.with_counts().get(pk=walk.pk)
    assert (annotated.booked, annotated.officer_count) == (2, 2)
    assert annotated.officers_needed() == 0


def test_a_walk_with_one_officer_needs_another(settings):
    settings.WALK_MIN_OFFICERS = 2
    walk = make_walk()
    make_assignment(walk, make_officer())
    assert walk.officers_needed() == 1


def test_a_started_walk_is_not_bookable():
    walk = make_walk()
    assert walk.is_bookable()
    assert not walk.is_bookable(now=walk.starts_at)
