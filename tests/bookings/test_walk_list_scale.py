"""The walk list at launch scale (docs/benchmarks.md, Pages): the page counts places only for
the walks it shows, so its cost does not grow with the number of upcoming walks."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.models import Booking
from patrols.models import Walk
from tests.factories import make_assignment, make_booking, make_officer, make_walk

pytestmark = pytest.mark.django_db


def busy_walks(count: int) -> list[Walk]:
    walks = []
    for n in range(count):
        walk = make_walk(capacity=2)
        make_assignment(walk, make_officer())
        make_booking(walk=walk)
        if n % 2:
            make_booking(walk=walk)
            make_booking(walk=walk, status=Booking.Status.WAITLISTED)
        walks.append(walk)
    return walks


def list_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/walks/")
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.querycount
def test_the_walk_list_never_joins_bookings_or_roster_across_every_upcoming_walk(client):
    busy_walks(3)
    for sql in list_queries(client):
        # Joining them and grouping made PostgreSQL count every upcoming walk's bookings for
        # the list and again for the paginator; counts are now subqueries for the page's rows.
        assert 'JOIN "bookings_booking"' not in sql
        assert 'JOIN "patrols_rosterassignment"' not in sql


@pytest.mark.querycount
def test_the_walk_list_costs_the_same_queries_for_three_walks_as_for_thirty(client):
    busy_walks(3)
    few = list_queries(client)
    busy_walks(27)
    many = list_queries(client)
    assert len(many) == len(few)


def test_places_on_the_list_are_counted_per_walk(client):
    full, open_walk = busy_walks(2)[::-1]
    response = client.get("/walks/")
    page = response.content.decode()
    assert "Full: you can join the waiting list" in page  # the walk with 2 of 2 places taken
    assert "1 place left" in page
    counted = {w.pk: w for w in Walk.objects.with_counts()}
    assert (counted[full.pk].booked, counted[full.pk].waitlisted) == (2, 1)
    assert (counted[open_walk.pk].booked, counted[open_walk.pk].officer_count) == (1, 1)


def test_walks_short_of_officers_are_still_found_by_their_count():
    short, staffed = busy_walks(2)
    make_assignment(staffed, make_officer())
    assert list(Walk.objects.with_counts().filter(officer_count__lt=2)) == [short]
    assert list(Walk.objects.with_counts().order_by("-officer_count", "pk")) == [staffed, short]
