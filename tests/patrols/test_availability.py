"""When an officer cannot walk (leave, training, court): her inspector records the period on her
record in the admin; the one roster check (check_free) refuses her for a walk that overlaps it,
whether rostering her or moving her walk; the roster's choices list the free officers first;
and a period recorded over walks she is already on is flagged, on saving and on the week."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from bookings.services import change_walk
from patrols.models import RosterAssignment, Unavailability
from patrols.services import roster_officer
from tests.factories import (
    borough,
    login_staff,
    make_officer,
    make_unavailability,
    make_user,
    make_walk,
)
from tests.patrols.conftest import form_fields

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=LONDON)  # Monday of 2026-W50
WALK_AT = datetime(2026, 12, 10, 18, 0, tzinfo=LONDON)  # the Thursday evening


@pytest.fixture(autouse=True)
def pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def inspector(client):
    """An inspector of Central South (AS), signed in on the pinned day."""
    user = make_user("Inspectors", officer_bcu="AS")
    login_staff(client, user)
    return user


def leave_over(walk, officer, **overrides):
    """Her leave from the morning of the walk's day to the next morning."""
    day = walk.starts_at.astimezone(LONDON).replace(hour=8, minute=0)
    return make_unavailability(officer, starts_at=day, ends_at=day + timedelta(days=1), **overrides)


# --- the roster service ---


def test_an_officer_on_leave_cannot_be_rostered():
    walk, officer = make_walk(starts_at=WALK_AT), make_officer(name="Priya Shah")
    leave_over(walk, officer)
    with pytest.raises(ValidationError) as error:
        roster_officer(walk=walk, officer=officer)
    assert error.value.code == "officer_unavailable"
    assert error.value.messages == [
        "Priya Shah cannot walk at that time: leave, "
        "Thu 10 Dec 2026 08:00 to Fri 11 Dec 2026 08:00."
    ]
    assert not RosterAssignment.objects.exists()


def test_a_period_that_ends_as_the_walk_starts_does_not_stop_her():
    walk, officer = make_walk(starts_at=WALK_AT), make_officer()
    make_unavailability(
        officer,
        starts_at=walk.starts_at - timedelta(hours=8),
        ends_at=walk.starts_at,
        reason=Unavailability.Reason.COURT,
    )
    make_unavailability(officer, starts_at=walk.ends_at, ends_at=walk.ends_at + timedelta(hours=2))
    assert roster_officer(walk=walk, officer=officer).officer == officer


def test_moving_a_walk_onto_her_leave_is_refused_and_nothing_moves():
    walk, officer = make_walk(starts_at=WALK_AT), make_officer(name="Priya Shah")
    roster_officer(walk=walk, officer=officer)
    make_unavailability(
        officer,
        starts_at=WALK_AT + timedelta(days=1) - timedelta(hours=10),
        ends_at=WALK_AT + timedelta(days=1) + timedelta(hours=10),
        reason=Unavailability.Reason.TRAINING,
    )
    with pytest.raises(ValidationError) as error:
        change_walk(
            walk=walk,
            starts_at=WALK_AT + timedelta(days=1),
            ends_at=WALK_AT + timedelta(days=1, minutes=90),
        )
    assert error.value.code == "officer_unavailable"
    assert "Priya Shah cannot walk at that time: training" in error.value.messages[0]
    walk.refresh_from_db()
    assert walk.starts_at == WALK_AT
    assert RosterAssignment.objects.get(walk=walk).starts_at == WALK_AT


def test_the_database_refuses_a_period_that_ends_before_it_starts():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_unavailability(make_officer(), starts_at=NOW, ends_at=NOW - timedelta(hours=1))


# --- the roster in the walk's admin ---


def walk_form(client, walk):
    response = client.get(reverse("admin:patrols_walk_change", args=[walk.pk]))
    assert response.status_code == 200
    return response


def test_the_roster_inline_refuses_an_officer_on_leave_with_the_reason(client, inspector):
    walk, officer = make_walk(starts_at=WALK_AT), make_officer(name="Priya Shah")
    leave_over(walk, officer)
    data = form_fields(walk_form(client, walk))
    data.update({"roster-0-officer": str(officer.pk), "roster-0-role": "officer"})
    response = client.post(reverse("admin:patrols_walk_change", args=[walk.pk]), data)
    assert response.status_code == 200
    assert "Priya Shah cannot walk at that time: leave" in response.content.decode()
    assert not walk.roster.exists()


def test_the_roster_choices_list_free_officers_first_and_say_why_others_are_not(client, inspector):
    walk = make_walk(starts_at=WALK_AT)
    away = make_officer(name="Anna Away")
    busy = make_officer(name="Bea Busy")
    free = make_officer(name="Zoe Free")
    leave_over(walk, away, reason=Unavailability.Reason.COURT)
    other = make_walk(starts_at=WALK_AT + timedelta(minutes=30), meeting_point="Elsewhere")
    roster_officer(walk=other, officer=busy)
    field = walk_form(client, walk).context["inline_admin_formsets"][0].formset.forms[0]
    mine = {free.pk, busy.pk, away.pk}  # the inspector's own record is among the choices too
    labels = [label for value, label in field.fields["officer"].choices if value in mine]
    assert labels == [
        str(free),
        f"{busy} – on another walk then",
        f"{away} – cannot walk then: court",
    ]


