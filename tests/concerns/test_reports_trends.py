"""Change over time in reports/queries.py: the previous period each headline figure is compared
with, and the monthly trends (concerns by category group, the survey, the time to act)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bookings.models import Booking
from concerns.models import ConcernStatus
from patrols.models import Walk
from reports import compare
from reports import queries as reports
from tests.factories import (
    borough,
    make_action,
    make_booking,
    make_concern,
    make_feedback,
    make_walk,
)

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=LONDON)


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=LONDON)


def autumn(**overrides) -> reports.ReportFilters:
    """1 September to 30 November 2026 (91 days; the clocks go back on 25 October): the
    previous period is 2 June to 31 August."""
    fields = {"start": date(2026, 9, 1), "end": date(2026, 11, 30), "now": NOW}
    fields.update(overrides)
    return reports.ReportFilters(**fields)


def answer(walk: Walk, safer: bool, confidence: tuple[int, int] = (3, 4)):
    make_feedback(
        make_booking(walk=walk, status=Booking.Status.ATTENDED),
        felt_safe_before=2,
        felt_safe_after=4 if safer else 2,
        confidence_in_police_before=confidence[0],
        confidence_in_police_after=confidence[1],
    )


# --- The previous period ----------------------------------------------------------------------


def test_the_previous_period_is_as_long_and_ends_the_day_before_with_every_other_filter_kept():
    f = autumn(borough=borough("lambeth"), category="followed")

    previous = f.previous_period()

    assert (previous.start, previous.end) == (date(2026, 6, 2), date(2026, 8, 31))
    assert previous.days == f.days == 91
    assert (previous.borough, previous.category, previous.now) == (f.borough, f.category, f.now)
    assert previous.until == f.since  # no day between, none counted twice


def test_a_one_day_report_is_compared_with_the_day_before():
    previous = autumn(start=date(2026, 3, 29), end=date(2026, 3, 29)).previous_period()
    assert (previous.start, previous.end) == (date(2026, 3, 28), date(2026, 3, 28))


def test_the_headline_of_the_previous_period_counts_only_its_own_days():
    make_concern(logged_at=at(8, 31, 23))  # the previous period's last evening
    make_concern(logged_at=at(6, 2, 0))  # its first hour
    make_concern(logged_at=at(6, 1, 23))  # before it
    make_concern(logged_at=at(9, 1, 0))  # this period's first hour

    assert reports.headline(autumn())["concerns"]["logged"] == 1
    assert reports.headline(autumn().previous_period())["concerns"]["logged"] == 2


# --- Concerns by category group, each month ---------------------------------------------------


def test_concerns_by_month_are_counted_by_category_group_with_empty_months():
    make_concern(logged_at=at(9, 3), category="poorly_lit")
    make_concern(logged_at=at(9, 4), category="no_cctv")
    make_concern(logged_at=at(9, 5), category="followed")
    # 00:30 on 1 November in London (GMT again) is November's, not October's.
    make_concern(logged_at=datetime(2026, 11, 1, 0, 30, tzinfo=ZoneInfo("UTC")), category="other")
    make_concern(logged_at=datetime(2026, 10, 31, 23, 30, tzinfo=LONDON), category="followed")
    make_concern(logged_at=at(12, 1), category="followed")  # after the period

    rows = reports.concerns_by_month(autumn(start=date(2026, 8, 20)))

    by_group = {r["key"]: {g["key"]: g["count"] for g in r["groups"]} for r in rows}
    assert by_group == {
        "2026-08": {"environmental": 0, "behavioural": 0, "other": 0},
        "2026-09": {"environmental": 2, "behavioural": 1, "other": 0},
        "2026-10": {"environmental": 0, "behavioural": 1, "other": 0},
        "2026-11": {"environmental": 0, "behavioural": 0, "other": 1},
    }
    assert [r["count"] for r in rows] == [0, 3, 1, 1]
    assert [g["label"] for g in rows[0]["groups"]] == ["Environmental", "Behavioural", "Other"]


def test_concerns_by_month_follow_the_category_filter():
    make_concern(logged_at=at(9, 3), category="poorly_lit")
    make_concern(logged_at=at(9, 5), category="followed")
    rows = reports.concerns_by_month(autumn(category="followed"))
    assert [g["count"] for g in rows[0]["groups"]] == [0, 1, 0]


# --- The survey, each month -------------------------------------------------------------------


def test_the_survey_by_month_gives_each_month_its_share_who_felt_safer_and_its_confidence():
    september = make_walk(starts_at=at(9, 10, 18), status=Walk.Status.COMPLETED)
    answer(september, safer=True, confidence=(2, 4))
    answer(september, safer=False, confidence=(3, 3))
    answer(september, safer=True, confidence=(3, 4))
    answer(september, safer=True, confidence=(4, 3))
    november = make_walk(starts_at=at(11, 2, 18), status=Walk.Status.COMPLETED)
    answer(november, safer=False, confidence=(4, 2))
    earlier = make_walk(starts_at=at(8, 30, 18), status=Walk.Status.COMPLETED)
    answer(earlier, safer=True)
    elsewhere = make_walk(
        starts_at=at(9, 10, 18), status=Walk.Status.COMPLETED, borough=borough("westminster")
    )
    answer(elsewhere, safer=True)

    rows = reports.survey_by_month(autumn(bcu=borough("lambeth").bcu))

    assert [(r["key"], r["responses"], r["felt_safer"]) for r in rows] == [
        ("2026-09", 4, 3),
        ("2026-10", 0, 0),
        ("2026-11", 1, 0),
    ]
    assert rows[0]["felt_safer_share"] == pytest.approx(0.75)
    assert rows[0]["confidence_change"] == pytest.approx((2 + 0 + 1 - 1) / 4)
    assert rows[1]["felt_safer_share"] is None and rows[1]["confidence_change"] is None
    assert rows[2]["felt_safer_share"] == 0
    assert rows[2]["confidence_change"] == pytest.approx(-2)


# --- The time to the first action, each month -------------------------------------------------


def test_the_median_time_to_first_action_is_by_the_month_the_concern_was_logged():
    # September: first actions after 1, 2, 4 and 10 days: the median is 3 days.
    for days in (1, 2, 4, 10):
        concern = make_concern(logged_at=at(9, 5))
        make_action(concern, at=at(9, 5) + timedelta(days=days), status=ConcernStatus.REFERRED)
        make_action(concern, at=at(9, 5) + timedelta(days=days + 20))  # not the first
    # October: one acted on after 5 days, across the clock change (25 October), one not yet.
    make_action(make_concern(logged_at=at(10, 22)), at=at(10, 27))
    make_concern(logged_at=at(10, 23))
    earlier = make_concern(logged_at=at(8, 30))
    make_action(earlier, at=at(9, 2))

    rows = reports.action_time_by_month(autumn())

    assert [(r["key"], r["with_action"], r["median_time_to_first_action"]) for r in rows] == [
        ("2026-09", 4, timedelta(days=3)),
        ("2026-10", 1, timedelta(days=5, hours=1)),  # 24 + 25 + 24 + 24 + 24 hours
        ("2026-11", 0, None),
    ]


def test_an_odd_number_of_first_actions_has_the_middle_one_as_its_median():
    for days in (3, 1, 7):
        make_action(make_concern(logged_at=at(11, 2)), at=at(11, 2) + timedelta(days=days))
    rows = reports.action_time_by_month(autumn(start=date(2026, 11, 1)))
    assert rows == [
        {
            "key": "2026-11",
            "label": "November 2026",
            "short": "Nov",
            "year": "2026",
            "with_action": 3,
            "median_time_to_first_action": timedelta(days=3),
        }
    ]


# --- How a figure reads beside the previous period's ------------------------------------------


@pytest.mark.parametrize(
    ("now", "before", "words"),
    [
        (283, 253, "Up 12% on the previous 90 days (253)."),
        (200, 250, "Down 20% on the previous 90 days (250)."),
        (12, 12, "No change on the previous 90 days."),
        (5, 0, "None in the previous 90 days."),
        (0, 0, "None in the previous 90 days."),
        (1001, 1000, "Up less than 1% on the previous 90 days (1,000)."),
    ],
)
def test_a_count_changes_by_a_percentage_unless_there_was_none_before(now, before, words):
    assert compare.count_change(now, before, 90) == words


@pytest.mark.parametrize(
    ("now", "before", "words"),
    [
        (0.50, 0.46, "Up 4 points on the previous 90 days (46%)."),
        (0.452, 0.46, "Down 1 point on the previous 90 days (46%)."),
        (0.461, 0.459, "No change on the previous 90 days (46%)."),
        (0.5, None, "No data for the previous 90 days."),
        (None, 0.25, "25% in the previous 90 days."),
    ],
)
def test_a_rate_changes_by_points_of_the_percentages_as_written(now, before, words):
    assert compare.share_change(now, before, 90) == words


def test_a_median_and_a_mean_say_what_they_were_before():
    def words(value):
        return f"{value.days} days"

    day = timedelta(days=1)
    assert compare.duration_change(2 * day, 3 * day, 7, words) == (
        "Down from 3 days in the previous 7 days."
    )
    assert (
        compare.duration_change(3 * day, 3 * day, 7, words) == "No change on the previous 7 days."
    )
    assert compare.duration_change(None, day, 1, words) == "1 days in the previous day."
    assert compare.mean_change(0.74, 0.31, 90) == "Up 0.4 on the previous 90 days (+0.3)."
    assert compare.mean_change(-0.2, 0.31, 90) == "Down 0.5 on the previous 90 days (+0.3)."
    assert compare.mean_change(0.26, 0.31, 90) == "No change on the previous 90 days (+0.3)."
