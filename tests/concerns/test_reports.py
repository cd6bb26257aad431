"""reports/queries.py: every figure on a small hand-built data set whose answer is known."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bookings.models import Booking
from concerns.models import Concern, ConcernStatus, Debrief, Partner
from patrols.models import BCU, Walk
from reports import queries as reports
from tests.factories import (
    bcu,
    borough,
    make_action,
    make_booking,
    make_concern,
    make_feedback,
    make_request,
    make_walk,
)

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=LONDON)


def at(month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LONDON)


def spring(**overrides) -> reports.ReportFilters:
    """March and April 2026 (the clocks go forward on 29 March), seen on 1 June."""
    fields = {"start": date(2026, 3, 1), "end": date(2026, 4, 30), "now": NOW}
    fields.update(overrides)
    return reports.ReportFilters(**fields)


def concern(when: datetime, **overrides) -> Concern:
    return make_concern(logged_at=when, **overrides)


# --- The period ---------------------------------------------------------------------------


def test_the_period_runs_from_london_midnight_to_london_midnight_after_the_last_day():
    f = spring()
    assert f.since == datetime(2026, 3, 1, tzinfo=LONDON)  # GMT: 00:00 UTC
    assert f.until == datetime(2026, 5, 1, tzinfo=LONDON)  # BST: 23:00 UTC on 30 April
    assert f.until.utcoffset() == timedelta(hours=1)


def test_a_concern_just_after_london_midnight_belongs_to_the_next_day():
    # 23:30 UTC on 30 April is 00:30 on 1 May in London: outside a period ending 30 April.
    concern(datetime(2026, 4, 30, 23, 30, tzinfo=ZoneInfo("UTC")))
    concern(datetime(2026, 4, 30, 22, 30, tzinfo=ZoneInfo("UTC")))  # 23:30 on 30 April
    concern(datetime(2026, 3, 1, 0, 0, tzinfo=LONDON))  # the first moment of the period
    concern(datetime(2026, 2, 28, 23, 59, tzinfo=LONDON))

    assert reports.concern_figures(spring())["logged"] == 2


# --- Walks --------------------------------------------------------------------------------


def test_walk_figures_count_walks_held_cancelled_and_who_came():
    held = make_walk(starts_at=at(3, 10, 18), status=Walk.Status.COMPLETED)
    for status in ["attended", "attended", "attended", "no_show", "cancelled"]:
        make_booking(walk=held, status=status)
    # Added once, not once per booking on the walk.
    Debrief.objects.create(walk=held, walk_ins=2)
    not_debriefed = make_walk(starts_at=at(4, 2, 18))  # held, attendance not recorded yet
    make_booking(walk=not_debriefed, status=Booking.Status.CONFIRMED)
    cancelled = make_walk(starts_at=at(4, 5, 18), status=Walk.Status.CANCELLED)
    make_booking(walk=cancelled, status=Booking.Status.CANCELLED)
    Debrief.objects.create(walk=cancelled, walk_ins=7)  # not held: nobody walked
    before = make_walk(starts_at=at(2, 20, 18), status=Walk.Status.COMPLETED)
    Debrief.objects.create(walk=before, walk_ins=9)  # before the period
    second = make_walk(starts_at=at(4, 20, 7), status=Walk.Status.COMPLETED)
    make_booking(walk=second, status=Booking.Status.ATTENDED)
    make_booking(walk=second, status=Booking.Status.NO_SHOW)
    Debrief.objects.create(walk=second, walk_ins=1)
    nobody_booked = make_walk(starts_at=at(4, 22, 7), status=Walk.Status.COMPLETED)
    Debrief.objects.create(walk=nobody_booked, walk_ins=3)

    figures = reports.walk_figures(spring())

    assert figures == {
        "held": 4,
        "cancelled": 1,
        "attended": 4,
        "walk_ins": 6,
        "walked": 10,
        "no_shows": 2,
        # Of the places booked: walk-ins had none.
        "attendance_rate": pytest.approx(4 / 6),
    }


def test_a_walk_later_than_now_is_not_yet_held():
    make_walk(starts_at=at(4, 10, 18))
    assert reports.walk_figures(spring(now=at(4, 10, 17)))["held"] == 0
    assert reports.walk_figures(spring(now=at(4, 10, 19)))["held"] == 1


def test_walk_figures_with_no_walks_have_no_attendance_rate():
    assert reports.walk_figures(spring()) == {
        "held": 0,
        "cancelled": 0,
        "attended": 0,
        "walk_ins": 0,
        "walked": 0,
        "no_shows": 0,
        "attendance_rate": None,
    }


# --- Route requests -------------------------------------------------------------------------


def test_request_figures_give_the_median_time_to_an_answer():
    for days, status in [(1, "scheduled"), (3, "declined"), (5, "scheduled")]:
        make_request(created_at=at(3, 2), decided_at=at(3, 2) + timedelta(days=days), status=status)
    make_request(created_at=at(4, 28))  # still waiting
    make_request(created_at=at(5, 2))  # after the period

    figures = reports.request_figures(spring())

    assert figures == {
        "received": 4,
        "scheduled": 2,
        "declined": 1,
        "waiting": 1,
        "median_time_to_answer": timedelta(days=3),
    }


def test_the_median_of_an_even_number_of_answers_is_halfway_between_the_middle_two():
    for hours in [2, 4, 10, 100]:
        make_request(created_at=at(3, 2), decided_at=at(3, 2) + timedelta(hours=hours))
    assert reports.request_figures(spring())["median_time_to_answer"] == timedelta(hours=7)


def test_no_answer_yet_has_no_median():
    make_request(created_at=at(3, 2))
    assert reports.request_figures(spring())["median_time_to_answer"] is None
    assert reports.action_figures(spring())["median_time_to_first_action"] is None


# --- Concerns and actions -------------------------------------------------------------------


def test_concern_figures_count_those_open_more_than_30_days():
    concern(at(3, 5))  # open, logged 88 days before NOW
    concern(at(4, 25))  # open, 37 days
    concern(at(3, 5), status=ConcernStatus.REFERRED)  # acted on
    concern(at(4, 30, 20))  # open, 31 days and a bit

    f = spring()
    assert reports.concern_figures(f) == {"logged": 4, "open_over_30_days": 3}
    # Seen on 20 May, only the one from March has waited more than 30 days.
    assert reports.concern_figures(spring(now=at(5, 20)))["open_over_30_days"] == 1


def test_action_figures_count_concerns_with_an_action_and_the_median_days_to_the_first():
    quick = concern(at(3, 10))
    make_action(quick, at=at(3, 11), status=ConcernStatus.REFERRED)
    make_action(quick, at=at(3, 30), status=ConcernStatus.ACTIONED)
    slow = concern(at(4, 1))
    make_action(slow, at=at(4, 4))  # 3 days: the later action on `quick` does not count
    concern(at(4, 2))  # no action yet
    earlier = concern(at(2, 1))  # outside the period, with an action
    make_action(earlier, at=at(3, 15))

    figures = reports.action_figures(spring())

    assert figures == {"with_action": 2, "median_time_to_first_action": timedelta(days=2)}
    assert reports.headline(spring())["actions"]["share"] == pytest.approx(2 / 3)


def test_headline_has_no_share_when_no_concerns_were_logged():
    assert reports.headline(spring())["actions"]["share"] is None


# --- The survey ---------------------------------------------------------------------------


def test_survey_figures_give_the_share_who_felt_safer_and_the_change_in_confidence():
    walk = make_walk(starts_at=at(3, 20, 18), status=Walk.Status.COMPLETED)
    answers = [(2, 4, 2, 4), (3, 3, 3, 3), (4, 2, 4, 3)]  # safer, the same, less safe
    for before, after, confidence_before, confidence_after in answers:
        make_feedback(
            make_booking(walk=walk, status=Booking.Status.ATTENDED),
            felt_safe_before=before,
            felt_safe_after=after,
            confidence_in_police_before=confidence_before,
            confidence_in_police_after=confidence_after,
        )
    earlier = make_walk(starts_at=at(2, 1, 18), status=Walk.Status.COMPLETED)
    make_feedback(make_booking(walk=earlier, status=Booking.Status.ATTENDED))

    figures = reports.survey_figures(spring())

    assert figures["responses"] == 3
    assert figures["felt_safer"] == 1
    assert figures["felt_safer_share"] == pytest.approx(1 / 3)
    assert figures["confidence_change"] == pytest.approx((2 + 0 - 1) / 3)


def test_survey_figures_with_no_answers_are_empty_not_zero():
    figures = reports.survey_figures(spring())
    assert figures["responses"] == 0
    assert figures["felt_safer_share"] is None
    assert figures["confidence_change"] is None


# --- Breakdowns -----------------------------------------------------------------------------


def test_concerns_by_category_are_grouped_environmental_behavioural_and_other():
    for category in ["poorly_lit", "poorly_lit", "no_cctv", "followed", "other"]:
        concern(at(3, 10), category=category)
    concern(at(5, 10), category="followed")  # after the period

    groups = reports.concerns_by_category(spring())

    assert [(g["key"], g["count"]) for g in groups] == [
        ("environmental", 3),
        ("behavioural", 1),
        ("other", 1),
    ]
    environmental = {c["key"]: c["count"] for c in groups[0]["categories"]}
    assert environmental["poorly_lit"] == 2
    assert environmental["no_cctv"] == 1
    assert environmental["isolated"] == 0  # every category is listed, zeros too
    assert len(environmental) == 7
    assert [c["key"] for c in groups[1]["categories"]] == [
        "harassment_one",
        "harassment_group",
        "followed",
        "harassment_other",
    ]
    assert groups[1]["categories"][2]["label"] == "Being followed"


def test_concerns_by_time_of_day_list_every_time_in_order():
    for when in ["after_dark", "after_dark", "late_night"]:
        concern(at(4, 1), times_unsafe=Concern.times_mask([when]))

    rows = reports.concerns_by_time_of_day(spring())

    assert [(r["key"], r["count"]) for r in rows] == [
        ("daytime", 0),
        ("evening", 0),
        ("after_dark", 2),
        ("late_night", 1),
    ]


def test_a_concern_with_several_times_of_day_counts_under_each():
    concern(at(4, 1), times_unsafe=Concern.times_mask(["evening", "after_dark", "late_night"]))
    concern(at(4, 2), times_unsafe=Concern.times_mask(["after_dark"]))
    concern(at(4, 3), times_unsafe=Concern.times_mask(["daytime", "late_night"]))

    rows = reports.concerns_by_time_of_day(spring())

    assert [(r["key"], r["count"]) for r in rows] == [
        ("daytime", 1),
        ("evening", 1),
        ("after_dark", 2),
        ("late_night", 2),
    ]
    assert reports.concern_figures(spring())["logged"] == 3  # each concern once


def test_concerns_by_status_list_every_status():
    concern(at(4, 1), status=ConcernStatus.ACTIONED)
    concern(at(4, 1))
    concern(at(4, 1))

    rows = {r["key"]: r["count"] for r in reports.concerns_by_status(spring())}

    assert rows == {"open": 2, "referred": 0, "actioned": 1, "closed": 0, "no_action": 0}


def test_london_is_broken_down_by_bcu_with_every_bcu_listed():
    concern(at(3, 3), borough=borough("lambeth"))
    concern(at(3, 3), borough=borough("southwark"))
    concern(at(3, 3), borough=borough("westminster"))

    rows = reports.concerns_by_area(spring())

    assert reports.area_level(spring()) == "bcu"
    assert len(rows) == BCU.objects.count() == 12
    counts = {r["label"]: r["count"] for r in rows}
    assert counts["Central South"] == 2
    assert counts["Central West"] == 1
    assert counts["North"] == 0


def test_one_bcu_is_broken_down_by_its_boroughs():
    concern(at(3, 3), borough=borough("lambeth"))
    concern(at(3, 4), borough=borough("lambeth"))
    concern(at(3, 3), borough=borough("westminster"))
    f = spring(bcu=bcu("AS"))

    assert reports.area_level(f) == "borough"
    assert [(r["label"], r["count"]) for r in reports.concerns_by_area(f)] == [
        ("Lambeth", 2),
        ("Southwark", 0),
    ]
    only_southwark = spring(bcu=bcu("AS"), borough=borough("southwark"))
    assert [(r["label"], r["count"]) for r in reports.concerns_by_area(only_southwark)] == [
        ("Southwark", 0)
    ]


def test_concerns_by_month_follow_london_months_and_include_empty_ones():
    concern(datetime(2026, 3, 31, 23, 30, tzinfo=ZoneInfo("UTC")))  # 00:30 on 1 April, BST
    concern(at(3, 2))
    f = spring(start=date(2026, 2, 15), end=date(2026, 5, 3))

    rows = reports.concerns_by_month(f)

    assert [(r["key"], r["count"]) for r in rows] == [
        ("2026-02", 0),
        ("2026-03", 1),
        ("2026-04", 1),
        ("2026-05", 0),
    ]
    assert rows[0]["label"] == "February 2026"
    assert [r["year"] for r in rows] == ["2026", "", "", ""]


def test_a_period_across_new_year_marks_the_new_year_on_the_month_axis():
    f = spring(start=date(2025, 11, 20), end=date(2026, 2, 2))
    assert [(r["short"], r["year"]) for r in reports.concerns_by_month(f)] == [
        ("Nov", "2025"),
        ("Dec", ""),
        ("Jan", "2026"),
        ("Feb", ""),
    ]


def test_top_locations_merge_case_and_spaces_within_a_borough_but_not_across_boroughs():
    for text in ["The underpass", "the underpass ", "THE UNDERPASS"]:
        concern(at(3, 9), location_text=text, borough=borough("lambeth"))
    concern(at(3, 9), location_text="The underpass", borough=borough("southwark"))
    concern(at(3, 9), location_text="The underpass", borough=borough("southwark"))
    concern(at(3, 9), location_text="Bus stop on the high street", borough=borough("lambeth"))

    rows = reports.top_locations(spring())

    assert [(r["borough_name"], r["count"]) for r in rows] == [
        ("Lambeth", 3),
        ("Southwark", 2),
        ("Lambeth", 1),
    ]
    assert rows[0]["label"].strip().lower() == "the underpass"
    assert len(reports.top_locations(spring(), limit=2)) == 2


def test_actions_by_partner_count_each_status_they_set():
    lamp = concern(at(3, 9))
    make_action(lamp, partner=Partner.COUNCIL_LIGHTING, status=ConcernStatus.REFERRED)
    make_action(lamp, partner=Partner.COUNCIL_LIGHTING, status=ConcernStatus.ACTIONED)
    bus = concern(at(3, 9))
    make_action(bus, partner=Partner.TFL, status=ConcernStatus.REFERRED)
    make_action(concern(at(3, 9)), partner="", status=ConcernStatus.NO_ACTION)
    make_action(concern(at(5, 9)), partner=Partner.TFL)  # a concern outside the period

    rows = reports.actions_by_partner(spring())

    assert [(r["label"], r["count"]) for r in rows] == [
        ("Council street lighting", 2),
        ("No partner (police only)", 1),
        ("Transport for London", 1),
    ]
    assert rows[0]["referred"] == 1
    assert rows[0]["actioned"] == 1
    assert rows[0]["closed"] == 0
    assert rows[1]["no_action"] == 1


# --- Filters ----------------------------------------------------------------------------------


@pytest.fixture
def london_and_central_west():
    """Three concerns in Central South (two in Lambeth), one in Central West."""
    concern(at(3, 5), borough=borough("lambeth"), category="poorly_lit")
    concern(at(3, 6), borough=borough("lambeth"), category="followed")
    concern(at(3, 7), borough=borough("southwark"), category="poorly_lit")
    concern(at(3, 8), borough=borough("westminster"), category="poorly_lit")


def test_the_bcu_filter_keeps_only_that_bcu(london_and_central_west):
    assert reports.concern_figures(spring(bcu=bcu("AS")))["logged"] == 3
    assert reports.concern_figures(spring(bcu=bcu("AW")))["logged"] == 1


def test_the_borough_filter_keeps_only_that_borough(london_and_central_west):
    assert reports.concern_figures(spring(borough=borough("lambeth")))["logged"] == 2


def test_the_category_filter_keeps_only_that_category(london_and_central_west):
    f = spring(category="poorly_lit", bcu=bcu("AS"))
    assert reports.concern_figures(f)["logged"] == 2
    assert [g["count"] for g in reports.concerns_by_category(f)] == [2, 0, 0]


def test_the_category_does_not_filter_walks_requests_or_the_survey():
    walk = make_walk(starts_at=at(3, 10, 18), status=Walk.Status.COMPLETED)
    make_booking(walk=walk, status=Booking.Status.ATTENDED)
    make_request(created_at=at(3, 2))
    f = spring(category="followed")
    assert reports.walk_figures(f)["held"] == 1
    assert reports.request_figures(f)["received"] == 1


def test_requests_walks_and_survey_follow_the_place_filter():
    westminster = borough("westminster")
    walk = make_walk(borough=westminster, starts_at=at(3, 10, 18), status="completed")
    make_feedback(make_booking(walk=walk, status=Booking.Status.ATTENDED))
    make_request(borough=westminster, created_at=at(3, 2))

    central_south = spring(bcu=bcu("AS"))
    assert reports.walk_figures(central_south)["held"] == 0
    assert reports.request_figures(central_south)["received"] == 0
    assert reports.survey_figures(central_south)["responses"] == 0
    central_west = spring(bcu=bcu("AW"))
    assert reports.walk_figures(central_west)["held"] == 1
    assert reports.request_figures(central_west)["received"] == 1
    assert reports.survey_figures(central_west)["responses"] == 1


# --- The CSV rows -----------------------------------------------------------------------------


def test_csv_rows_round_positions_and_give_the_first_action():
    place = concern(
        at(3, 5, 21), lat=Decimal("51.462311"), lng=Decimal("-0.114952"), category="no_cctv"
    )
    make_action(place, at=at(3, 9), status=ConcernStatus.REFERRED, partner=Partner.TFL)
    make_action(place, at=at(3, 20))

    (row,) = list(reports.csv_rows(spring()))

    assert row[:2] == (place.pk, date(2026, 3, 5))
    assert row[2:6] == ("AS", "Central South", "Lambeth", "no_cctv")
    assert row[7:9] == (Decimal("51.462"), Decimal("-0.115"))
    assert row[-1] == date(2026, 3, 9)


def test_csv_rows_give_london_dates():
    # 00:30 on 1 April in London is 23:30 on 31 March in UTC.
    concern(datetime(2026, 3, 31, 23, 30, tzinfo=ZoneInfo("UTC")))
    (row,) = list(reports.csv_rows(spring()))
    assert row[1] == date(2026, 4, 1)
