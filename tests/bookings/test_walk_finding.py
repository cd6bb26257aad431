"""Finding a walk: the date filter (`from`), walks sorted by distance from her position
(`near`, never kept nor logged) and a walk's meeting point opened in maps."""

import io
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import borough, make_booking, make_walk
from walkandtalk.logs import ScrubFilter, scrub
from website.views import about_distance

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
# Kennington (about 51.49, -0.11), Brixton (51.46, -0.11), Camberwell (51.47, -0.09).
BRIXTON = {"meeting_lat": Decimal("51.462"), "meeting_lng": Decimal("-0.114")}
CAMBERWELL = {"meeting_lat": Decimal("51.474"), "meeting_lng": Decimal("-0.093")}
KENNINGTON = {"meeting_lat": Decimal("51.488"), "meeting_lng": Decimal("-0.106")}


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


def titles(response):
    return [walk.title for walk in response.context["page"]]


def test_from_shows_walks_on_or_after_that_london_day(client):
    make_walk(title="Tuesday", starts_at=datetime(2026, 6, 2, 18, tzinfo=UTC))
    # 11:30pm UTC on the 2nd is 12:30am on the 3rd in London (BST).
    make_walk(title="Just after midnight", starts_at=datetime(2026, 6, 2, 23, 30, tzinfo=UTC))
    make_walk(title="Thursday", starts_at=datetime(2026, 6, 4, 18, tzinfo=UTC))
    response = client.get("/walks/?from=2026-06-03")
    assert response.status_code == 200
    assert titles(response) == ["Just after midnight", "Thursday"]
    body = response.content.decode()
    assert 'value="2026-06-03"' in body
    assert "from Wednesday 3 June" in body


@pytest.mark.parametrize("value", ["2026-02-30", "tomorrow", "03/06/2026", "9" * 300])
def test_a_bad_date_is_the_forms_error_not_a_crash(client, value):
    make_walk(title="Tuesday", starts_at=datetime(2026, 6, 2, 18, tzinfo=UTC))
    response = client.get("/walks/", {"from": value})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a real date, like 2026-06-01" in body
    assert titles(response) == ["Tuesday"]


def test_near_sorts_by_distance_with_walks_without_a_position_last(client):
    start = NOW + timedelta(days=1)
    make_walk(title="No position", starts_at=start)
    make_walk(title="Kennington", starts_at=start + timedelta(hours=1), **KENNINGTON)
    make_walk(title="Camberwell", starts_at=start + timedelta(hours=2), **CAMBERWELL)
    make_walk(title="Brixton", starts_at=start + timedelta(hours=3), **BRIXTON)
    response = client.get("/walks/?near=51.46,-0.11")
    assert response.status_code == 200
    assert titles(response) == ["Brixton", "Camberwell", "Kennington", "No position"]
    body = response.content.decode()
    assert "nearest first" in body
    assert "About 400 m away" in body  # Brixton: 0.4 km
    assert "About 2 km away" in body  # Camberwell
    assert "About 3.1 km away" in body  # Kennington
    # Without near: soonest first, and no distances.
    plain = client.get("/walks/")
    assert titles(plain) == ["No position", "Kennington", "Camberwell", "Brixton"]
    assert "away" not in plain.content.decode()


def test_the_distance_is_worded_for_a_person():
    assert about_distance(0.05) == "less than 100 m away"
    assert about_distance(0.43) == "about 400 m away"
    assert about_distance(1.23) == "about 1.2 km away"
    assert about_distance(0.97) == "about 1 km away"
    assert about_distance(12.04) == "about 12 km away"


def test_near_keeps_the_other_filters_and_the_pages_keep_it(client):
    start = NOW + timedelta(days=1)
    for n in range(22):
        make_walk(borough=borough("lambeth"), starts_at=start + timedelta(hours=n), **BRIXTON)
    make_walk(borough=borough("southwark"), title="Southwark", starts_at=start, **BRIXTON)
    response = client.get("/walks/?borough=lambeth&near=51.4612,-0.1149")
    # More decimals than the browser sends are refused: no page holds a finer position.
    assert response.status_code == 400
    response = client.get("/walks/?borough=lambeth&near=51.46,-0.11&from=2026-06-02")
    body = response.content.decode()
    assert "Southwark" not in titles(response)
    assert 'href="?borough=lambeth&amp;from=2026-06-02&amp;near=51.46%2C-0.11&amp;page=2"' in body
    assert '<input type="hidden" name="near" value="51.46,-0.11"' in body
    assert 'href="?borough=lambeth&amp;from=2026-06-02">Show soonest first</a>' in body


@pytest.mark.parametrize(
    "value", ["91,0", "51.46,181", "51.46", "51.46;-0.11", "abc,def", "51.46,-0.11,3", "1" * 40]
)
def test_a_bad_position_is_an_error_message_not_a_crash(client, value):
    make_walk(title="Tuesday", **BRIXTON)
    response = client.get("/walks/", {"near": value})
    assert response.status_code == 400
    assert "We could not read your position" in response.content.decode()
    assert titles(response) == ["Tuesday"]


def test_a_page_with_her_position_is_never_kept_nor_sent_on(client):
    make_walk(**BRIXTON)
    pages = caches["pages"]
    pages.clear()
    response = client.get("/walks/?near=51.46,-0.11")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    assert not pages._cache  # each process's own memory (LocMemCache): nothing kept
    # And the next visitor's list is the plain one.
    other = client.get("/walks/")
    assert "away" not in other.content.decode()


@pytest.mark.querycount
def test_near_and_from_cost_the_same_queries_for_2_walks_or_20(client):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/walks/?near=51.46,-0.11&from=2026-06-02").status_code == 200
        return len(queries)

    def add(n):
        for _ in range(n):
            make_booking(walk=make_walk(**BRIXTON))

    add(2)
    few = count()
    add(18)
    assert count() == few


def test_her_position_is_scrubbed_from_any_log_line():
    assert scrub("GET /walks/?near=51.46,-0.11&page=2") == "GET /walks/?near=[position]&page=2"
    buffer = io.StringIO()
    logger = logging.getLogger("tests.near")
    handler = logging.StreamHandler(buffer)
    handler.addFilter(ScrubFilter())
    logger.addHandler(handler)
    try:
        logger.warning("Odd request %s", "/walks/?borough=lambeth&near=51.46,-0.11")
    finally:
        logger.removeHandler(handler)
    assert "51.46" not in buffer.getvalue()


def test_a_walk_page_opens_its_meeting_point_in_maps_and_loads_no_map(client):
    walk = make_walk(**BRIXTON)
    body = client.get(walk.get_absolute_url()).content.decode()
    assert 'href="geo:51.462000,-0.114000"' in body
    assert (
        'href="https://www.openstreetmap.org/?mlat=51.462000&amp;mlon=-0.114000'
        '#map=17/51.462000/-0.114000"' in body
    )
    assert "<iframe" not in body
    unplaced = make_walk()
    assert "geo:" not in client.get(unplaced.get_absolute_url()).content.decode()
