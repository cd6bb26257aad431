"""Audit: who changed which walk, roster, concern and action, when, seen from the admin."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from concerns.models import Concern, ConcernAction
from patrols.models import RosterAssignment, Walk
from tests.factories import (
    borough,
    login_staff,
    make_concern,
    make_officer,
    make_user,
    make_walk,
)
from tests.patrols.conftest import form_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def inspector(client):
    return login_staff(client, make_user("Inspectors", officer_bcu="AS"))


@pytest.fixture
def walk():
    # Whole minutes, as the admin's form gives them back: only what she changes differs.
    return make_walk(starts_at=timezone.now().replace(second=0, microsecond=0) + timedelta(days=5))


def change(client, walk, **changes):
    url = reverse("admin:patrols_walk_change", args=[walk.pk])
    data = form_fields(client.get(url))
    data.update(changes)
    return client.post(url, data)


def history_page(client, obj):
    name = f"admin:{obj._meta.app_label}_{obj._meta.model_name}_history"
    return client.get(reverse(name, args=[obj.pk]))


def test_a_change_to_a_walk_records_who_what_and_when(client, inspector, walk):
    before = timezone.now()
    assert change(client, walk, title="Towpath walk at dusk").status_code == 302
    record = walk.history.latest()
    assert record.history_user == inspector
    assert record.history_type == "~"
    assert record.history_date >= before
    delta = record.diff_against(record.prev_record)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [
        ("title", walk.title, "Towpath walk at dusk")
    ]


def test_rostering_and_removing_an_officer_are_recorded_with_who_did_it(client, inspector, walk):
    officer = make_officer(name="Grace Hussain")
    assert change(client, walk, **{"roster-0-officer": str(officer.pk)}).status_code == 302
    added = RosterAssignment.history.get(walk_id=walk.pk, history_type="+")
    assert (added.officer_id, added.history_user) == (officer.pk, inspector)
    assignment = walk.roster.get()
    data = {"roster-0-id": str(assignment.pk), "roster-0-DELETE": "on"}
    assert change(client, walk, **data).status_code == 302
    removed = RosterAssignment.history.get(walk_id=walk.pk, history_type="-")
    assert (removed.officer_id, removed.history_user) == (officer.pk, inspector)


def test_an_action_on_a_concern_is_recorded_with_the_concern_s_new_status(client, inspector):
    concern = make_concern()
    url = reverse("admin:concerns_concern_change", args=[concern.pk])
    data = form_fields(client.get(url))
    prefix = next(k for k in data if k.endswith("-0-note")).removesuffix("-0-note")
    data.update(
        {
            f"{prefix}-0-note": "Council replaced the lamps.",
            f"{prefix}-0-status": "actioned",
            f"{prefix}-0-partner": "council_lighting",
        }
    )
    assert client.post(url, data).status_code == 302
    action = ConcernAction.history.get(history_type="+")
    assert (action.note, action.history_user) == ("Council replaced the lamps.", inspector)
    status_change = Concern.history.filter(id=concern.pk).latest()
    assert (status_change.status, status_change.history_user) == ("actioned", inspector)


def test_the_history_page_shows_changes_and_roster_changes(client, inspector, walk):
    officer = make_officer(name="Grace Hussain")
    change(client, walk, title="Towpath walk at dusk", **{"roster-0-officer": str(officer.pk)})
    response = history_page(client, walk)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Towpath walk at dusk" in page
    assert inspector.username in page
    assert "Roster changes" in page
    assert "Grace Hussain" in page
    assert "Revert" not in page and "/history/" not in page.split("Changes to this")[1]


def test_the_concern_history_page_lists_its_actions(client, inspector):
    concern = make_concern()
    ConcernAction.objects.create(concern=concern, note="Referred to parks.", status="referred")
    page = history_page(client, concern).content.decode()
    assert "Actions" in page and "Referred to parks." in page


def test_another_bcu_s_history_is_not_found(client, inspector):
    theirs = make_walk(borough=borough("westminster"))
    assert history_page(client, theirs).status_code == 404
    assert history_page(client, make_concern(borough=borough("westminster"))).status_code == 404


def test_no_past_version_can_be_restored(client, inspector, walk):
    change(client, walk, title="Towpath walk at dusk")
    first = walk.history.earliest()
    url = reverse("admin:patrols_walk_simple_history", args=[walk.pk, first.history_id])
    assert client.get(url).status_code == 404
    data = form_fields(client.get(reverse("admin:patrols_walk_change", args=[walk.pk])))
    assert client.post(url, {**data, "title": walk.title}).status_code == 404
    walk.refresh_from_db()
    assert walk.title == "Towpath walk at dusk"


@pytest.mark.querycount
def test_the_history_page_costs_the_same_queries_however_long_the_history(
    client, inspector, walk, django_assert_max_num_queries
):
    def edit(times):
        for n in range(times):
            Walk.objects.filter(pk=walk.pk).update(title=f"Walk {n}")
            Walk.objects.get(pk=walk.pk).save()  # a history row, as a change in the admin
            RosterAssignment.objects.create(
                walk=walk, officer=make_officer(), starts_at=walk.starts_at, ends_at=walk.ends_at
            )

    edit(2)
    with CaptureQueriesContext(connection) as short:
        assert history_page(client, walk).status_code == 200
    edit(10)
    with django_assert_max_num_queries(len(short)):
        assert history_page(client, walk).status_code == 200


def test_the_history_page_gives_changes_in_words_not_stored_codes(client, inspector):
    concern = make_concern(times_unsafe=Concern.times_mask(["evening"]))
    url = reverse("admin:concerns_concern_change", args=[concern.pk])
    data = form_fields(client.get(url))
    data["times_unsafe"] = ["evening", "after_dark"]
    assert client.post(url, data).status_code == 302

    page = history_page(client, concern).content.decode()

    change = page.split("<strong>When it feels unsafe:</strong>")[1].split("</li>")[0]
    assert change.strip() == "Evening &rarr; Evening, after dark"
