"""The concerns, actions and places counted by day (concerns.rollup: ConcernDay,
FirstActionDay, ActionDay, PlaceDay), which the report's figures are read from: for a few
thousand concerns and a few dozen seeded random filters (BCU, borough, category, periods
across both clock changes and across "30 days ago"), every figure on the page is the one the
concerns and actions themselves give (reports.reference), and stays so after an action, a
partner changed, an action moved or deleted, a new concern, an edit, a move, a deletion, an
erasure and the purge.

tests/concerns/test_reports_sqlite.py runs the random test again on SQLite."""

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from concerns import rollup
from concerns.models import (
    ActionDay,
    Concern,
    ConcernAction,
    ConcernDay,
    ConcernStatus,
    FirstActionDay,
    Partner,
    PlaceDay,
)
from concerns.services import NewConcern, log_concern, record_action
from patrols.models import BCU, Borough
from privacy.services import erase_personal_data, purge_personal_data
from reports import queries as reports
from reports import reference
from tests.bookings.test_concurrency import run_at_once
from tests.factories import (
    login_staff,
    make_action,
    make_booking,
    make_concern,
    make_user,
    make_walk,
)

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 20, 14, 37, tzinfo=LONDON)  # 30 days before: 21 October, 14:37
FIRST_DAY, LAST_DAY = date(2026, 1, 1), date(2026, 11, 20)
SLUGS = ["lambeth", "southwark", "westminster", "camden"]
CONCERNS = 3000
# The same places written differently (case, surrounding spaces, an accented capital that
# not every database lowers), so that places merge and their labels are chosen.
PLACES = [
    "The Park",
    "the park",
    " THE PARK ",
    "the Park  ",
    "Station Road",
    "station road",
    "STATION ROAD ",
    "Élan Court",
    "élan court",
    "The underpass",
    "Bus stop 4",
    "bus stop 4",
    "The alley",
    "Canal towpath",
]
PARTNERS = [*Partner.values, ""]


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
                location_text=rng.choice(PLACES),
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
            # Mostly the concern's status; now and then an earlier one, on a second action.
            status=c.status if n == 0 else rng.choice(ConcernStatus.values),
            partner=rng.choice(PARTNERS),
            # Any minute up to 40 days later, a few of them over a year later, or before.
            at=c.logged_at
            + timedelta(
                minutes=rng.choice([1, 1, 1, 1, 1, 1, 1, 1, 12, -1]) * rng.randint(1, 57600)
            ),
        )
        for c in made
        if c.status != ConcernStatus.OPEN
        for n in range(rng.choice([1, 1, 1, 2]))
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
        assert reports.actions_by_partner(f) == reference.actions_by_partner(f), label
        assert reports.top_locations(f) == reference.top_locations(f), label
        # Every place, not only the first ten: each count and label, and the order of ties.
        everywhere = reference.top_locations(f, limit=1000)
        assert reports.top_locations(f, limit=1000) == everywhere, label


def assert_rows_as_if_rebuilt() -> None:
    """The rows kept write by write are the rows counted afresh from the concerns."""
    for model, rebuild in [
        (ConcernDay, rollup.rebuild_days),
        (FirstActionDay, rollup.rebuild_first_action_days),
        (ActionDay, rollup.rebuild_action_days),
        (PlaceDay, rollup.rebuild_place_days),
    ]:
        fields = [f.attname for f in model._meta.concrete_fields if f.name != "id"]
        kept = sorted(model.objects.values_list(*fields))
        rebuild()
        assert kept == sorted(model.objects.values_list(*fields)), model


def test_every_status_and_time_of_day_has_its_column():
    columns = {f.name for f in ConcernDay._meta.concrete_fields}
    assert set(ConcernStatus.values) <= columns
    assert set(Concern.TimeOfDay.values) <= columns
    assert set(ConcernStatus.values) <= {f.name for f in ActionDay._meta.concrete_fields}


