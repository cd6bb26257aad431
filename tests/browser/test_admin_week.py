"""The inspector's week at a glance in Chromium, on a phone and on a laptop; the admin lists and
a walk's change page pass axe-core at both sizes and never scroll the page sideways; an officer
signs out from /staff/."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from patrols.services import roster_officer
from staff.admin.patrols import iso_week
from tests.browser.conftest import assert_accessible, enter_security_code, live
from tests.browser.test_inspector_admin import PASSWORD, log_in
from tests.factories import borough, make_booking, make_officer, make_request, make_user, make_walk

pytestmark = [pytest.mark.browser, live]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}


def fits_the_page(page):
    """Nothing scrolls the page sideways: wide tables scroll inside their own region."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def next_week_at(weekday: int, hour: int) -> datetime:
    """A London time in next week, so every day of it is still to come whenever this runs."""
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
    day = monday + timedelta(days=weekday)
    return datetime.combine(day, time(hour, 30), tzinfo=timezone.get_default_timezone())


def test_the_week_at_a_glance_on_a_phone_and_a_laptop(page, live_server):
    inspector = make_user("Inspectors", officer_bcu="AS")
    short = make_walk(
        title="Evening walk on Coldharbour Lane", capacity=10, starts_at=next_week_at(1, 18)
    )
    roster_officer(walk=short, officer=make_officer(name="Amira Begum"))
    make_booking(walk=short)
    full = make_walk(
        title="Peckham Rye at dusk", borough=borough("southwark"), starts_at=next_week_at(3, 17)
    )
    roster_officer(walk=full, officer=make_officer())
    roster_officer(walk=full, officer=make_officer())
    make_walk(title="Victoria after dark", borough=borough("westminster"))
    page.set_viewport_size(PHONE)
    log_in(page, live_server, inspector)

    page.goto(live_server.url + reverse("admin:patrols_walk_changelist"))
    page.get_by_role("link", name="Week at a glance").click()
    page.get_by_role("link", name="Next week").click()
    week = iso_week(short.starts_at.date())
    expect(page).to_have_url(f"{live_server.url}{reverse('admin:patrols_walk_week')}?week={week}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Walks in the week of Monday")
    days = page.locator(".wt-week > li")
    expect(days).to_have_count(7)
    tuesday = days.nth(1)
    expect(tuesday).to_contain_text("18:30–20:00 Lambeth")
    expect(tuesday).to_contain_text("1 of 10 places taken")
    expect(tuesday).to_contain_text("1 of 2 officers: understaffed, needs 1 more")
    expect(days.nth(3)).to_contain_text("2 of 2 officers")
    expect(page.locator("main, #main").first).not_to_contain_text("Victoria after dark")
    summary = page.locator(".wt-week-summary")
    expect(summary).to_contain_text(f"2 walks in week {week}: 1 understaffed")
    fits_the_page(page)
    assert_accessible(page)
    # A list by day: each day below the one before.
    assert days.nth(1).bounding_box()["y"] > days.nth(0).bounding_box()["y"]
    page.screenshot(path="/tmp/weekshots/week_phone.png", full_page=True)

    page.set_viewport_size(LAPTOP)
    # One column per day, side by side.
    assert days.nth(1).bounding_box()["y"] == days.nth(0).bounding_box()["y"]
    assert days.nth(1).bounding_box()["x"] > days.nth(0).bounding_box()["x"]
    fits_the_page(page)
    assert_accessible(page)
    page.screenshot(path="/tmp/weekshots/week_laptop.png", full_page=True)

    day = short.starts_at.date()
    tuesday.get_by_role("link", name="Add a walk").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Add walk")
    expect(page.locator("#id_starts_at_0")).to_have_value(f"{day:%d/%m/%Y}")
    expect(page.locator("#id_starts_at_1")).to_have_value("")


def test_the_week_with_a_bad_week_says_so(page, live_server):
    inspector = make_user("Inspectors", officer_bcu="AS")
    page.set_viewport_size(PHONE)
    log_in(page, live_server, inspector)
    response = page.goto(live_server.url + reverse("admin:patrols_walk_week") + "?week=soon")
    assert response.status == 200
    expect(page.locator(".messagelist")).to_contain_text("“soon” is not a week")
    assert_accessible(page)


def test_the_admin_lists_and_a_walks_change_page_pass_axe_on_a_phone_and_a_laptop(
    page, live_server
):
    inspector = make_user("Inspectors", officer_bcu="AS")
    walk = make_walk(title="Evening walk on Coldharbour Lane")
    roster_officer(walk=walk, officer=make_officer())
    make_booking(walk=walk, accessibility_needs="Step-free paths please", topics="The underpass")
    make_request()
    make_request()
    log_in(page, live_server, inspector)
    pages = {
        "walks": reverse("admin:patrols_walk_changelist"),
        "walks_search": reverse("admin:patrols_walk_changelist") + "?q=Coldharbour&when=all",
        "requests": reverse("admin:bookings_walkrequest_changelist"),
        # "0 results (2 total)": a link inside a line of text.
        "requests_search": reverse("admin:bookings_walkrequest_changelist") + "?q=nobody",
        "walk": reverse("admin:patrols_walk_change", args=[walk.pk]),
    }
    for size, viewport in (("phone", PHONE), ("laptop", LAPTOP)):
        page.set_viewport_size(viewport)
        for name, url in pages.items():
            page.goto(live_server.url + url)
            page.screenshot(path=f"/tmp/weekshots/admin_{name}_{size}.png", full_page=True)
            fits_the_page(page)
            assert_accessible(page)


def test_an_officer_signs_out_from_the_staff_page(page, live_server):
    officer = make_user("Officers", officer_bcu="AS")
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/staff/")
    page.get_by_label("Username").fill(officer.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    enter_security_code(page, officer)
    expect(page.get_by_role("heading", level=1)).to_have_text("My walks")
    assert_accessible(page)
    page.screenshot(path="/tmp/weekshots/staff_sign_out_phone.png", full_page=True)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Username")).to_be_visible()
    page.goto(f"{live_server.url}/staff/")
    expect(page.get_by_label("Username")).to_be_visible()
    expect(page.get_by_role("heading", name="My walks")).to_have_count(0)
