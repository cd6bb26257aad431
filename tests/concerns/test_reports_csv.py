"""/reports/concerns.csv: the report's concerns as a spreadsheet, streamed, with no personal
data and nothing a spreadsheet would run as a formula."""

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from concerns.models import Concern, ConcernStatus, Partner
from reports import queries as reports
from tests.factories import (
    borough,
    login_staff,
    make_action,
    make_booking,
    make_concern,
    make_user,
    make_walk,
)

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
TODAY = datetime(2026, 6, 15, 10, 0, tzinfo=LONDON)
URL = "/reports/concerns.csv"


@pytest.fixture(autouse=True)
def fixed_day():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def london_commander(client):
    login_staff(client, make_user("Commanders", officer_bcu=""))
    return client


@pytest.fixture
def central_south_commander(client):
    login_staff(client, make_user("Commanders", officer_bcu="AS"))
    return client


def download(client, query: str = ""):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200, response.content
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8")
    return response, body


def rows(body: str) -> list[dict]:
    assert body.startswith("\ufeff")  # Excel reads the file as UTF-8
    return list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))


def test_the_csv_is_a_streamed_download_with_a_telling_name(london_commander):
    response, _ = download(london_commander, "from=2026-06-01&to=2026-06-14&borough=lambeth")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="walk-and-talk-concerns-lambeth-2026-06-01-to-2026-06-14.csv"'
    )
    assert "no-store" in response["Cache-Control"]


def test_the_default_file_is_all_of_london_for_the_last_90_days(london_commander):
    response, _ = download(london_commander)
    assert (
        'filename="walk-and-talk-concerns-london-2026-03-18-to-2026-06-15.csv"'
        in (response["Content-Disposition"])
    )


def test_a_row_holds_the_concern_in_words_with_its_first_action(london_commander):
    concern = make_concern(
        logged_at=datetime(2026, 6, 3, 0, 30, tzinfo=LONDON),  # 23:30 on 2 June in UTC
        category="harassment_group",
        location_text="Bus station, stand K",
        times_unsafe=Concern.times_mask(["late_night", "after_dark"]),
        description="A group by the stand shout at women waiting.",
        lat=Decimal("51.462311"),
        lng=Decimal("-0.114952"),
        status=ConcernStatus.REFERRED,
        partner=Partner.TFL,
    )
    make_action(concern, at=datetime(2026, 6, 4, 0, 30, tzinfo=LONDON), partner=Partner.TFL)
    make_action(concern, at=datetime(2026, 6, 9, 9, 0, tzinfo=LONDON))

    _, body = download(london_commander)

    (row,) = rows(body)
    assert row == {
        "Concern ID": str(concern.pk),
        "Logged on": "2026-06-03",  # London's date, not UTC's
        "BCU code": "AS",
        "BCU": "Central South",
        "Borough": "Lambeth",
        "Category group": "Behavioural",
        "Category": "Harassment by a group",
        "Location": "Bus station, stand K",
        "Latitude (approx.)": "51.462",
        "Longitude (approx.)": "-0.115",  # a number, so no quote in front
        "When it feels unsafe": "After dark; Late at night",  # one column, every answer
        "What was said": "A group by the stand shout at women waiting.",
        "Status": "Referred to a partner",
        "Partner": "Transport for London",
        "First action on": "2026-06-04",
    }
    assert list(row) == reports.CSV_HEADER


def test_a_concern_without_position_or_action_has_empty_cells(london_commander):
    make_concern(logged_at=TODAY - timedelta(days=1))
    _, body = download(london_commander)
    (row,) = rows(body)
    assert row["Latitude (approx.)"] == row["Longitude (approx.)"] == ""
    assert row["Partner"] == row["First action on"] == ""
    assert row["Status"] == "Open"


def test_no_personal_data_leaves_in_the_file(london_commander):
    officer = make_user("Officers", officer_bcu="AS", username="pc.jane.officer")
    walk = make_walk(starts_at=TODAY - timedelta(days=2), status="completed")
    booking = make_booking(
        walk=walk, full_name="Amira Begum", email="amira.begum@example.org", phone="07700900123"
    )
    make_concern(walk=walk, logged_at=TODAY - timedelta(days=2), logged_by=officer)
    make_action(walk.concerns.get(), by=officer)

    _, body = download(london_commander)

    for secret in [
        "pc.jane.officer",
        "Amira",
        "amira.begum",
        "07700900123",
        booking.reference,
        str(walk.code),
    ]:
        assert secret not in body
    assert len(rows(body)) == 1


