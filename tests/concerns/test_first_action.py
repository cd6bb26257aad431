"""A concern's first action's time, stored on the concern (`first_action_at`): set when an
action is recorded, in the same transaction, and kept right when actions move or go; the
migration fills it from the actions already held; the reports and the CSV read it."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from concerns import rollup
from concerns.models import Concern, ConcernAction, ConcernDay, FirstActionDay
from concerns.services import record_action
from tests.factories import make_action, make_concern, make_user, make_walk

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
LOGGED = datetime(2026, 3, 2, 18, 0, tzinfo=LONDON)


def stored(concern: Concern):
    concern.refresh_from_db()
    return concern.first_action_at


@pytest.fixture
def inspector():
    return make_user("Inspectors", officer_bcu="AS")


@pytest.fixture
def concern():
    return make_concern(walk=make_walk(status="completed"), logged_at=LOGGED)


def test_a_concern_with_no_action_has_no_first_action(concern):
    assert stored(concern) is None


def test_record_action_stores_the_first_actions_time_and_a_later_one_leaves_it(concern, inspector):
    first = LOGGED + timedelta(days=2, hours=3)
    with time_machine.travel(first, tick=False):
        record_action(
            concern=concern,
            note="Council told.",
            status="referred",
            partner="council_lighting",
            by=inspector,
        )
    assert stored(concern) == first
    with time_machine.travel(first + timedelta(days=5), tick=False):
        record_action(
            concern=concern, note="Lamps fixed.", status="actioned", partner="", by=inspector
        )
    assert stored(concern) == first


def test_it_is_set_in_the_same_transaction_as_the_action(concern, inspector):
    with pytest.raises(RuntimeError), transaction.atomic():
        record_action(
            concern=concern,
            note="Council told.",
            status="referred",
            partner="council_lighting",
            by=inspector,
        )
        assert stored(concern) is not None  # inside: already there
        raise RuntimeError("the request fails after the action")
    assert stored(concern) is None and not ConcernAction.objects.exists()


def test_an_earlier_action_added_later_becomes_the_first(concern):
    make_action(concern, at=LOGGED + timedelta(days=4))
    earlier = make_action(concern, at=LOGGED + timedelta(days=1))
    assert stored(concern) == earlier.at


def test_deleting_the_first_action_moves_it_to_the_next_and_deleting_all_clears_it(concern):
    first = make_action(concern, at=LOGGED + timedelta(days=1))
    second = make_action(concern, at=LOGGED + timedelta(days=3))
    first.delete()
    assert stored(concern) == second.at
    ConcernAction.objects.filter(concern=concern).delete()  # a queryset delete too
    assert stored(concern) is None


def test_moving_an_action_moves_the_first_action(concern):
    action = make_action(concern, at=LOGGED + timedelta(days=1))
    make_action(concern, at=LOGGED + timedelta(days=3))
    action.at = LOGGED + timedelta(days=6)
    action.save()
    assert stored(concern) == LOGGED + timedelta(days=3)


def test_rebuild_puts_right_what_bulk_writes_left(concern):
    other = make_concern(logged_at=LOGGED)
    ConcernAction.objects.bulk_create(  # no signals: as seed_demo and the benchmarks write
        [ConcernAction(concern=concern, note="n", status="closed", at=LOGGED + timedelta(days=2))]
    )
    Concern.objects.filter(pk=other.pk).update(first_action_at=LOGGED)  # wrong: no action
    assert stored(concern) is None
    assert rollup.rebuild_first_actions() == 1
    assert stored(concern) == LOGGED + timedelta(days=2)
    assert stored(other) is None


BEFORE = [("concerns", "0008_concern_several_times_unsafe")]
AFTER = [("concerns", "0009_concern_first_action_at")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_fills_the_first_action_from_the_actions_held():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    borough = old.get_model("patrols", "Borough").objects.get(slug="lambeth")
    OldConcern = old.get_model("concerns", "Concern")
    OldAction = old.get_model("concerns", "ConcernAction")

    def old_concern():
        return OldConcern.objects.create(
            bcu_id=borough.bcu_id,
            borough=borough,
            category="poorly_lit",
            location_text="A place",
            times_unsafe=4,
            description="Dark.",
            logged_at=LOGGED,
        )

    acted, waiting = old_concern(), old_concern()
    for days in (5, 2, 9):
        OldAction.objects.create(
            concern=acted, note="n", status="referred", at=LOGGED + timedelta(days=days)
        )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    first = dict(new.get_model("concerns", "Concern").objects.values_list("pk", "first_action_at"))
    assert first[acted.pk] == LOGGED + timedelta(days=2)
    assert first[waiting.pk] is None

    # The later migrations count them by day, and their times to the first action.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    day = ConcernDay.objects.get(borough=borough.pk, day=LOGGED.date())
    assert (day.concerns, day.open, day.after_dark) == (2, 2, 2)
    times = FirstActionDay.objects.get(borough=borough.pk, day=LOGGED.date())
    assert (times.concerns, times.shortest) == (1, timedelta(days=2))
