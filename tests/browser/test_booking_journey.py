"""The public journey in Chromium: find a walk by borough, book it, cancel it through the
manage link, ask for a walk on your route. Every page passes axe-core, fits a phone, and the
journey works with the keyboard alone."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Booking, WalkRequest
from tests.browser.conftest import assert_accessible, live
from tests.factories import borough, make_booking, make_walk

pytestmark = [pytest.mark.browser, live]

PHONE = {"width": 390, "height": 844}


def check_page(page):
    """axe-core finds nothing, and nothing is wider than the screen (WCAG 1.4.10)."""
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def tab_to(page, locator, presses=80):
    """Press Tab until the locator has the focus, as a keyboard user would."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return
    pytest.fail(f"Tab never reached {locator}")


@pytest.fixture
def walks():
    # Seven in the evening, London time, two days on: the page shows the sunset alone, whatever
    # the hour the test runs.
    day = timezone.localdate(timezone=ZoneInfo("Europe/London")) + timedelta(days=2)
    soon = datetime.combine(day, time(19), tzinfo=ZoneInfo("Europe/London"))
    lambeth = make_walk(
        borough=borough("lambeth"),
        title="Evening walk in Lambeth",
        meeting_point="Brixton station, Brixton Road exit",
        starts_at=soon,
        capacity=4,
    )
    make_walk(borough=borough("camden"), title="Evening walk in Camden", starts_at=soon)
    return lambeth


