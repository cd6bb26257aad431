"""The concerns counted by day (concerns.rollup, ConcernDay), which the report's counts are
sums of: for a few thousand concerns and a few dozen seeded random filters (BCU, borough,
category, periods across both clock changes and across "30 days ago"), every count on the
page is the one the concerns themselves give (reports.reference), and stays so after an
action, a new concern, an edit, a move, a deletion, an erasure and the purge.

tests/concerns/test_reports_sqlite.py runs the random test again on SQLite."""

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from concerns import rollup
from concerns.models import Concern, ConcernAction, ConcernDay, ConcernStatus, FirstActionDay
from concerns.services import NewConcern, log_concern, record_action
from patrols.models import BCU, Borough
from privacy.services import erase_personal_data, purge_personal_data
from reports import queries as reports
from reports import reference
from tests.bookings.test_concurrency import run_at_once
from tests.factories import make_action, make_booking, make_concern, make_user, make_walk

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 20, 14, 37, tzinfo=LONDON)  # 30 days before: 21 October, 14:37
FIRST_DAY, LAST_DAY = date(2026, 1, 1), date(2026, 11, 20)
SLUGS = ["lambeth", "southwark", "westminster", "camden"]
CONCERNS = 3000


def london(day: date, minute: int) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LONDON) + timedelta(minutes=minute)


def random_moment(rng: random.Random) -> datetime:
    """Any minute of the year so far, with many in the hour either side of London midnight
    (where UTC and London disagree about the day) and on the days the clocks change."""
    day = FIRST_DAY + timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days + 1))
    if rng.random() < 0.15:
        day = rng.choice([date(2026, 3, 29), date(2026, 10, 25), date(2026, 10, 21)])
    minute = rng.choice([rng.randrange(60), 23 * 60 + rng.randrange(60), rng.randrange(24 * 60)])
    moment = london(day, minute)
    # Wall times that do not exist (1:00 to 2:00 on 29 March) normalise to a real instant.
    return moment.astimezone(ZoneInfo("UTC")).astimezone(LONDON)


def make_data(seed: int = 2026) -> random.Random:
    """A few thousand concerns in four boroughs of two BCUs, every category, status and set
    of times of day, written in bulk as seed_demo does, and some actions."""
    rng = random.Random(seed)
    boroughs = list(Borough.objects.filter(slug__in=SLUGS))
    rows = []
    for _ in range(CONCERNS):
        place = rng.choice(boroughs)
        rows.append(
            Concern(
                bcu_id=place.bcu_id,
                borough=place,
                category=rng.choice(Concern.Category.values),
                location_text="A place",
                times_unsafe=rng.randint(1, 15),
                description="Dark.",
                status=rng.choice(ConcernStatus.values),
                logged_at=random_moment(rng),
            )
        )
    made = Concern.objects.bulk_create(rows)
    ConcernAction.objects.bulk_create(
        ConcernAction(
            concern=c,
            note="Done.",
            status=c.status,
            # Any minute up to 40 days later, a few of them over a year later, or before.
            at=c.logged_at
            + timedelta(
                minutes=rng.choice([1, 1, 1, 1, 1, 1, 1, 1, 12, -1]) * rng.randint(1, 57600)
            ),
        )
        for c in made
        if c.status != ConcernStatus.OPEN
    )
    rollup.rebuild()
    return rng


def random_filters(rng: random.Random, n: int = 30) -> list[reports.ReportFilters]:
    bcus = list(BCU.objects.filter(boroughs__slug__in=SLUGS).distinct())
    boroughs = list(Borough.objects.filter(slug__in=SLUGS))
    chosen = [
        reports.ReportFilters(start=date(2026, 3, 29), end=date(2026, 3, 29), now=NOW),
        reports.ReportFilters(start=date(2026, 3, 28), end=date(2026, 3, 30), now=NOW),
        reports.ReportFilters(start=date(2026, 10, 25), end=date(2026, 10, 25), now=NOW),
        reports.ReportFilters(start=date(2026, 10, 21), end=date(2026, 10, 21), now=NOW),
        reports.ReportFilters(start=date(2026, 8, 23), end=date(2026, 11, 20), now=NOW),
        reports.ReportFilters(start=date(2025, 11, 21), end=date(2026, 11, 20), now=NOW),
    ]
    for _ in range(n):
        start = date(2025, 12, 1) + timedelta(days=rng.randrange(370))
        end = start + timedelta(days=rng.choice([0, 1, 6, 30, 90, 200, 365]))
        place = rng.choice(["london", "bcu", "borough"])
        chosen.append(
            reports.ReportFilters(
                start=start,
                end=end,
                bcu=rng.choice(bcus) if place == "bcu" else None,
                borough=rng.choice(boroughs) if place == "borough" else None,
                category=rng.choice(["", "", *Concern.Category.values]),
                now=NOW,
            )
        )
    return chosen


def assert_same_figures(filters: list[reports.ReportFilters]) -> None:
    for f in filters:
        label = (f.start, f.end, f.bcu, f.borough, f.category)
        assert reports.concern_counts(f) == reference.concern_counts(f), label
        assert reports.concerns_by_month(f) == reference.concerns_by_month(f), label
        assert reports.concerns_by_borough(f) == reference.concerns_by_borough(f), label
        assert reports.concerns_by_area(f) == reference.concerns_by_area(f), label
        assert reports.action_figures(f) == reference.action_figures(f), label
        assert reports.action_time_by_month(f) == reference.action_time_by_month(f), label
        together = reports.first_action_report(f)
        assert together["now"] == reference.action_figures(f), label
        assert together["previous"] == reference.action_figures(f.previous_period()), label
        assert together["months"] == reference.action_time_by_month(f), label


