"""The welfare check on a phone: an officer on an evening walk taps "Walk started" on /staff/
as it begins and "Walk finished, all safe" when it is over; her inspector sees a walk not
marked safe in time on the week and the walk's page, marks it safe there, and adds a suggested
officer to another walk with one click. Chromium at 390 px; axe finds nothing on any page."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from patrols.models import WalkCheckIn
from patrols.services import roster_officer
from patrols.welfare import start_walk
from tests.browser.conftest import assert_accessible, enter_security_code, live
from tests.browser.test_inspector_admin import log_in
from tests.factories import make_officer, make_user, make_walk

pytestmark = [pytest.mark.browser, live]

PASSWORD = "a long test password 1"  # tests.factories.make_user
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def evening_today():
    """6:20pm today, London time, with the clock running: ten minutes before her 6:30pm walk,
    whatever the hour the test runs (the browser and the server share this clock)."""
    london = timezone.get_default_timezone()
    evening = datetime.combine(timezone.localdate(), time(18, 20), tzinfo=london)
    with time_machine.travel(evening, tick=True) as traveller:
        yield traveller


def test_an_officer_taps_started_then_finished_on_her_phone(page, live_server, evening_today):
    page.set_viewport_size(PHONE)
    officer = make_user("Officers", officer_bcu="AS")
    starts = timezone.localtime().replace(hour=18, minute=30, second=0, microsecond=0)
    walk = make_walk(
        title="Evening walk in Lambeth",
        starts_at=starts,
        meeting_point="Windrush Square, by the library",
    )
    roster_officer(walk=walk, officer=officer.officer)
    roster_officer(walk=walk, officer=make_officer(name="Grace Hussain", rank="PS"), role="lead")

    page.goto(f"{live_server.url}/staff/")
    page.get_by_label("Username").fill(officer.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    enter_security_code(page, officer)
    card = page.locator(".staff-walks li.card", has_text="Windrush Square")
    expect(card.get_by_role("heading", name="Safety check")).to_be_visible()
    assert_accessible(page)
    page.screenshot(path="/tmp/welfare_before_start.png", full_page=True)

    card.get_by_role("button", name="Walk started").click()
    expect(page.get_by_text("Evening walk in Lambeth: walk started at 18:2")).to_be_visible()
    card = page.locator(".staff-walks li.card", has_text="Windrush Square")
    expect(card).to_contain_text("Started at 18:2")
    expect(card.get_by_role("button", name="Walk started")).to_have_count(0)
    assert_accessible(page)
    page.screenshot(path="/tmp/welfare_started.png", full_page=True)

    # After the planned end (8pm): the card is still there with the other button.
    evening_today.move_to(walk.ends_at + timedelta(minutes=10))
    finished = f"{timezone.localtime(walk.ends_at + timedelta(minutes=10)):%H:%M}"
    page.reload()
    card = page.locator(".staff-walks li.card", has_text="Windrush Square")
    card.get_by_role("button", name="Walk finished, all safe").click()
    said = page.get_by_role("status")
    expect(said).to_contain_text(f"Evening walk in Lambeth: finished, all safe at {finished[:4]}")
    # Marked safe, the walk joins her recent walks, for the debrief.
    expect(page.get_by_role("link", name="Debrief: Evening walk in Lambeth")).to_be_visible()
    assert_accessible(page)
    page.screenshot(path="/tmp/welfare_finished.png", full_page=True)

    check_in = WalkCheckIn.objects.get(walk=walk)
    assert check_in.started_by == officer.officer
    assert check_in.finished_by == officer


@pytest.fixture
def late_evening_today():
    """9:10pm today, London time, with the clock running."""
    london = timezone.get_default_timezone()
    late = datetime.combine(timezone.localdate(), time(21, 10), tzinfo=london)
    with time_machine.travel(late, tick=True):
        yield late


def test_an_inspector_sees_an_overdue_walk_marks_it_safe_and_adds_a_suggested_officer(
    page, live_server, late_evening_today
):
    page.set_viewport_size(PHONE)
    inspector = make_user("Inspectors", officer_bcu="AS")
    officer = make_user("Officers", officer_bcu="AS")
    overdue = make_walk(
        title="Evening walk in Lambeth",
        starts_at=late_evening_today.replace(hour=18, minute=30),  # to 8pm: overdue at 8:30pm
        meeting_point="Windrush Square, by the library",
    )
    roster_officer(walk=overdue, officer=officer.officer)
    start_walk(walk=overdue, user=officer, now=late_evening_today.replace(hour=18, minute=35))
    upcoming = make_walk(
        title="Brockwell Park at dusk", starts_at=late_evening_today + timedelta(days=2)
    )
    make_officer(name="Chloe Evans")
    log_in(page, live_server, inspector)

    page.goto(live_server.url + reverse("admin:patrols_walk_week"))
    walk_in_week = page.locator(".wt-walk", has_text="Evening walk in Lambeth")
    expect(walk_in_week).to_contain_text("Overdue: not marked safe")
    assert_accessible(page)

    walk_in_week.get_by_role("link").click()
    welfare = page.locator(".wt-welfare")
    expect(welfare).to_contain_text("Overdue: not marked safe")
    expect(welfare).to_contain_text("Started at")
    assert_accessible(page)
    page.screenshot(path="/tmp/welfare_admin_overdue.png", full_page=True)
    welfare.get_by_role("button", name="Mark the walk safe").click()
    expect(page.locator(".messagelist")).to_contain_text("Marked safe at 21:")
    expect(page.locator(".wt-welfare")).to_contain_text("Finished, all safe")
    expect(page.locator("#content")).not_to_contain_text("Overdue")

    page.goto(live_server.url + reverse("admin:patrols_walk_change", args=[upcoming.pk]))
    suggested = page.locator(".wt-suggested")
    expect(suggested.get_by_role("heading", name="Suggested officers")).to_be_visible()
    assert_accessible(page)
    page.screenshot(path="/tmp/welfare_admin_suggested.png", full_page=True)
    suggested.get_by_role("button", name="Add Chloe Evans to this walk").click()
    expect(page.locator(".messagelist")).to_contain_text("Chloe Evans")
    expect(page.locator(".messagelist")).to_contain_text("is now on this walk.")
    assert upcoming.roster.filter(officer__name="Chloe Evans").exists()
