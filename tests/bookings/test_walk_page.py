from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patrols.models import Walk
from tests.factories import make_assignment, make_booking, make_officer, make_walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def june(time_machine):
    time_machine.move_to(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))


def page(client, walk):
    response = client.get(f"/walks/{walk.code}/")
    return response, response.content.decode()


def test_the_walk_page_gives_meeting_point_london_time_duration_and_places(client, june):
    walk = make_walk(
        starts_at=datetime(2026, 12, 21, 18, 30, tzinfo=UTC),
        meeting_point="Brixton station, Brixton Road exit",
        route_notes="A loop of about 2 km.",
        capacity=6,
    )
    make_booking(walk=walk)
    response, body = page(client, walk)
    assert response.status_code == 200
    assert "Monday 21 December 2026" in body
    assert "6:30pm to 8pm (1 hour 30 minutes)" in body
    assert "Brixton station, Brixton Road exit" in body
    assert "Lambeth (Central South BCU)" in body
    assert "A loop of about 2 km." in body
    assert "5 places left" in body
    assert f'href="/walks/{walk.code}/book/"' in body


def test_the_walk_page_gives_sunset_that_day_and_whether_it_will_be_dark(client, june):
    # London: sunset 3:53pm on the winter solstice, 9:21pm (BST) on the summer one.
    winter = make_walk(starts_at=datetime(2026, 12, 21, 18, 30, tzinfo=UTC))
    summer = make_walk(starts_at=datetime(2026, 6, 21, 18, 30, tzinfo=UTC))
    _, body = page(client, winter)
    assert "3:53pm that day" in body
    assert "It will be dark for the whole walk." in body
    _, body = page(client, summer)
    assert "9:21pm that day" in body
    assert "It will be light for the whole walk." in body


def test_an_early_morning_walk_also_gives_sunrise(client, june):
    walk = make_walk(starts_at=datetime(2026, 12, 21, 7, 0, tzinfo=UTC))
    _, body = page(client, walk)
    assert "Sunrise" in body
    assert "8:04am that day" in body
    assert "It will be dark when the walk starts and light by the end." in body


def test_a_full_walk_offers_the_waiting_list(client):
    walk = make_walk(capacity=1)
    make_booking(walk=walk)
    _, body = page(client, walk)
    assert "This walk is full" in body
    assert "Join the waiting list" in body


def test_a_cancelled_walk_says_so_with_the_reason_and_cannot_be_booked(client):
    walk = make_walk(status=Walk.Status.CANCELLED, cancel_reason="Weather warning.")
    _, body = page(client, walk)
    assert "This walk has been cancelled" in body
    assert "Weather warning." in body
    assert "/book/" not in body


def test_a_past_walk_says_it_has_taken_place_and_cannot_be_booked(client):
    walk = make_walk(starts_at=timezone.now() - timedelta(days=2))
    _, body = page(client, walk)
    assert "This walk has taken place" in body
    assert "/book/" not in body


def test_a_walk_on_her_route_is_not_public(client):
    walk = make_walk(kind=Walk.Kind.ROUTE)
    assert page(client, walk)[0].status_code == 404


def test_an_unknown_walk_is_a_404(client):
    assert client.get("/walks/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get("/walks/not-a-code/").status_code == 404


@pytest.mark.querycount
def test_the_walk_page_takes_the_same_number_of_queries_however_many_bookings_and_walks(client):
    walk = make_walk(capacity=30)
    with CaptureQueriesContext(connection) as few:
        page(client, walk)
    for _ in range(20):
        make_booking(walk=walk)
        make_walk()
    make_assignment(walk, make_officer())
    with CaptureQueriesContext(connection) as many:
        page(client, walk)
    assert len(many) == len(few) <= 2
