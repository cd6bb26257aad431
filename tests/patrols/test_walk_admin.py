"""The inspectors' walk admin: a change list that shows staffing at a glance, edits that go
through the booking services (so women are told), cancelling with a reason, weekly repeats."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking, Notification
from bookings.services import repeat_walk_weekly
from patrols.models import Walk
from patrols.services import roster_officer
from tests.factories import borough, login_staff, make_booking, make_officer, make_walk
from tests.patrols.conftest import form_fields

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
CHANGELIST = reverse("admin:patrols_walk_changelist")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def rows(response):
    return list(response.context["cl"].result_list)


def test_the_change_list_shows_places_and_staffing_at_a_glance(client, inspector):
    walk = make_walk(capacity=8)
    make_booking(walk=walk)
    make_booking(walk=walk)
    make_booking(walk=walk, status=Booking.Status.CANCELLED)
    roster_officer(walk=walk, officer=make_officer())
    page = client.get(CHANGELIST).content.decode()
    assert "Brixton station, Brixton Road exit" in page
    assert "Lambeth" in page
    assert "2 of 8" in page
    assert "1 of 2 officers – needs 1 more" in page
    assert "Scheduled" in page
    assert f"{timezone.localtime(walk.starts_at):%a %d %b %Y, %H:%M}" in page


def test_a_fully_staffed_walk_is_not_flagged(client, inspector):
    walk = make_walk()
    roster_officer(walk=walk, officer=make_officer())
    roster_officer(walk=walk, officer=make_officer())
    page = client.get(CHANGELIST).content.decode()
    assert "2 of 2 officers" in page
    assert "needs" not in page


def test_the_list_shows_upcoming_walks_unless_asked_for_past_ones(client, inspector):
    soon = make_walk()
    gone = make_walk(starts_at=timezone.now() - timedelta(days=2), status=Walk.Status.COMPLETED)
    assert rows(client.get(CHANGELIST)) == [soon]
    assert rows(client.get(CHANGELIST, {"when": "past"})) == [gone]
    assert set(rows(client.get(CHANGELIST, {"when": "all"}))) == {soon, gone}


@time_machine.travel(local(2026, 12, 2, 12, 0), tick=False)  # a Wednesday
def test_this_week_runs_monday_to_sunday_in_london(client, inspector):
    login_staff(client, inspector)  # staff sessions last hours: sign in on the day
    earlier = make_walk(
        starts_at=local(2026, 11, 30, 18, 30), status=Walk.Status.COMPLETED
    )  # Monday
    sunday = make_walk(starts_at=local(2026, 12, 6, 18, 30))
    make_walk(starts_at=local(2026, 12, 7, 6, 30))  # next Monday
    assert set(rows(client.get(CHANGELIST, {"when": "week"}))) == {earlier, sunday}


def test_understaffed_walks_are_counted_above_the_list_and_can_be_filtered(client, inspector):
    short = make_walk()
    full = make_walk(starts_at=timezone.now() + timedelta(days=5))
    make_walk(starts_at=timezone.now() + timedelta(days=6), status=Walk.Status.CANCELLED)
    for _ in range(2):
        roster_officer(walk=full, officer=make_officer())
    response = client.get(CHANGELIST)
    assert response.context["understaffed_count"] == 1
    assert "1 upcoming walk needs more officers" in response.content.decode()
    assert rows(client.get(CHANGELIST, {"staffing": "short"})) == [short]
    assert rows(client.get(CHANGELIST, {"staffing": "full"})) == [full]


def test_the_walk_page_shows_bookings_without_contact_details(client, inspector):
    walk = make_walk()
    booking = make_booking(
        walk=walk,
        full_name="Private Person",
        email="private@example.org",
        phone="07700 900123",
        accessibility_needs="Step-free route please",
    )
    page = client.get(reverse("admin:patrols_walk_change", args=[walk.pk])).content.decode()
    assert booking.reference in page
    assert "Step-free route please" in page
    for secret in ("Private Person", "private@example.org", "07700 900123"):
        assert secret not in page


def test_an_inspector_creates_a_walk_in_her_bcu(client, inspector):
    response = client.get(reverse("admin:patrols_walk_add"))
    data = form_fields(response)
    starts = timezone.localtime() + timedelta(days=10)
    data.update(
        title="Evening walk in Southwark",
        borough=str(borough("southwark").pk),
        meeting_point="Peckham Rye station forecourt",
        starts_at_0=f"{starts:%Y-%m-%d}",
        starts_at_1="18:30:00",
        ends_at_0=f"{starts:%Y-%m-%d}",
        ends_at_1="20:00:00",
        capacity="10",
        kind="group",
    )
    response = client.post(reverse("admin:patrols_walk_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    walk = Walk.objects.get(title="Evening walk in Southwark")
    assert walk.bcu.code == "AS"
    assert f"{timezone.localtime(walk.starts_at):%H:%M}" == "18:30"


def test_a_new_walk_must_end_after_it_starts_and_start_in_the_future(client, inspector):
    data = form_fields(client.get(reverse("admin:patrols_walk_add")))
    data.update(
        title="Backwards",
        borough=str(borough("lambeth").pk),
        meeting_point="Somewhere",
        starts_at_0="2020-01-01",
        starts_at_1="18:30:00",
        ends_at_0="2020-01-01",
        ends_at_1="17:00:00",
        capacity="8",
    )
    response = client.post(reverse("admin:patrols_walk_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"starts_at", "ends_at"}
    assert not Walk.objects.filter(title="Backwards").exists()


def edit(client, walk, **changes):
    data = form_fields(client.get(reverse("admin:patrols_walk_change", args=[walk.pk])))
    data.update(changes)
    return client.post(reverse("admin:patrols_walk_change", args=[walk.pk]), data)


def test_moving_a_walk_in_the_form_tells_everyone_booked_and_moves_reminders(client, inspector):
    walk = make_walk(starts_at=timezone.now() + timedelta(days=5))
    officer = make_officer()
    roster_officer(walk=walk, officer=officer)
    booking = make_booking(walk=walk)
    waiting = make_booking(walk=walk, status=Booking.Status.WAITLISTED)
    new_start = timezone.localtime(walk.starts_at + timedelta(days=1)).replace(
        hour=19, minute=0, second=0, microsecond=0
    )
    response = edit(
        client,
        walk,
        starts_at_0=f"{new_start:%Y-%m-%d}",
        starts_at_1="19:00:00",
        ends_at_0=f"{new_start:%Y-%m-%d}",
        ends_at_1="20:30:00",
        meeting_point="Brixton station, Electric Avenue exit",
    )
    assert response.status_code == 302
    walk.refresh_from_db()
    assert walk.starts_at == new_start
    assert walk.meeting_point == "Brixton station, Electric Avenue exit"
    changed = Notification.objects.filter(kind=Notification.Kind.WALK_CHANGED)
    assert set(changed.values_list("booking", flat=True)) == {booking.pk, waiting.pk}
    reminder = Notification.objects.get(booking=booking, kind=Notification.Kind.REMINDER_24H)
    assert reminder.due_at == new_start - timedelta(hours=24)
    assignment = walk.roster.get()
    assert (assignment.starts_at, assignment.ends_at) == (walk.starts_at, walk.ends_at)


def test_changing_only_the_title_tells_no_one(client, inspector):
    walk = make_walk()
    make_booking(walk=walk)
    assert edit(client, walk, title="A new name").status_code == 302
    walk.refresh_from_db()
    assert walk.title == "A new name"
    assert not Notification.objects.filter(kind=Notification.Kind.WALK_CHANGED).exists()


def test_the_capacity_cannot_fall_below_the_places_booked(client, inspector):
    walk = make_walk(capacity=3)
    make_booking(walk=walk)
    make_booking(walk=walk)
    response = edit(client, walk, capacity="1")
    assert response.status_code == 200
    assert "capacity" in response.context["adminform"].form.errors
    walk.refresh_from_db()
    assert walk.capacity == 3


# --- cancel a walk ---


def cancel(client, walks, **extra):
    return client.post(
        CHANGELIST,
        {"action": "cancel_walks", "_selected_action": [w.pk for w in walks], **extra},
    )


def test_cancelling_asks_for_a_reason_first(client, inspector):
    walk = make_walk()
    response = cancel(client, [walk])
    assert response.status_code == 200
    assert "Why is the walk cancelled?" in response.content.decode()
    response = cancel(client, [walk], apply="1", reason="  ")
    assert response.status_code == 400
    assert "Enter the reason" in response.content.decode()
    walk.refresh_from_db()
    assert walk.status == Walk.Status.SCHEDULED


def test_cancelling_a_walk_cancels_and_tells_every_booking(client, inspector):
    walk = make_walk()
    officer = make_officer()
    roster_officer(walk=walk, officer=officer)
    confirmed = [make_booking(walk=walk) for _ in range(2)]
    waiting = make_booking(walk=walk, status=Booking.Status.WAITLISTED)
    gone = make_booking(walk=walk, status=Booking.Status.CANCELLED)
    response = cancel(client, [walk], apply="1", reason="Officers needed at an emergency.")
    assert response.status_code == 302
    walk.refresh_from_db()
    assert walk.status == Walk.Status.CANCELLED
    assert walk.cancel_reason == "Officers needed at an emergency."
    active = {b.pk for b in [*confirmed, waiting]}
    assert set(
        Booking.objects.filter(status=Booking.Status.CANCELLED).values_list("pk", flat=True)
    ) == active | {gone.pk}
    told = Notification.objects.filter(kind=Notification.Kind.WALK_CANCELLED)
    assert set(told.values_list("booking", flat=True)) == active
    assert not officer.assignments.exists()  # free for another walk at that time
    messages = [str(m) for m in client.get(CHANGELIST).context["messages"]]
    assert "Cancelled 1 walk. 3 women booked are being told." in messages


# --- repeat weekly ---


def test_repeating_across_the_spring_clock_change_keeps_the_local_time():
    walk = make_walk(starts_at=local(2026, 3, 22, 18, 30), capacity=10)
    copies = repeat_walk_weekly(walk=walk, weeks=3)
    starts = [timezone.localtime(c.starts_at) for c in copies]
    assert [(s.date().isoformat(), f"{s:%H:%M}") for s in starts] == [
        ("2026-03-29", "18:30"),
        ("2026-04-05", "18:30"),
        ("2026-04-12", "18:30"),
    ]
    # 18:30 GMT was 18:30 UTC; 18:30 BST is 17:30 UTC.
    assert walk.starts_at.astimezone(ZoneInfo("UTC")).hour == 18
    assert copies[0].starts_at.astimezone(ZoneInfo("UTC")).hour == 17
    assert all(c.duration == walk.duration and c.capacity == 10 for c in copies)


def test_repeating_across_the_autumn_clock_change_keeps_the_local_time():
    walk = make_walk(starts_at=local(2026, 10, 18, 18, 30))
    (copy,) = repeat_walk_weekly(walk=walk, weeks=1)
    assert f"{timezone.localtime(copy.starts_at):%Y-%m-%d %H:%M}" == "2026-10-25 18:30"
    assert copy.starts_at.astimezone(ZoneInfo("UTC")).hour == 18


def test_repeating_copies_the_roster_where_officers_are_free():
    walk = make_walk(starts_at=timezone.now() + timedelta(days=1))
    free, busy = make_officer(), make_officer()
    roster_officer(walk=walk, officer=free, role="lead")
    roster_officer(walk=walk, officer=busy)
    clash = make_walk(starts_at=walk.starts_at + timedelta(weeks=1), meeting_point="Elsewhere")
    roster_officer(walk=clash, officer=busy)
    (copy,) = repeat_walk_weekly(walk=walk, weeks=1)
    assert list(copy.roster.values_list("officer", "role")) == [(free.pk, "lead")]


def test_repeating_twice_does_not_double_the_walks():
    walk = make_walk()
    assert len(repeat_walk_weekly(walk=walk, weeks=2)) == 2
    assert len(repeat_walk_weekly(walk=walk, weeks=3)) == 1
    assert Walk.objects.count() == 4


@time_machine.travel(local(2026, 3, 1, 9, 0), tick=False)
def test_the_repeat_weekly_action_keeps_1830_across_29_march_2026(client, inspector):
    login_staff(client, inspector)  # staff sessions last hours: sign in on the day
    walk = make_walk(starts_at=local(2026, 3, 22, 18, 30))
    response = client.post(CHANGELIST, {"action": "repeat_weekly", "_selected_action": [walk.pk]})
    assert response.status_code == 200
    assert "For how many weeks?" in response.content.decode()
    response = client.post(
        CHANGELIST,
        {"action": "repeat_weekly", "_selected_action": [walk.pk], "apply": "1", "weeks": "2"},
    )
    assert response.status_code == 302
    copies = Walk.objects.exclude(pk=walk.pk).order_by("starts_at")
    assert [f"{timezone.localtime(c.starts_at):%d %b %H:%M}" for c in copies] == [
        "29 Mar 18:30",
        "05 Apr 18:30",
    ]


def test_the_repeat_weekly_action_refuses_a_silly_number_of_weeks(client, inspector):
    walk = make_walk()
    response = client.post(
        CHANGELIST,
        {"action": "repeat_weekly", "_selected_action": [walk.pk], "apply": "1", "weeks": "0"},
    )
    assert response.status_code == 400
    assert Walk.objects.count() == 1
