from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings.models import Booking
from patrols.models import Walk
from tests.factories import borough, make_assignment, make_booking, make_officer, make_walk

pytestmark = pytest.mark.django_db


def titles(response):
    return [walk.title for walk in response.context["page"]]


def test_the_list_shows_upcoming_group_walks_soonest_first(client):
    now = timezone.now()
    later = make_walk(title="Later", starts_at=now + timedelta(days=5))
    sooner = make_walk(title="Sooner", starts_at=now + timedelta(days=1))
    make_walk(title="Past", starts_at=now - timedelta(days=1))
    make_walk(title="Cancelled", status=Walk.Status.CANCELLED)
    make_walk(title="Her route", kind=Walk.Kind.ROUTE)
    response = client.get("/walks/")
    assert response.status_code == 200
    assert titles(response) == [sooner.title, later.title]


def test_each_walk_shows_its_london_time_meeting_point_and_places_left(client, time_machine):
    time_machine.move_to(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    winter = make_walk(
        starts_at=datetime(2026, 12, 1, 18, 30, tzinfo=UTC),
        capacity=3,
        meeting_point="Brixton library steps",
    )
    make_walk(starts_at=datetime(2026, 7, 1, 18, 30, tzinfo=UTC))  # BST: 7:30pm in London
    make_booking(walk=winter)
    body = client.get("/walks/").content.decode()
    assert "Tuesday 1 December 2026, 6:30pm to 8pm" in body
    assert "Wednesday 1 July 2026, 7:30pm to 9pm" in body
    assert "Brixton library steps" in body
    assert "2 places left" in body


def test_a_full_walk_is_listed_with_its_waiting_list(client):
    walk = make_walk(capacity=1)
    make_booking(walk=walk)
    assert "Full: you can join the waiting list" in client.get("/walks/").content.decode()


def test_she_can_choose_her_borough_and_is_told_which_bcu_covers_it(client):
    make_walk(title="In Lambeth", borough=borough("lambeth"))
    make_walk(title="In Southwark", borough=borough("southwark"))
    make_walk(title="In Camden", borough=borough("camden"))
    response = client.get("/walks/?borough=lambeth")
    assert titles(response) == ["In Lambeth"]
    body = response.content.decode()
    assert "Lambeth is covered by the Central South police area (BCU)" in body
    assert "together with Southwark" in body
    assert 'href="?bcu=AS"' in body


def test_she_can_choose_a_bcu(client):
    make_walk(title="In Lambeth", borough=borough("lambeth"))
    make_walk(title="In Southwark", borough=borough("southwark"))
    make_walk(title="In Camden", borough=borough("camden"))
    assert sorted(titles(client.get("/walks/?bcu=AS"))) == ["In Lambeth", "In Southwark"]


def test_a_borough_outside_the_chosen_bcu_says_where_it_is(client):
    make_walk(borough=borough("lambeth"))
    response = client.get("/walks/?bcu=AW&borough=lambeth")
    assert titles(response) == []
    assert "Lambeth is in the Central South police area, not Central West" in (
        response.content.decode()
    )


def test_the_bcu_choices_name_their_boroughs(client):
    body = client.get("/walks/").content.decode()
    assert "Central South (Lambeth, Southwark)" in body


def test_an_unknown_filter_is_answered_with_an_error_summary_and_400(client):
    response = client.get("/walks/?borough=atlantis&bcu=%00")
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="error-summary"' in body
    assert 'href="#id_borough"' in body
    assert "Choose a borough from the list" in body


def test_no_walks_in_her_borough_points_to_the_rest_of_its_bcu_and_to_route_requests(client):
    make_walk(borough=borough("southwark"))
    body = client.get("/walks/?borough=lambeth").content.decode()
    assert "There are no walks in Lambeth open for booking" in body
    assert "look for walks elsewhere in Central South" in body
    assert 'href="/request/"' in body


def test_the_list_is_paginated_and_the_pages_keep_the_filter(client):
    start = timezone.now() + timedelta(days=1)
    for n in range(25):
        make_walk(borough=borough("lambeth"), starts_at=start + timedelta(hours=n))
    first = client.get("/walks/?borough=lambeth")
    assert len(first.context["page"].object_list) == 20
    body = first.content.decode()
    assert "Page 1 of 2" in body
    assert 'href="?borough=lambeth&amp;page=2"' in body
    second = client.get("/walks/?borough=lambeth&page=2")
    assert len(second.context["page"].object_list) == 5
    assert client.get("/walks/?page=banana").status_code == 200


def test_the_nav_marks_find_a_walk_as_the_current_page(client):
    body = client.get("/walks/").content.decode()
    assert 'href="/walks/" aria-current="page">Find a walk</a>' in body


def queries_for_list(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def add_walks(count):
    for n in range(count):
        walk = make_walk(borough=borough("lambeth"), capacity=2)
        make_booking(walk=walk)
        if n % 2:
            make_booking(walk=walk, status=Booking.Status.WAITLISTED)
        make_assignment(walk, make_officer())


@pytest.mark.querycount
@pytest.mark.parametrize("url", ["/walks/", "/walks/?borough=lambeth", "/walks/?bcu=AS"])
def test_the_list_takes_the_same_number_of_queries_for_2_walks_or_20(client, url):
    add_walks(2)
    few = queries_for_list(client, url)
    add_walks(18)
    assert queries_for_list(client, url) == few
    assert few <= 4