def test_the_rollup_matches_the_raw_figures_for_random_filters():
    rng = make_data()
    filters = random_filters(rng)
    assert reports.concern_counts(filters[-1])["logged"] >= 0
    # The data are spread enough that the filters find something, and "open for more than
    # 30 days" has a partial day to count.
    assert sum(reports.concern_counts(f)["logged"] for f in filters) > CONCERNS
    assert reference.concern_counts(filters[4])["open_over_30_days"] > 0
    # Places merge across spellings, ten of them are cut from more, and partners are many.
    year = reference.top_locations(filters[5], limit=1000)
    assert len(year) > reports.TOP_LOCATIONS and year[0]["count"] > CONCERNS / 100
    assert len(reference.actions_by_partner(filters[5])) == len(PARTNERS)
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
        # An action with a partner, through the service.
        record_action(
            concern=concerns[30],
            note="Referred to TfL.",
            status=ConcernStatus.REFERRED,
            partner=Partner.TFL,
            by=commander,
        )
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
    # A place's words edited (from one spelling to another, then to a new place).
    concerns[26].location_text = " the park"
    concerns[26].save()
    concerns[27].location_text = "The new footbridge"
    concerns[27].save()
    # An action's partner changed, an action moved to a concern of another day, and actions
    # deleted, one by one and in a batch.
    actions = list(ConcernAction.objects.order_by("pk"))
    actions[0].partner = Partner.HOUSING
    actions[0].save()
    actions[1].concern = concerns[40]
    actions[1].save()
    actions[2].delete()
    ConcernAction.objects.filter(pk__in=[a.pk for a in actions[3:20]]).delete()
    assert_same_figures(filters)
    assert_rows_as_if_rebuilt()

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
            "locations": reports.top_locations(f),
            "partners": reports.actions_by_partner(f),
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


def _named_and_acted_on(n: int, rng: random.Random) -> None:
    """`n` more concerns in the four boroughs, each at a place of its own or a shared one,
    three in four with an action for some partner."""
    boroughs = list(Borough.objects.filter(slug__in=SLUGS))
    for i in range(n):
        concern = make_concern(
            borough=rng.choice(boroughs),
            category=rng.choice(Concern.Category.values),
            location_text=rng.choice([*PLACES, f"Place {i}"]),
            logged_at=random_moment(rng),
        )
        if i % 4:
            make_action(
                concern,
                partner=rng.choice(PARTNERS),
                status=ConcernStatus.REFERRED,
                # Whole days later: each middle time is alone in its bucket, so the medians
                # never cost the one more query that reads a bucket's concerns.
                at=concern.logged_at + timedelta(days=rng.randint(1, 30)),
            )


@pytest.mark.querycount
@pytest.mark.parametrize("place", ["london", "borough", "category"])
def test_actions_and_places_cost_one_query_each_and_the_page_the_same_at_any_size(
    place, client, django_assert_num_queries
):
    rng = random.Random(11)
    login_staff(client, make_user("Commanders", officer_bcu=""))
    lambeth = Borough.objects.get(slug="lambeth")
    f = reports.ReportFilters(
        start=date(2026, 1, 1),
        end=LAST_DAY,
        borough=lambeth if place != "london" else None,
        category="poorly_lit" if place == "category" else "",
        now=NOW,
    )
    query = {"from": f.start, "to": f.end, "category": f.category}
    if f.borough:
        query["borough"] = "lambeth"

    def statements() -> int:
        with django_assert_num_queries(1):
            places = reports.top_locations(f)
        with django_assert_num_queries(1):
            partners = reports.actions_by_partner(f)
        assert places == reference.top_locations(f)
        assert partners == reference.actions_by_partner(f)
        with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as page:
            assert client.get("/reports/", query).status_code == 200
        return len(page)

    _named_and_acted_on(4, rng)
    few = statements()
    _named_and_acted_on(150, rng)
    assert statements() == few
