"""When it feels unsafe: every time of day she gave, kept as one small number, read back,
found by the admin's filter, and the single answers of before carried over by the migration."""

import pytest
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from concerns.models import Concern
from tests.factories import login_staff, make_concern, make_user

pytestmark = pytest.mark.django_db

BEFORE = [("concerns", "0007_debrief_walk_ins")]
AFTER = [("concerns", "0008_concern_several_times_unsafe")]


@pytest.mark.parametrize(
    "times",
    [
        ["daytime"],
        ["evening", "late_night"],
        ["daytime", "evening", "after_dark", "late_night"],
    ],
)
def test_times_are_kept_and_read_back_in_their_order(times):
    concern = make_concern(times_unsafe=Concern.times_mask(reversed(times)))
    concern.refresh_from_db()
    assert Concern.times_of(concern.times_unsafe) == times


def test_a_time_finds_every_concern_that_gave_it_and_no_other():
    evening = make_concern(times_unsafe=Concern.times_mask(["evening"]))
    both = make_concern(times_unsafe=Concern.times_mask(["evening", "after_dark"]))
    make_concern(times_unsafe=Concern.times_mask(["after_dark", "late_night"]))
    found = Concern.objects.filter(times_unsafe__in=Concern.masks_with("evening"))
    assert set(found) == {evening, both}


def test_her_answers_read_as_words():
    concern = make_concern(times_unsafe=Concern.times_mask(["late_night", "evening"]))
    assert concern.get_times_unsafe_display() == "Evening, late at night"


def test_an_unknown_time_is_refused():
    with pytest.raises(ValueError):
        Concern.times_mask(["dawn"])


@pytest.mark.parametrize("stored", [0, 16])
def test_the_database_refuses_no_time_or_an_unknown_one(stored):
    with pytest.raises(IntegrityError):
        make_concern(times_unsafe=stored)


def test_the_admin_filters_by_one_time_and_shows_every_answer(client):
    login_staff(client, make_user("Inspectors", officer_bcu="AS"))
    make_concern(location_text="The canal path", times_unsafe=Concern.times_mask(["daytime"]))
    make_concern(
        location_text="The underpass", times_unsafe=Concern.times_mask(["evening", "after_dark"])
    )
    page = client.get(reverse("admin:concerns_concern_changelist"), {"times_unsafe": "evening"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "The underpass" in html and "The canal path" not in html
    assert "Evening, after dark" in html


def test_the_admin_change_form_ticks_the_stored_times(client):
    login_staff(client, make_user("Inspectors", officer_bcu="AS"))
    concern = make_concern(times_unsafe=Concern.times_mask(["evening", "late_night"]))
    page = client.get(reverse("admin:concerns_concern_change", args=[concern.pk]))
    boxes = page.context["adminform"].form["times_unsafe"]
    assert [box.data["value"] for box in boxes if box.data["selected"]] == [
        "evening",
        "late_night",
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_turns_each_single_answer_into_its_set_of_one():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    borough = old.get_model("patrols", "Borough").objects.get(slug="lambeth")
    OldConcern = old.get_model("concerns", "Concern")
    made = {
        time: OldConcern.objects.create(
            bcu_id=borough.bcu_id,
            borough=borough,
            category="poorly_lit",
            location_text=f"A place, {time}",
            times_unsafe=time,
            description="Dark.",
        ).pk
        for time in ["daytime", "evening", "after_dark", "late_night"]
    }
    old.get_model("concerns", "HistoricalConcern").objects.create(
        id=made["evening"],
        bcu_id=borough.bcu_id,
        borough_id=borough.pk,
        category="poorly_lit",
        location_text="A place",
        times_unsafe="evening",
        description="Dark.",
        status="open",
        logged_at=OldConcern.objects.get(pk=made["evening"]).logged_at,
        history_date=OldConcern.objects.get(pk=made["evening"]).logged_at,
        history_type="+",
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    stored = dict(new.get_model("concerns", "Concern").objects.values_list("pk", "times_unsafe"))
    assert {time: stored[pk] for time, pk in made.items()} == {
        time: Concern.times_mask([time]) for time in made
    }
    history = new.get_model("concerns", "HistoricalConcern").objects.get()
    assert history.times_unsafe == Concern.times_mask(["evening"])

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
