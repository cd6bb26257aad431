"""The welfare check of an evening walk. An officer on it taps "Walk started" and later "Walk
finished, all safe" on /staff/. A walk started and not marked safe WELFARE_CHECK_AFTER after its
planned end is overdue: beat's outbox sweep alerts its inspectors and its other officers, once
each, unless someone marks it safe first; the week and the walk's admin page say so."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings.delivery import deliver_due_notifications
from bookings.models import Notification
from bookings.tasks import deliver_due_notifications as beat_sweep
from bookings.welfare import raise_welfare_alerts
from patrols.models import WalkCheckIn
from patrols.services import roster_officer
from patrols.welfare import finish_walk, start_walk
from tests.factories import borough, login_staff, make_booking, make_officer, make_user, make_walk

LONDON = ZoneInfo("Europe/London")
WALK_AT = datetime(2026, 12, 10, 18, 0, tzinfo=LONDON)  # to 19:30; overdue from 20:00
DUE = WALK_AT + timedelta(minutes=120)


def at(hour: int, minute: int = 0) -> datetime:
    return WALK_AT.replace(hour=hour, minute=minute)


@pytest.fixture
def clock():
    """The clock pinned the morning of the walk; tests move it."""
    with time_machine.travel(at(9), tick=False) as traveller:
        yield traveller


@pytest.fixture
def team(clock):
    """A walk of Central South with two officers on it, her inspector, and others who are not
    its team: an inspector of another BCU and an officer of the BCU not on the walk."""
    walk = make_walk(
        starts_at=WALK_AT,
        title="Evening walk in Brixton",
        meeting_point="Windrush Square, by the library",
    )
    first = make_user("Officers", officer_bcu="AS", email="first@met.example")
    first.officer.name = "Priya Shah"
    first.officer.save()
    second = make_user("Officers", officer_bcu="AS", email="second@met.example")
    roster_officer(walk=walk, officer=first.officer)
    roster_officer(walk=walk, officer=second.officer)
    inspector = make_user("Inspectors", officer_bcu="AS", email="inspector@met.example")
    make_user("Inspectors", officer_bcu="AW", email="west@met.example")
    make_user("Officers", officer_bcu="AS", email="not-on-it@met.example")
    make_booking(walk=walk, full_name="Amira Begum", email="amira@example.org")
    return {"walk": walk, "first": first, "second": second, "inspector": inspector}


def started(team, clock, when=None):
    clock.move_to(when or at(18, 5))
    return start_walk(walk=team["walk"], user=team["first"])


def recipients():
    return sorted(address for message in mail.outbox for address in message.to)


# --- the alert ---


@pytest.mark.django_db
def test_the_alert_goes_once_30_minutes_after_the_planned_end_not_at_29(team, clock):
    started(team, clock)
    clock.move_to(DUE - timedelta(minutes=1))
    beat_sweep()
    assert not Notification.objects.filter(kind="welfare_alert").exists()
    assert mail.outbox == []

    clock.move_to(DUE)
    beat_sweep()
    assert recipients() == ["inspector@met.example", "second@met.example"]

    clock.move_to(DUE + timedelta(minutes=1))
    beat_sweep()
    clock.move_to(DUE + timedelta(hours=2))
    beat_sweep()
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_the_alert_names_the_walk_its_meeting_point_its_end_and_who_started_it(team, clock):
    started(team, clock)
    clock.move_to(DUE)
    beat_sweep()
    message = next(m for m in mail.outbox if m.to == ["inspector@met.example"])
    assert message.subject == "Walk not marked safe: Evening walk in Brixton, due back 19:30"
    for part in (message.body, message.alternatives[0][0]):
        assert "Evening walk in Brixton" in part
        assert "Windrush Square, by the library" in part
        assert "Planned end: <strong>19:30" in part or "Planned end: 19:30" in part
        assert "Priya Shah" in part
        assert "started this walk at 18:05" in part
        assert reverse("admin:patrols_walk_change", args=[team["walk"].pk]) in part
    for message in mail.outbox:
        everything = message.subject + message.body + message.alternatives[0][0]
        assert "Amira" not in everything
        assert "Begum" not in everything
        assert "example.org" not in everything
    officer_copy = next(m for m in mail.outbox if m.to == ["second@met.example"])
    assert reverse("staff:home") in officer_copy.body


@pytest.mark.django_db
def test_no_alert_when_marked_safe_before(team, clock):
    started(team, clock)
    clock.move_to(at(19, 40))
    finish_walk(walk=team["walk"], user=team["second"])
    clock.move_to(DUE + timedelta(minutes=5))
    beat_sweep()
    assert not Notification.objects.filter(kind="welfare_alert").exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_no_alert_for_a_walk_never_started(team, clock):
    clock.move_to(DUE + timedelta(minutes=5))
    beat_sweep()
    assert not Notification.objects.filter(kind="welfare_alert").exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_marked_safe_after_the_alert_was_queued_it_is_not_sent(team, clock):
    started(team, clock)
    clock.move_to(DUE)
    assert raise_welfare_alerts(now=timezone.now()) == 2
    clock.move_to(DUE + timedelta(seconds=20))
    finish_walk(walk=team["walk"], user=team["inspector"])
    assert deliver_due_notifications(now=timezone.now()) == {"skipped": 2}
    assert mail.outbox == []
    reasons = set(Notification.objects.values_list("last_error", flat=True))
    assert reasons == {"Not sent: the walk was marked safe."}


@pytest.mark.django_db
def test_two_sweeps_raise_one_alert_per_recipient(team, clock):
    started(team, clock)
    clock.move_to(DUE + timedelta(minutes=3))
    assert raise_welfare_alerts(now=timezone.now()) == 2
    assert raise_welfare_alerts(now=timezone.now()) == 0
    assert Notification.objects.filter(kind="welfare_alert").count() == 2
    beat_sweep()
    beat_sweep()
    assert recipients() == ["inspector@met.example", "second@met.example"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sweeps_in_parallel_raise_one_alert_per_recipient(clock, request):
    team_ = request.getfixturevalue("team")
    started(team_, clock)
    clock.move_to(DUE + timedelta(minutes=3))
    now = timezone.now()
    barrier, added, errors = threading.Barrier(4), [], []

    def sweep():
        try:
            barrier.wait()
            added.append(raise_welfare_alerts(now=now))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(added) == 2
    assert Notification.objects.filter(kind="welfare_alert").count() == 2


@pytest.mark.django_db
def test_the_setting_moves_the_alert(team, clock, settings):
    settings.WELFARE_CHECK_AFTER = timedelta(minutes=10)
    started(team, clock)
    clock.move_to(at(19, 39))
    beat_sweep()
    assert mail.outbox == []
    clock.move_to(at(19, 40))
    beat_sweep()
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_the_sweep_is_beats_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["bookings-deliver-due-notifications"]
    assert entry["task"] == beat_sweep.name
    assert entry["schedule"] == 60.0


# --- the services ---


@pytest.mark.django_db
def test_starting_and_finishing_are_recorded_with_who_and_when_and_the_first_counts(team, clock):
    started(team, clock)
    clock.move_to(at(18, 10))
    again = start_walk(walk=team["walk"], user=team["second"])
    assert (again.started_at, again.started_by) == (at(18, 5), team["first"].officer)
    clock.move_to(at(19, 35))
    finish_walk(walk=team["walk"], user=team["second"])
    clock.move_to(at(19, 50))
    check_in = finish_walk(walk=team["walk"], user=team["first"])
    assert (check_in.finished_at, check_in.finished_by) == (at(19, 35), team["second"])
    assert WalkCheckIn.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "when, open_",
    [((17, 29), False), ((17, 30), True), ((23, 59), True)],
)
def test_officers_may_start_from_30_minutes_before_until_the_end_of_the_day(
    team, clock, when, open_
):
    clock.move_to(at(*when))
    if open_:
        assert start_walk(walk=team["walk"], user=team["first"])
    else:
        with pytest.raises(ValidationError) as error:
            start_walk(walk=team["walk"], user=team["first"])
        assert error.value.code == "welfare_closed"


@pytest.mark.django_db
def test_after_its_day_only_her_inspector_can_mark_it_safe(team, clock):
    started(team, clock)
    clock.move_to(datetime(2026, 12, 11, 0, 5, tzinfo=LONDON))
    with pytest.raises(ValidationError):
        finish_walk(walk=team["walk"], user=team["second"])
    assert finish_walk(walk=team["walk"], user=team["inspector"]).finished_by == team["inspector"]


@pytest.mark.django_db
def test_only_an_officer_on_the_walk_can_start_it_and_only_its_team_finish_it(team, clock):
    clock.move_to(at(18))
    outsider = make_user("Officers", officer_bcu="AS")
    with pytest.raises(PermissionDenied):
        start_walk(walk=team["walk"], user=outsider)
    with pytest.raises(PermissionDenied):
        start_walk(walk=team["walk"], user=team["inspector"])  # she does not walk it
    start_walk(walk=team["walk"], user=team["first"])
    with pytest.raises(PermissionDenied):
        finish_walk(walk=team["walk"], user=outsider)


@pytest.mark.django_db
def test_a_walk_never_started_cannot_be_marked_safe(team, clock):
    clock.move_to(at(19))
    with pytest.raises(ValidationError) as error:
        finish_walk(walk=team["walk"], user=team["first"])
    assert error.value.code == "walk_not_started"


# --- /staff/ ---


def staff_post(client, name, walk):
    return client.post(reverse(f"staff:{name}", args=[walk.code]))


@pytest.mark.django_db
def test_an_officer_starts_and_finishes_on_staff(team, clock, client):
    clock.move_to(at(17, 50))
    login_staff(client, team["first"])  # a sign-in lasts SESSION_HOURS: signed in then
    page = client.get(reverse("staff:home")).content.decode()
    assert "Walk started" in page
    response = staff_post(client, "walk_started", team["walk"])
    assert response.status_code == 302
    assert response.url == reverse("staff:home") + f"#walk-{team['walk'].code}"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Evening walk in Brixton: walk started at 17:50."
    ]
    # After the planned end the card stays, with the button, until she marks it safe.
    clock.move_to(at(19, 45))
    page = client.get(reverse("staff:home")).content.decode()
    assert "Walk finished, all safe" in page
    staff_post(client, "walk_finished", team["walk"])
    check_in = WalkCheckIn.objects.get()
    assert (check_in.finished_at, check_in.finished_by) == (at(19, 45), team["first"])
    page = client.get(reverse("staff:home")).content.decode()
    assert "Walk finished, all safe" not in page


@pytest.mark.django_db
def test_the_staff_page_says_overdue(team, clock, client):
    started(team, clock)
    clock.move_to(DUE)
    login_staff(client, team["second"])
    page = client.get(reverse("staff:home")).content.decode()
    assert "Overdue: not marked safe" in page


@pytest.mark.django_db
def test_another_bcus_officer_cannot_start_or_finish_a_walk(team, clock, client):
    west = make_user("Officers", officer_bcu="AW")
    west_walk = make_walk(starts_at=WALK_AT, borough=borough("westminster"))
    roster_officer(walk=west_walk, officer=make_officer(bcu=west.officer.bcu))
    clock.move_to(at(18))
    login_staff(client, west)
    assert staff_post(client, "walk_started", team["walk"]).status_code == 404
    started(team, clock)
    assert staff_post(client, "walk_finished", team["walk"]).status_code == 404
    assert WalkCheckIn.objects.get().finished_at is None


@pytest.mark.django_db
def test_an_officer_of_the_bcu_not_on_the_walk_is_refused(team, clock, client):
    outsider = make_user("Officers", officer_bcu="AS")
    clock.move_to(at(18))
    login_staff(client, outsider)
    assert staff_post(client, "walk_started", team["walk"]).status_code == 403
    assert not WalkCheckIn.objects.exists()


@pytest.mark.django_db
def test_a_tap_outside_the_window_is_refused_with_a_message(team, clock, client):
    clock.move_to(at(17))
    login_staff(client, team["first"])
    response = staff_post(client, "walk_started", team["walk"])
    assert response.status_code == 302
    [said] = [str(m) for m in get_messages(response.wsgi_request)]
    assert said.startswith("The walk's welfare check is open from 30 minutes before")
    assert not WalkCheckIn.objects.exists()


@pytest.mark.django_db
def test_the_buttons_are_posts_with_csrf(team, clock):
    client = Client(enforce_csrf_checks=True)
    clock.move_to(at(18))
    login_staff(client, team["first"])
    assert client.get(reverse("staff:walk_started", args=[team["walk"].code])).status_code == 405
    assert staff_post(client, "walk_started", team["walk"]).status_code == 403
    assert not WalkCheckIn.objects.exists()


# --- the admin ---


@pytest.mark.django_db
def test_the_week_and_the_walks_page_show_overdue_in_words(team, clock, client):
    started(team, clock)
    login_staff(client, team["inspector"])
    week = reverse("admin:patrols_walk_week") + "?week=2026-W50"
    change = reverse("admin:patrols_walk_change", args=[team["walk"].pk])
    clock.move_to(DUE - timedelta(minutes=1))
    assert "Overdue: not marked safe" not in client.get(week).content.decode()
    assert "Overdue: not marked safe" not in client.get(change).content.decode()
    clock.move_to(DUE)
    assert "Overdue: not marked safe" in client.get(week).content.decode()
    assert "Overdue: not marked safe" in client.get(change).content.decode()


@pytest.mark.django_db
def test_an_inspector_marks_it_safe_in_the_admin_and_no_alert_goes(team, clock, client):
    started(team, clock)
    clock.move_to(DUE + timedelta(minutes=10))
    login_staff(client, team["inspector"])
    response = client.post(reverse("admin:patrols_walk_safe", args=[team["walk"].pk]))
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Marked safe at 20:10."]
    beat_sweep()
    assert mail.outbox == []
    page = client.get(reverse("admin:patrols_walk_change", args=[team["walk"].pk]))
    assert "Finished, all safe" in page.content.decode()
    assert "Overdue" not in page.content.decode()


@pytest.mark.django_db
def test_another_bcus_inspector_cannot_mark_it_safe(team, clock, client):
    started(team, clock)
    clock.move_to(DUE)
    login_staff(client, make_user("Inspectors", officer_bcu="AW"))
    response = client.post(reverse("admin:patrols_walk_safe", args=[team["walk"].pk]))
    assert response.status_code == 404
    assert WalkCheckIn.objects.get().finished_at is None