def assert_rows_as_if_rebuilt() -> None:
    """The rows kept write by write are the rows counted afresh from the concerns."""
    for model, rebuild in [
        (ConcernDay, rollup.rebuild_days),
        (FirstActionDay, rollup.rebuild_first_action_days),
    ]:
        fields = [f.attname for f in model._meta.concrete_fields if f.name != "id"]
        kept = sorted(model.objects.values_list(*fields))
        rebuild()
        assert kept == sorted(model.objects.values_list(*fields)), model


def test_every_status_and_time_of_day_has_its_column():
    columns = {f.name for f in ConcernDay._meta.concrete_fields}
    assert set(ConcernStatus.values) <= columns
    assert set(Concern.TimeOfDay.values) <= columns


def test_the_rollup_matches_the_raw_figures_for_random_filters():
    rng = make_data()
    filters = random_filters(rng)
    assert reports.concern_counts(filters[-1])["logged"] >= 0
    # The data are spread enough that the filters find something, and "open for more than
    # 30 days" has a partial day to count.
    assert sum(reports.concern_counts(f)["logged"] for f in filters) > CONCERNS
    assert reference.concern_counts(filters[4])["open_over_30_days"] > 0
    assert_same_figures(filters)

    commander = make_user("Commanders", officer_bcu="")
    concerns = list(Concern.objects.order_by("pk"))
    with time_machine.travel(NOW, tick=False):
        # An action that moves a concern's status, and one written directly.
        record_action(
            concern=rng.choice([c for c in concerns if c.status == ConcernStatus.OPEN]),
            note="Lamps fixed.",
            status=ConcernStatus.ACTIONED,
            partner="",
            by=commander,
        )
        make_action(concerns[1], status=ConcernStatus.CLOSED)
        # A new concern from a debrief's service, on a day the filters cover.
        walk = make_walk(starts_at=london(date(2026, 10, 21), 18 * 60))
        log_concern(
            borough=walk.borough,
            concern=NewConcern(
                category="no_cctv",
                location_text="The car park",
                times_unsafe=("evening", "late_night"),
                description="No cameras.",
            ),
            by=commander,
            walk=walk,
        )
    # An edit of its category and times (as the admin saves one), a concern moved to another
    # day, one deleted and a batch deleted.
    edited = concerns[2]
    edited.category, edited.times_unsafe = "followed", Concern.times_mask(["daytime"])
    edited.save()
    moved = concerns[3]
    moved.logged_at = london(date(2026, 10, 25), 30)
    moved.save()
    concerns[4].delete()
    Concern.objects.filter(pk__in=[c.pk for c in concerns[5:25]]).delete()
    assert_same_figures(filters)

    # An erasure and the purge (they change her bookings, never a concern).
    woman = make_booking(walk=walk, email="her@example.org", status="attended")
    make_concern(walk=walk, logged_at=london(date(2026, 10, 21), 19 * 60))
    erase_personal_data(email="her@example.org")
    purge_personal_data(now=NOW + timedelta(days=400))
    woman.refresh_from_db()
    assert woman.anonymised_at is not None
    assert_same_figures(filters)
    assert_rows_as_if_rebuilt()


def test_the_page_shows_the_same_figures_as_the_raw_computation(client):
    rng = make_data(seed=7)
    for f in random_filters(rng, n=3):
        rolled = {
            "figures": reports.headline(f, reports.concern_counts(f)),
            "previous": reports.headline(f.previous_period()),
            "by_month": reports.concerns_by_month(f),
            "boroughs": reports.concerns_by_borough(f),
        }
        raw = reference.report(f)
        assert rolled == {key: raw[key] for key in rolled}


def test_each_write_recounts_its_day_in_its_transaction():
    day = date(2026, 3, 29)
    concern = make_concern(logged_at=london(day, 23 * 60 + 30), status=ConcernStatus.OPEN)
    row = ConcernDay.objects.get(day=day)
    assert (row.concerns, row.open, row.after_dark) == (1, 1, 1)
    make_concern(logged_at=london(day + timedelta(days=1), 0))  # the next day, London time
    assert ConcernDay.objects.get(day=day).concerns == 1
    concern.status = ConcernStatus.CLOSED
    concern.save()
    row = ConcernDay.objects.get(day=day)
    assert (row.open, row.closed) == (0, 1)
    concern.delete()
    assert not ConcernDay.objects.filter(day=day).exists()
    assert ConcernDay.objects.get(day=day + timedelta(days=1)).concerns == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concerns_logged_at_once_on_the_same_day_and_place_are_all_counted():
    walk = make_walk(starts_at=london(date(2026, 5, 4), 18 * 60))
    new = NewConcern(
        category="poorly_lit",
        location_text="The footpath",
        times_unsafe=("after_dark",),
        description="Lights out.",
    )
    with time_machine.travel(london(date(2026, 5, 4), 20 * 60), tick=False):
        errors = run_at_once(8, lambda n: log_concern(borough=walk.borough, concern=new, by=None))
    assert errors == []
    row = ConcernDay.objects.get(day=date(2026, 5, 4), borough=walk.borough)
    assert (row.concerns, row.open, row.after_dark) == (8, 8, 8)
    assert_rows_as_if_rebuilt()
