"""Commanders see partners' part on /reports/: referrals by partner, the median time to an
answer and to the fix, and how many are overdue; the same figures on SQLite (the embedded
demo) as on PostgreSQL, and as many queries for many partners as for few."""

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
from django.test.utils import CaptureQueriesContext

from partners.messages import MAP_PLACES
from partners.models import Referral
from reports import queries as reports
from tests.factories import borough, login_staff, make_concern, make_user

from .helpers import make_partner

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
LONDON = ZoneInfo("Europe/London")
TODAY = datetime(2026, 6, 15, 10, 0, tzinfo=LONDON)
FIGURES_FILE = os.environ.get("PARTNER_FIGURES_FILE")


def days_ago(n: float) -> datetime:
    return TODAY - timedelta(days=n)


def referral(partner, *, sent: float, answered: float | None = None, fixed: float | None = None):
    """A referral sent `sent` days ago, answered and fixed so many days after it was sent."""
    status = "fixed" if fixed is not None else "will_fix" if answered is not None else "waiting"
    return Referral.objects.create(
        concern=make_concern(logged_at=days_ago(sent + 1), borough=borough()),
        partner=partner,
        status=status,
        referred_at=days_ago(sent),
        answered_at=None if answered is None else days_ago(sent - answered),
        fixed_at=None if fixed is None else days_ago(sent - fixed),
        fix_by=None if answered is None else date(2026, 12, 1),
    )


def partner_figures() -> list[dict]:
    lighting = make_partner("lambeth", name="Lighting")
    parks = make_partner("lambeth", name="Parks", kind="parks")
    # Answers after 1, 2, 4 and 10 days (median 3); fixes after 5 and 20 (median 12.5).
    referral(lighting, sent=40, answered=1, fixed=5)
    referral(lighting, sent=40, answered=2)
    referral(lighting, sent=40, answered=4, fixed=20)
    referral(lighting, sent=40, answered=10)
    referral(lighting, sent=30)  # overdue: nothing heard for 30 days
    referral(parks, sent=2)  # not yet overdue
    f = reports.ReportFilters(start=date(2026, 3, 1), end=date(2026, 6, 15), now=TODAY)
    with reports.snapshot():
        rows = reports.referrals_by_partner(f)
    # The figures, not the ids (the databases number rows apart).
    return json.loads(json.dumps([{**row, "partner": None} for row in rows], default=str))


@pytest.mark.skipif(FIGURES_FILE is None, reason="run by the test below, on SQLite")
def test_on_this_database():
    with time_machine.travel(TODAY, tick=False):
        rows = partner_figures()
    Path(FIGURES_FILE).write_text(json.dumps(rows))


@pytest.mark.skipif(FIGURES_FILE is not None, reason="this is the run on SQLite")
def test_referrals_by_partner_with_medians_and_overdue_the_same_on_sqlite(tmp_path):
    assert connection.vendor == "postgresql"
    with time_machine.travel(TODAY, tick=False):
        rows = partner_figures()
    lighting, parks = rows
    assert (lighting["label"], lighting["count"], lighting["answered"]) == ("Lighting", 5, 4)
    assert (lighting["fixed"], lighting["overdue"], parks["overdue"]) == (2, 1, 0)
    assert lighting["median_to_answer"] == "3 days, 0:00:00"
    assert lighting["median_to_fix"] == "12 days, 12:00:00"
    assert parks["median_to_answer"] is None

    out = tmp_path / "figures.json"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'report.sqlite3'}",
        "PARTNER_FIGURES_FILE": str(out),
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:warnings",
         f"{__file__}::test_on_this_database"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(out.read_text()) == rows


@pytest.mark.skipif(FIGURES_FILE is not None, reason="this is the run on SQLite")
def test_the_report_page_shows_the_section(client):
    with time_machine.travel(TODAY, tick=False):
        partner_figures()
        login_staff(client, make_user("Commanders", officer_bcu=""))
        response = client.get("/reports/?from=2026-03-01&to=2026-06-15")
    assert response.status_code == 200
    assert "Referrals to partners" in response.text
    [lighting, parks] = response.context["referrals"]
    assert (lighting["to_answer"], lighting["to_fix"]) == ("3.0 days", "12.5 days")
    assert parks["to_answer"] == "No data"


@pytest.mark.querycount
@pytest.mark.skipif(FIGURES_FILE is not None, reason="this is the run on SQLite")
def test_the_section_makes_as_many_queries_for_many_partners_as_for_few():
    f = reports.ReportFilters(start=date(2026, 3, 1), end=date(2026, 6, 15), now=TODAY)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            reports.referrals_by_partner(f)
        return len(captured)

    with time_machine.travel(TODAY, tick=False):
        for n in range(2):
            referral(make_partner("lambeth", name=f"Few {n}"), sent=10, answered=1, fixed=2)
        few = queries()
        for n in range(10):
            referral(make_partner("lambeth", name=f"Many {n}"), sent=10, answered=1, fixed=2)
        assert queries() == few == 1


def test_the_map_link_rounds_positions_as_the_csv_does():
    assert MAP_PLACES == reports.CSV_COORDINATE_PLACES