def test_cells_a_spreadsheet_would_run_as_a_formula_start_with_a_quote(london_commander):
    dangerous = ['=HYPERLINK("http://x")', "+44 road", "-1+1", "@SUM(A1)", "\tTabbed"]
    for text in dangerous:
        make_concern(logged_at=TODAY - timedelta(days=1), location_text=text, description=text)
    make_concern(logged_at=TODAY - timedelta(days=1), location_text="A = B on the sign")

    _, body = download(london_commander)

    found = rows(body)
    assert sorted(r["Location"] for r in found) == sorted(
        ["'" + text for text in dangerous] + ["A = B on the sign"]
    )
    assert all(r["What was said"].startswith("'") for r in found[:5])


def test_the_csv_follows_the_same_filters_as_the_page(london_commander):
    make_concern(logged_at=TODAY - timedelta(days=3), location_text="Lambeth dark path")
    make_concern(
        logged_at=TODAY - timedelta(days=3),
        location_text="Lambeth followed",
        category="followed",
    )
    make_concern(
        logged_at=TODAY - timedelta(days=3),
        borough=borough("westminster"),
        location_text="Westminster dark path",
    )
    make_concern(logged_at=TODAY - timedelta(days=120), location_text="Long ago")

    def places(query):
        return sorted(r["Location"] for r in rows(download(london_commander, query)[1]))

    assert places("") == ["Lambeth dark path", "Lambeth followed", "Westminster dark path"]
    assert places("bcu=AS") == ["Lambeth dark path", "Lambeth followed"]
    assert places("borough=westminster") == ["Westminster dark path"]
    assert places("category=followed") == ["Lambeth followed"]
    assert places("from=2026-01-01&to=2026-03-01") == ["Long ago"]


def test_a_bcu_commander_downloads_only_her_bcu(central_south_commander):
    make_concern(logged_at=TODAY - timedelta(days=3), location_text="Lambeth dark path")
    make_concern(
        logged_at=TODAY - timedelta(days=3),
        borough=borough("westminster"),
        location_text="Westminster dark path",
    )

    response, body = download(central_south_commander)

    assert [r["Location"] for r in rows(body)] == ["Lambeth dark path"]
    assert "walk-and-talk-concerns-as-" in response["Content-Disposition"]
    for query in ["bcu=AW", "borough=westminster"]:
        refused = central_south_commander.get(f"{URL}?{query}")
        assert refused.status_code == 400
        assert b"Westminster dark path" not in refused.content


def test_bad_filters_get_a_plain_400_that_says_what_is_wrong(london_commander):
    response = london_commander.get(f"{URL}?from=2026-13-01&category=arson")
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    assert "Enter the first day as a real date" in text
    assert "Choose a category from the list." in text


@pytest.mark.querycount
def test_the_csv_reads_the_concerns_in_a_constant_number_of_queries(london_commander):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            download(london_commander)
        return len(queries)

    for n in range(3):
        make_action(make_concern(logged_at=TODAY - timedelta(days=n + 1)))
    few = count_queries()
    for n in range(30):
        make_action(make_concern(logged_at=TODAY - timedelta(days=n + 1)))
    assert count_queries() == few


@pytest.mark.querycount
def test_the_rows_come_from_a_server_side_cursor_in_chunks(london_commander, monkeypatch):
    # Streaming over .iterator() keeps the web process's memory flat at any size: the
    # benchmark in docs/benchmarks.md measures it at a million concerns.
    monkeypatch.setattr(reports, "CSV_CHUNK_ROWS", 2)
    for n in range(5):
        make_concern(logged_at=TODAY - timedelta(days=n + 1))
    with CaptureQueriesContext(connection) as queries:
        _, body = download(london_commander)
    assert len(rows(body)) == 5
    assert any("DECLARE" in q["sql"] and "concerns_concern" in q["sql"] for q in queries)