def test_find_a_walk_by_borough_book_it_and_cancel_it_through_the_manage_link(
    page, live_server, walks
):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/walks/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a walk")
    check_page(page)

    page.get_by_label("Borough").select_option(label="Lambeth")
    page.get_by_role("button", name="Show walks").click()
    expect(page.get_by_role("heading", name="Walks in Lambeth")).to_be_visible()
    expect(page.get_by_text("covered by the Central South police area")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Evening walk in Camden"))).to_have_count(0)
    check_page(page)

    page.get_by_role("link", name=re.compile("Evening walk in Lambeth")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Evening walk in Lambeth")
    expect(page.get_by_text("4 places left")).to_be_visible()
    sunset = page.locator("dt", has_text="Sunset").locator("xpath=following-sibling::dd")
    expect(sunset).to_have_text(re.compile(r"^\d{1,2}:\d{2}(am|pm) that day$"))
    expect(page.locator("dt", has_text="Sunrise")).to_have_count(0)  # an evening walk
    check_page(page)

    page.get_by_role("link", name="Book a place").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a place")
    check_page(page)

    # Sent empty: the summary lists each problem, takes the focus, and its links lead on.
    page.get_by_role("button", name="Book my place").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_be_focused()
    check_page(page)
    summary.get_by_role("link", name="Enter your email address").click()
    expect(page.get_by_label("Email address")).to_be_focused()

    page.get_by_label("Full name").fill("Amira Begum")
    page.get_by_label("Email address").fill("amira@example.org")
    page.get_by_label("I am 18 or over").check()
    page.get_by_label(re.compile("I have read")).check()
    page.get_by_role("button", name="Book my place").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Booking confirmed")
    booking = Booking.objects.get()
    expect(page.get_by_text("We have emailed your booking reference")).to_be_visible()
    expect(page.get_by_text(booking.reference)).to_have_count(0)
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    check_page(page)

    # The link from her email.
    page.goto(f"{live_server.url}/bookings/manage/{booking.manage_token()}/")
    expect(page.get_by_text("You have a place on this walk.")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Cancel my booking").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Are you sure?")
    page.get_by_role("button", name="Yes, cancel my booking").click()
    expect(page.get_by_text("Your booking is cancelled.")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel my booking")).to_have_count(0)
    check_page(page)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_a_full_walk_offers_the_waiting_list(page, live_server):
    walk = make_walk(capacity=1)
    make_booking(walk=walk)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{walk.get_absolute_url()}")
    page.get_by_role("link", name="Join the waiting list").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Join the waiting list")
    page.get_by_label("Full name").fill("Bea Jones")
    # A long address, as some are: the page still fits a phone (it wraps).
    page.get_by_label("Email address").fill("bea.jones.brixton.community.walking.group@example.org")
    page.get_by_label("I am 18 or over").check()
    page.get_by_label(re.compile("I have read")).check()
    page.get_by_role("button", name="Join the waiting list").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are on the waiting list")
    check_page(page)


def test_ask_for_a_walk_on_your_route(page, live_server):
    page.set_viewport_size(PHONE)
    page.goto(live_server.url)
    page.get_by_role("link", name="Ask for a walk on your route").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask for a walk on your route")
    expect(page.get_by_text("We do not ask for your home address.")).to_be_visible()
    check_page(page)

    page.get_by_label("Borough").select_option(label="Southwark")
    page.get_by_label("The route or area").fill("From Peckham Rye station through the park.")
    page.get_by_label("Days and times that suit you").fill("Weekday evenings after 7pm")
    page.get_by_label("Full name").fill("Amira Begum")
    page.get_by_label("Email address").fill("amira@example.org")
    page.get_by_label("I am 18 or over").check()
    page.get_by_label(re.compile("I have read")).check()
    page.get_by_role("button", name="Send my request").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Request received")
    walk_request = WalkRequest.objects.get()
    assert walk_request.borough.slug == "southwark"
    expect(page.get_by_text(walk_request.reference)).to_have_count(0)
    expect(page.get_by_text("A neighbourhood inspector for Southwark")).to_be_visible()
    check_page(page)


def test_the_lost_link_form_answers_calmly(page, live_server):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/bookings/lost-link/")
    check_page(page)
    page.get_by_label("Email address").fill("nobody@example.org")
    page.get_by_role("button", name="Email me the link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    check_page(page)


def test_booking_cancelling_and_asking_for_a_route_walk_work_with_the_keyboard_alone(
    page, live_server, walks
):
    page.goto(f"{live_server.url}/walks/")

    # Choose the borough in the select with the keyboard, then send the filter.
    tab_to(page, page.get_by_label("Borough"))
    page.keyboard.type("Lambeth")
    expect(page.get_by_label("Borough")).to_have_value("lambeth")
    tab_to(page, page.get_by_role("button", name="Show walks"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Walks in Lambeth")).to_be_visible()

    tab_to(page, page.get_by_role("link", name=re.compile("Evening walk in Lambeth")))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_role("link", name="Book a place"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a place")

    tab_to(page, page.get_by_label("Full name"))
    page.keyboard.type("Amira Begum")
    page.keyboard.press("Tab")
    page.keyboard.type("amira@example.org")
    tab_to(page, page.get_by_label("I am 18 or over"))
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.get_by_label(re.compile("I have read"))).to_be_focused()
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Book my place"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Booking confirmed")

    booking = Booking.objects.get()
    page.goto(f"{live_server.url}/bookings/manage/{booking.manage_token()}/")
    tab_to(page, page.get_by_role("button", name="Cancel my booking"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Are you sure?")
    tab_to(page, page.get_by_role("button", name="Yes, cancel my booking"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Your booking is cancelled.")).to_be_visible()

    tab_to(page, page.get_by_role("link", name="Ask for a walk on your route"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("Borough"))
    page.keyboard.type("Southwark")
    page.keyboard.press("Tab")
    page.keyboard.type("From Peckham Rye station through the park.")
    page.keyboard.press("Tab")
    page.keyboard.type("Weekday evenings")
    page.keyboard.press("Tab")
    page.keyboard.type("Amira Begum")
    page.keyboard.press("Tab")
    page.keyboard.type("amira@example.org")
    tab_to(page, page.get_by_label("I am 18 or over"))
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Send my request"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Request received")
    assert WalkRequest.objects.get().borough.slug == "southwark"