# --- recording a period on her record ---


def officer_form(client, officer):
    response = client.get(reverse("admin:patrols_officer_change", args=[officer.pk]))
    assert response.status_code == 200
    return form_fields(response)


def with_period(data, starts, ends, reason="leave"):
    starts, ends = starts.astimezone(LONDON), ends.astimezone(LONDON)
    data.update(
        {
            "unavailability-0-starts_at_0": f"{starts:%Y-%m-%d}",
            "unavailability-0-starts_at_1": f"{starts:%H:%M:%S}",
            "unavailability-0-ends_at_0": f"{ends:%Y-%m-%d}",
            "unavailability-0-ends_at_1": f"{ends:%H:%M:%S}",
            "unavailability-0-reason": reason,
        }
    )
    return data


def test_an_inspector_records_leave_on_her_officers_record(client, inspector):
    officer = make_officer()
    starts = datetime(2026, 12, 14, 8, 0, tzinfo=LONDON)
    data = with_period(officer_form(client, officer), starts, starts + timedelta(days=5))
    response = client.post(reverse("admin:patrols_officer_change", args=[officer.pk]), data)
    assert response.status_code == 302
    period = Unavailability.objects.get(officer=officer)
    assert (period.starts_at, period.reason) == (starts, "leave")
    warnings = [m for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    assert warnings == []


def test_a_period_that_ends_before_it_starts_is_a_form_error(client, inspector):
    officer = make_officer()
    starts = datetime(2026, 12, 14, 8, 0, tzinfo=LONDON)
    data = with_period(officer_form(client, officer), starts, starts - timedelta(hours=1))
    response = client.post(reverse("admin:patrols_officer_change", args=[officer.pk]), data)
    assert response.status_code == 200
    assert "The period must end after it starts." in response.content.decode()
    assert not Unavailability.objects.exists()


def test_leave_over_walks_she_is_rostered_on_is_flagged_naming_them(client, inspector):
    officer = make_officer(name="Priya Shah")
    walk = make_walk(starts_at=WALK_AT, title="Brixton evening walk")
    later = make_walk(starts_at=WALK_AT + timedelta(days=10), title="Far later walk")
    roster_officer(walk=walk, officer=officer)
    roster_officer(walk=later, officer=officer)
    starts = WALK_AT - timedelta(days=1)
    data = with_period(officer_form(client, officer), starts, starts + timedelta(days=3))
    response = client.post(
        reverse("admin:patrols_officer_change", args=[officer.pk]), data, follow=True
    )
    warnings = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert warnings == [
        f"Priya Shah is rostered on 1 walk during this leave: {walk}. Find another officer for it."
    ]
    # The week marks the walk, in words.
    week = client.get(reverse("admin:patrols_walk_week") + "?week=2026-W50")
    assert "Priya Shah: officer on leave or away at that time" in week.content.decode()


def test_the_week_marks_no_one_when_no_officer_is_away(client, inspector):
    roster_officer(walk=make_walk(starts_at=WALK_AT), officer=make_officer())
    week = client.get(reverse("admin:patrols_walk_week") + "?week=2026-W50")
    assert "officer on leave" not in week.content.decode()


# --- scoping ---


def test_another_bcus_inspector_can_neither_see_nor_add_her_leave(client):
    officer = make_officer()  # Central South (AS)
    leave_over(make_walk(starts_at=WALK_AT), officer)
    westminster = make_user("Inspectors", officer_bcu="AW")
    login_staff(client, westminster)
    url = reverse("admin:patrols_officer_change", args=[officer.pk])
    assert client.get(url).status_code == 404
    starts = datetime(2026, 12, 20, 8, 0, tzinfo=LONDON)
    data = with_period({"name": officer.name}, starts, starts + timedelta(days=1))
    assert client.post(url, data).status_code == 404
    assert Unavailability.objects.filter(officer=officer).count() == 1
    assert not Unavailability.objects.visible_to(westminster).exists()


def test_her_own_inspector_sees_her_leave_on_her_record(client, inspector):
    officer = make_officer(bcu=borough("lambeth").bcu)
    leave_over(make_walk(starts_at=WALK_AT), officer)
    response = client.get(reverse("admin:patrols_officer_change", args=[officer.pk]))
    formset = next(
        f.formset
        for f in response.context["inline_admin_formsets"]
        if f.formset.model is Unavailability
    )
    assert len(formset.forms) == 2  # her period, and one empty row to add another
    assert formset.forms[0].instance.officer == officer
