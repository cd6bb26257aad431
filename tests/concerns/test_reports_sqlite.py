"""The report on SQLite, the database of the embedded demo (`make run`): every headline figure
is there, the medians included, with its comparison with the previous period, and the trends
by month; each is the same as PostgreSQL's for the same data, and reads the same on the page.

The suite runs on PostgreSQL; the test below runs this file's `test_on_this_database` and the
median tests of test_reports.py again in a pytest of their own on SQLite, and compares; that
run also checks the counts by day against the concerns (test_rollup.py's random filters)."""

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from concerns.models import Concern, ConcernStatus, Debrief, Partner
from reports import queries as reports
from tests.factories import (
    borough,
    login_staff,
    make_action,
    make_booking,
    make_concern,
    make_feedback,
    make_request,
    make_user,
    make_walk,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
LONDON = ZoneInfo("Europe/London")
TODAY = datetime(2026, 6, 15, 10, 0, tzinfo=LONDON)
# Where the run on SQLite writes its figures; set only for that run.
FIGURES_FILE = os.environ.get("REPORT_FIGURES_FILE")


def days_ago(n: float) -> datetime:
    return TODAY - timedelta(days=n)


def report_figures() -> dict:
    """The same data on any database, and the report's headline figures on it, as JSON."""
    walk = make_walk(starts_at=days_ago(20), status="completed")
    make_feedback(make_booking(walk=walk, status="attended"))
    make_booking(walk=walk, status="no_show")
    Debrief.objects.create(walk=walk, walk_ins=2)
    # Four answers (2, 5, 9 and 30 hours): the median is halfway between the middle two.
    for hours, status in [(2, "scheduled"), (5, "declined"), (9, "scheduled"), (30, "declined")]:
        make_request(
            created_at=days_ago(30), decided_at=days_ago(30) + timedelta(hours=hours), status=status
        )
    make_request(created_at=days_ago(10))  # still waiting
    # Three concerns acted on after 1, 2.5 and 6 days (the second action on one does not
    # count), one not yet.
    for logged, first in [(40, 39), (20, 17.5), (12, 6)]:
        concern = make_concern(logged_at=days_ago(logged), status=ConcernStatus.REFERRED)
        make_action(concern, at=days_ago(first), status=ConcernStatus.REFERRED, partner=Partner.TFL)
    make_action(concern, at=days_ago(1), status=ConcernStatus.ACTIONED)
    make_concern(
        logged_at=days_ago(35),
        borough=borough("westminster"),
        times_unsafe=Concern.times_mask(["evening", "after_dark"]),
    )
    # The previous period (14 November 2025 to 28 February 2026): a walk, a concern acted on
    # after 3 days, a request answered in 4 hours.
    before = make_walk(starts_at=days_ago(150), status="completed")
    make_feedback(make_booking(walk=before, status="attended"), felt_safe_after=2)
    earlier = make_concern(logged_at=days_ago(140), category="followed")
    make_action(earlier, at=days_ago(137))
    make_request(created_at=days_ago(160), decided_at=days_ago(160) + timedelta(hours=4))
    f = reports.ReportFilters(start=date(2026, 3, 1), end=date(2026, 6, 15), now=TODAY)
    with reports.snapshot():
        figures = {
            "headline": reports.headline(f),
            "by_time": reports.concerns_by_time_of_day(f),
            "previous": reports.headline(f.previous_period()),
            "by_month": reports.concerns_by_month(f),
            "survey_by_month": reports.survey_by_month(f),
            "action_time_by_month": reports.action_time_by_month(f),
            "previous_action_time_by_month": reports.action_time_by_month(f.previous_period()),
        }
        return json.loads(json.dumps(figures, default=str))


@pytest.mark.skipif(FIGURES_FILE is None, reason="run by the test below, on SQLite")
def test_on_this_database(client):
    with time_machine.travel(TODAY, tick=False):
        figures = report_figures()
        login_staff(client, make_user("Commanders", officer_bcu=""))
        response = client.get("/reports/?from=2026-03-01&to=2026-06-15")
    assert response.status_code == 200
    assert "Not available" not in response.text
    items = [item for s in response.context["sections"] for item in s["items"]]
    shown = {item["label"]: [item["value"], item["change"]] for item in items}
    assert "No data" not in [value for value, _ in shown.values()]
    trends = [t["table"]["rows"] for t in response.context["trends"]]
    shown["trends"] = json.loads(json.dumps(trends, default=str))
    Path(FIGURES_FILE).write_text(json.dumps({"figures": figures, "shown": shown}))


@pytest.mark.skipif(FIGURES_FILE is not None, reason="this is the run on SQLite")
def test_every_report_figure_on_sqlite_is_the_same_as_on_postgresql(tmp_path, client):
    assert connection.vendor == "postgresql"
    out = tmp_path / "figures.json"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'report.sqlite3'}",
        "REPORT_FIGURES_FILE": str(out),
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:warnings",
         f"{__file__}::test_on_this_database",
         "tests/concerns/test_reports.py", "tests/concerns/test_reports_trends.py",
         "tests/concerns/test_rollup.py",
         "-k", "median or test_on_this_database or rollup_matches"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout
    on_sqlite = json.loads(out.read_text())

    with time_machine.travel(TODAY, tick=False):
        figures = report_figures()

    assert on_sqlite["figures"] == figures
    headline = figures["headline"]
    assert headline["walks"]["walked"] == 3  # one place kept, two walk-ins
    # Four concerns after dark (the default), one of them in the evening too.
    assert [row["count"] for row in figures["by_time"]] == [0, 1, 4, 0]
    assert headline["requests"]["median_time_to_answer"] == "7:00:00"  # (5 + 9) / 2 hours
    assert headline["actions"]["median_time_to_first_action"] == "2 days, 12:00:00"
    assert figures["previous"]["actions"]["median_time_to_first_action"] == "3 days, 0:00:00"
    by_month = {r["key"]: r["median_time_to_first_action"] for r in figures["action_time_by_month"]}
    # Logged in May and acted on after 1 and 2.5 days; in June after 6 days.
    assert by_month == {
        "2026-03": None,
        "2026-04": None,
        "2026-05": "1 day, 18:00:00",
        "2026-06": "6 days, 0:00:00",
    }
    shown = on_sqlite["shown"]
    assert shown["Median time to answer"] == [
        "7 hours",
        "Up from 4 hours in the previous 107 days.",
    ]
    assert shown["Median time to first action"] == [
        "2.5 days",
        "Down from 3.0 days in the previous 107 days.",
    ]
    assert shown["Concerns logged"] == ["4", "Up 300% on the previous 107 days (1)."]
    assert shown["Felt safer after the walk"] == [
        "100%",
        "Up 100 points on the previous 107 days (0%).",
    ]
    with time_machine.travel(TODAY, tick=False):
        login_staff(client, make_user("Commanders", officer_bcu=""))
        response = client.get("/reports/?from=2026-03-01&to=2026-06-15")
    items = [item for s in response.context["sections"] for item in s["items"]]
    assert {i["label"]: [i["value"], i["change"]] for i in items} == {
        label: value for label, value in shown.items() if label != "trends"
    }
    trends = [t["table"]["rows"] for t in response.context["trends"]]
    assert json.loads(json.dumps(trends, default=str)) == shown["trends"]
