"""A walk's life has one owner (bookings.services: create_walk, change_walk, cancel_walk,
complete_walk): the admin and the debrief go through it, the waiting list and the roster follow
every change, and the public pages show each change at once."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings.delivery import deliver_due_notifications
from bookings.models import Booking, Notification
from bookings.services import change_walk
from concerns.services import complete_debrief
from patrols.models import Walk
from patrols.services import roster_officer
from patrols.signals import walks_changed
from tests.factories import login_staff, make_booking, make_officer, make_user, make_walk
from tests.patrols.conftest import form_fields

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)  # a Monday morning
WALK_START = datetime(2026, 11, 5, 18, 30, tzinfo=LONDON)  # Thursday evening


@pytest.fixture
def clock(client, inspector):
    """Monday morning, with the inspector signed in on the day (staff sessions last hours)."""
    with time_machine.travel(NOW, tick=False) as traveller:
        login_staff(client, inspector)
        yield traveller


def walk_at(start: datetime = WALK_START, **overrides) -> Walk:
    return make_walk(starts_at=start, ends_at=start + timedelta(minutes=90), **overrides)


def edit(client, walk, **changes):
    url = reverse("admin:patrols_walk_change", args=[walk.pk])
    data = form_fields(client.get(url))
    data.update(changes)
    return client.post(url, data)


def public_page(walk) -> str:
    """The walk's page as a visitor with no cookie sees it: the page cache keeps it whole."""
    response = Client().get(walk.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


# --- capacity ---


def test_raising_the_capacity_in_the_admin_gives_the_new_places_to_the_waiting_list(client, clock):
    walk = walk_at(capacity=1)
    first = make_booking(walk=walk)
    amira = make_booking(walk=walk, status=Booking.Status.WAITLISTED, email="amira@example.org")
    grace = make_booking(walk=walk, status=Booking.Status.WAITLISTED, email="grace@example.org")

    response = edit(client, walk, capacity="3")

    assert response.status_code == 302
    walk.refresh_from_db()
    assert walk.capacity == 3
    for booking in (amira, grace):
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CONFIRMED
    promoted = Notification.objects.filter(kind=Notification.Kind.PROMOTED)
    assert sorted(promoted.values_list("booking", flat=True)) == sorted([amira.pk, grace.pk])
    assert not first.notifications.filter(kind=Notification.Kind.PROMOTED).exists()
    # Their reminders are planned like any confirmed place's.
    assert amira.notifications.filter(kind=Notification.Kind.REMINDER_24H).exists()

    mail.outbox.clear()
    deliver_due_notifications()
    sent = {message.to[0]: message.subject for message in mail.outbox}
    assert set(sent) == {"amira@example.org", "grace@example.org"}
    assert all(subject.startswith("A place has come up") for subject in sent.values())


def test_a_capacity_below_the_places_booked_is_refused_with_a_message(client, clock):
    walk = walk_at(capacity=3)
    make_booking(walk=walk)
    make_booking(walk=walk)

    response = edit(client, walk, capacity="1")

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    message = "2 places are booked, more than 1: cancel bookings before lowering the capacity."
    assert errors["capacity"] == [message]
    assert message in response.content.decode()
    walk.refresh_from_db()
    assert walk.capacity == 3
    # The lifecycle itself refuses it too, under the walk's lock, whoever calls it.
    with pytest.raises(ValidationError) as refused:
        change_walk(walk=walk, capacity=1)
    assert refused.value.code == "capacity_below_booked"
    assert Walk.objects.get(pk=walk.pk).capacity == 3
    # Down to the places booked is fine.
    assert change_walk(walk=walk, capacity=2).capacity == 2


# --- times ---


def test_a_new_time_in_the_admin_moves_the_roster_and_shows_on_the_public_page_at_once(
    client, clock
):
    walk = walk_at(capacity=4)
    lead, second = make_officer(), make_officer()
    roster_officer(walk=walk, officer=lead, role="lead")
    roster_officer(walk=walk, officer=second)
    assert "6:30pm to 8pm" in public_page(walk)
    assert "6:30pm to 8pm" in public_page(walk)  # now served from the page cache

    response = edit(
        client,
        walk,
        starts_at_0="2026-11-05",
        starts_at_1="19:00:00",
        ends_at_0="2026-11-05",
        ends_at_1="20:30:00",
    )

    assert response.status_code == 302
    walk.refresh_from_db()
    assert walk.starts_at == datetime(2026, 11, 5, 19, 0, tzinfo=LONDON)
    assert {(a.starts_at, a.ends_at) for a in walk.roster.all()} == {(walk.starts_at, walk.ends_at)}
    page = public_page(walk)
    assert "7pm to 8:30pm" in page
    assert "6:30pm" not in page


def test_a_new_time_that_puts_an_officer_on_two_walks_at_once_is_refused_as_the_roster_says(
    client, clock
):
    walk = walk_at()
    free, busy = make_officer(), make_officer(name="Sergeant Ada Okafor")
    roster_officer(walk=walk, officer=free, role="lead")
    roster_officer(walk=walk, officer=busy)
    other = walk_at(WALK_START + timedelta(hours=2), meeting_point="Clapham Common station")
    roster_officer(walk=other, officer=busy)
    assert "6:30pm to 8pm" in public_page(walk)

    response = edit(
        client,
        walk,
        starts_at_0="2026-11-05",
        starts_at_1="20:00:00",
        ends_at_0="2026-11-05",
        ends_at_1="21:30:00",
    )

    # The form says so on her row of the roster, in the roster service's words.
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Sergeant Ada Okafor is already on another walk at that time: {other}." in page
    walk.refresh_from_db()
    assert walk.starts_at == WALK_START
    assert {a.starts_at for a in walk.roster.all()} == {WALK_START}
    assert "6:30pm to 8pm" in public_page(walk)
    # Called directly, the lifecycle refuses with the same rule and changes nothing.
    with pytest.raises(ValidationError) as refused:
        change_walk(walk=walk, starts_at=WALK_START + timedelta(minutes=90))
    assert refused.value.code == "officer_overlap"
    assert refused.value.messages == [
        f"Sergeant Ada Okafor is already on another walk at that time: {other}."
    ]
    assert Walk.objects.get(pk=walk.pk).starts_at == WALK_START
    assert {a.starts_at for a in walk.roster.all()} == {WALK_START}


# --- completed by the debrief ---


def test_a_walk_completed_by_its_debrief_shows_as_taken_place_at_once(client, time_machine):
    time_machine.move_to(NOW, tick=False)
    walk = walk_at(capacity=4)
    officer = make_user("Officers", officer_bcu="AS")
    roster_officer(walk=walk, officer=officer.officer, role="lead")
    booking = make_booking(walk=walk)
    time_machine.move_to(WALK_START + timedelta(minutes=60), tick=False)  # on the walk
    assert "This walk has already started" in public_page(walk)
    assert "This walk has already started" in public_page(walk)  # kept

    login_staff(client, officer)
    response = client.post(
        reverse("staff:debrief", args=[walk.code]),
        {
            f"booking_{booking.pk}": "attended",
            "concerns-TOTAL_FORMS": "0",
            "concerns-INITIAL_FORMS": "0",
            "concerns-MIN_NUM_FORMS": "0",
            "concerns-MAX_NUM_FORMS": "20",
        },
    )

    assert response.status_code == 302, response.content.decode()
    assert Walk.objects.get(pk=walk.pk).status == Walk.Status.COMPLETED
    page = public_page(walk)
    assert "This walk has taken place" in page
    assert "already started" not in page


def test_the_debrief_locks_the_walk_as_booking_does_and_its_history_keeps_the_completion(
    time_machine,
):
    time_machine.move_to(NOW, tick=False)
    walk = walk_at()
    officer = make_user("Officers", officer_bcu="AS")
    roster_officer(walk=walk, officer=officer.officer)
    time_machine.move_to(WALK_START + timedelta(hours=2), tick=False)
    with CaptureQueriesContext(connection) as captured:
        complete_debrief(walk=walk, attendance={}, concerns=[], by=officer)
    locks = [q["sql"] for q in captured.captured_queries if "FOR" in q["sql"]]
    walk_locks = [sql for sql in locks if 'FROM "patrols_walk"' in sql]
    assert walk_locks and all(sql.endswith("FOR NO KEY UPDATE") for sql in walk_locks)
    walk.refresh_from_db()
    assert walk.status == Walk.Status.COMPLETED
    assert walk.history.latest().status == Walk.Status.COMPLETED


def test_a_change_announced_by_the_lifecycle_shows_at_once_even_when_written_by_update(
    time_machine,
):
    """The lifecycle's own signal reaches the public page cache: post_save alone would miss a
    write made by QuerySet.update."""
    time_machine.move_to(NOW, tick=False)
    walk = walk_at(title="Evening walk by the canal")
    assert "by the canal" in public_page(walk)
    Walk.objects.filter(pk=walk.pk).update(title="Evening walk by the river")
    assert "by the canal" in public_page(walk)  # no signal: the kept page is served
    walks_changed.send(sender=Walk, walk_ids=[walk.pk])
    assert "by the river" in public_page(walk)
