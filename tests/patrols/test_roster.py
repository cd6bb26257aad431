"""Rostering: an officer walks only in her BCU, only while active, and never on two walks at
once, checked by the service under a lock and by PostgreSQL's exclusion constraint."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from patrols import services
from patrols.models import RosterAssignment, Walk
from patrols.services import change_assignment, roster_officer, unroster_officer
from tests.factories import borough, make_assignment, make_officer, make_walk
from tests.patrols.conftest import form_fields

pytestmark = pytest.mark.django_db


def overlapping_walks():
    first = make_walk()
    second = make_walk(
        borough=borough("southwark"),
        starts_at=first.starts_at + timedelta(minutes=30),
        meeting_point="Peckham Rye station",
    )
    return first, second


def test_rostering_copies_the_walks_times_onto_the_assignment():
    walk, officer = make_walk(), make_officer()
    assignment = roster_officer(walk=walk, officer=officer, role="lead")
    assert (assignment.starts_at, assignment.ends_at) == (walk.starts_at, walk.ends_at)
    assert assignment.role == "lead"


def test_an_officer_of_another_bcu_is_refused():
    walk = make_walk()
    officer = make_officer(bcu=borough("westminster").bcu)
    with pytest.raises(ValidationError) as error:
        roster_officer(walk=walk, officer=officer)
    assert error.value.code == "officer_other_bcu"
    assert not RosterAssignment.objects.exists()


def test_an_inactive_officer_is_refused():
    with pytest.raises(ValidationError) as error:
        roster_officer(walk=make_walk(), officer=make_officer(is_active=False))
    assert error.value.code == "officer_inactive"


def test_a_cancelled_walk_takes_no_officers():
    with pytest.raises(ValidationError) as error:
        roster_officer(walk=make_walk(status=Walk.Status.CANCELLED), officer=make_officer())
    assert error.value.code == "walk_cancelled"


def test_the_same_officer_twice_on_a_walk_is_refused():
    walk, officer = make_walk(), make_officer()
    roster_officer(walk=walk, officer=officer)
    with pytest.raises(ValidationError) as error:
        roster_officer(walk=walk, officer=officer)
    assert error.value.code == "officer_twice"


def test_an_officer_on_an_overlapping_walk_is_refused_by_the_service():
    first, second = overlapping_walks()
    officer = make_officer()
    roster_officer(walk=first, officer=officer)
    with pytest.raises(ValidationError) as error:
        roster_officer(walk=second, officer=officer)
    assert error.value.code == "officer_overlap"
    assert list(officer.assignments.all().values_list("walk", flat=True)) == [first.pk]


def test_back_to_back_walks_do_not_overlap():
    first = make_walk()
    second = make_walk(starts_at=first.ends_at, meeting_point="Somewhere else")
    officer = make_officer()
    roster_officer(walk=first, officer=officer)
    roster_officer(walk=second, officer=officer)
    assert officer.assignments.count() == 2


def test_the_database_refuses_overlapping_rows_whatever_the_application_does():
    first, second = overlapping_walks()
    officer = make_officer()
    make_assignment(first, officer)
    with pytest.raises(IntegrityError, match="roster_officer_no_overlapping_walks"):
        with transaction.atomic():
            make_assignment(second, officer)


def test_the_service_turns_the_constraints_refusal_into_a_validation_error(monkeypatch):
    """If the check is ever bypassed (a race it could not see), the constraint still holds and
    the caller gets a ValidationError, not a database error."""
    first, second = overlapping_walks()
    officer = make_officer()
    make_assignment(first, officer)
    monkeypatch.setattr(services, "check_can_walk", lambda **kwargs: None)
    with pytest.raises(ValidationError) as error:
        roster_officer(walk=second, officer=officer)
    assert error.value.code == "officer_overlap"


def test_changing_who_fills_a_place_checks_the_new_officer():
    first, second = overlapping_walks()
    busy, free = make_officer(), make_officer()
    roster_officer(walk=first, officer=busy)
    assignment = roster_officer(walk=second, officer=free)
    with pytest.raises(ValidationError):
        change_assignment(assignment=assignment, officer=busy)
    # Refused as a whole: the place she held is still hers.
    assert list(second.roster.values_list("officer", flat=True)) == [free.pk]
    changed = change_assignment(assignment=second.roster.get(), role="lead")
    assert changed.role == "lead"


def test_unrostering_frees_the_officer():
    first, second = overlapping_walks()
    officer = make_officer()
    unroster_officer(assignment=roster_officer(walk=first, officer=officer))
    roster_officer(walk=second, officer=officer)
    assert list(officer.assignments.values_list("walk", flat=True)) == [second.pk]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_inspectors_rostering_one_officer_at_once_give_her_one_walk():
    first, second = overlapping_walks()
    officer = make_officer()
    barrier = threading.Barrier(2)
    outcomes = []

    def roster(walk):
        try:
            barrier.wait()
            roster_officer(walk=walk, officer=officer)
            outcomes.append("rostered")
        except ValidationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=roster, args=(w,)) for w in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["officer_overlap", "rostered"]
    assert RosterAssignment.objects.filter(officer=officer).count() == 1


# --- the roster inline in the walk's admin ---


def change_form(client, walk):
    response = client.get(reverse("admin:patrols_walk_change", args=[walk.pk]))
    assert response.status_code == 200
    return form_fields(response)


def post_change(client, walk, data):
    return client.post(reverse("admin:patrols_walk_change", args=[walk.pk]), data)


def test_an_inspector_rosters_two_officers_in_the_walk_form(client, inspector):
    walk = make_walk()
    lead, other = make_officer(), make_officer()
    data = change_form(client, walk)
    data.update(
        {
            "roster-0-officer": str(lead.pk),
            "roster-0-role": "lead",
            "roster-1-officer": str(other.pk),
            "roster-1-role": "officer",
        }
    )
    response = post_change(client, walk, data)
    assert response.status_code == 302
    roster = {a.officer_id: a for a in walk.roster.all()}
    assert set(roster) == {lead.pk, other.pk}
    assert roster[lead.pk].role == "lead"
    assert all((a.starts_at, a.ends_at) == (walk.starts_at, walk.ends_at) for a in roster.values())


def test_the_same_officer_twice_in_one_formset_is_a_form_error_not_a_500(client, inspector):
    walk, officer = make_walk(), make_officer()
    data = change_form(client, walk)
    data.update(
        {
            "roster-0-officer": str(officer.pk),
            "roster-0-role": "lead",
            "roster-1-officer": str(officer.pk),
            "roster-1-role": "officer",
        }
    )
    response = post_change(client, walk, data)
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert any("already on this walk" in str(e) for e in errors)
    assert not walk.roster.exists()


def test_an_officer_busy_on_an_overlapping_walk_is_a_form_error(client, inspector):
    first, second = overlapping_walks()
    officer = make_officer(name="Busy Bee")
    roster_officer(walk=first, officer=officer)
    data = change_form(client, second)
    data.update({"roster-0-officer": str(officer.pk), "roster-0-role": "officer"})
    response = post_change(client, second, data)
    assert response.status_code == 200
    assert "Busy Bee is already on another walk at that time" in response.content.decode()
    assert not second.roster.exists()


def test_moving_a_walk_onto_a_rostered_officers_other_walk_is_a_form_error(client, inspector):
    first = make_walk()
    later = make_walk(starts_at=first.starts_at + timedelta(hours=3), meeting_point="Elsewhere")
    officer = make_officer()
    roster_officer(walk=first, officer=officer)
    roster_officer(walk=later, officer=officer)
    data = change_form(client, later)
    local = timezone.localtime(first.starts_at)
    data.update(starts_at_0=f"{local:%Y-%m-%d}", starts_at_1=f"{local:%H:%M:%S}")
    data.update(ends_at_0=f"{local:%Y-%m-%d}", ends_at_1=f"{local + timedelta(hours=1):%H:%M:%S}")
    response = post_change(client, later, data)
    assert response.status_code == 200
    later.refresh_from_db()
    assert later.starts_at == first.starts_at + timedelta(hours=3)


def test_a_clash_found_only_under_the_lock_is_a_message_not_a_500(client, inspector, monkeypatch):
    """Two inspectors save at the same moment: the form checks passed for both, the roster
    service finds the clash when saving. Nothing is saved and she is told why."""
    first, second = overlapping_walks()
    officer = make_officer(name="Race Condition")
    roster_officer(walk=first, officer=officer)
    data = change_form(client, second)
    data.update({"roster-0-officer": str(officer.pk), "roster-0-role": "officer", "title": "New"})
    monkeypatch.setattr("staff.admin.patrols.check_can_walk", lambda **kwargs: None)
    response = post_change(client, second, data)
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "Race Condition is already on another walk" in page.content.decode()
    second.refresh_from_db()
    assert second.title != "New"  # the whole save was rolled back
    assert not second.roster.exists()


def test_removing_an_officer_in_the_form_unrosters_her(client, inspector):
    walk, officer = make_walk(), make_officer()
    roster_officer(walk=walk, officer=officer)
    data = change_form(client, walk)
    data["roster-0-DELETE"] = "on"
    assert post_change(client, walk, data).status_code == 302
    assert not walk.roster.exists()
