"""Finding a walk and following a route request, in Chromium at phone width: walks sorted by
distance from her position (straight from ?near= and through "Walks near me" with permission
granted), the date filter, and her request followed and withdrawn through its private link.
Every page passes axe-core and fits the screen."""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from bookings.delivery import deliver_notification
from bookings.models import Notification, WalkRequest
from bookings.services import request_walk, schedule_request
from patrols.models import Walk
from tests.browser.conftest import assert_accessible, live
from tests.factories import borough, make_officer, make_walk

pytestmark = [pytest.mark.browser, live]

PHONE = {"width": 390, "height": 844}
LONDON = ZoneInfo("Europe/London")


def check_page(page):
    """axe-core finds nothing, and nothing is wider than the screen (WCAG 1.4.10)."""
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def seven_pm(days: int) -> datetime:
    """7pm London time, some days on: whatever the hour the test runs, the walk is ahead."""
    day = timezone.localdate(timezone=LONDON) + timedelta(days=days)
    return datetime.combine(day, time(19), tzinfo=LONDON)


def place(lat: str, lng: str) -> dict:
    return {"meeting_lat": Decimal(lat), "meeting_lng": Decimal(lng)}


def walks_around_brixton():
    lambeth = borough("lambeth")
    make_walk(
        borough=lambeth,
        title="Kennington Park walk",
        starts_at=seven_pm(2),
        meeting_point="Kennington Park gates",
        **place("51.488", "-0.106"),
    )
    make_walk(
        borough=lambeth,
        title="Camberwell Green walk",
        starts_at=seven_pm(3),
        meeting_point="Camberwell Green",
        **place("51.474", "-0.093"),
    )
    make_walk(
        borough=lambeth,
        title="Brixton station walk",
        starts_at=seven_pm(4),
        meeting_point="Brixton station, Brixton Road exit",
        **place("51.462", "-0.114"),
    )
    make_walk(borough=lambeth, title="Walk with no map point", starts_at=seven_pm(1))


def card_titles(page):
    return page.locator(".walk-card h3 a").evaluate_all(
        "links => links.map(a => a.firstChild.textContent.trim())"
    )


def test_walks_sorted_by_distance_from_near(page, live_server):
    walks_around_brixton()
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/walks/?near=51.46,-0.11")
    expect(page.get_by_role("heading", name="Walks near you")).to_be_visible()
    expect(page.get_by_text("4 walks, nearest first.")).to_be_visible()
    assert card_titles(page) == [
        "Brixton station walk",
        "Camberwell Green walk",
        "Kennington Park walk",
        "Walk with no map point",
    ]
    expect(page.get_by_text("About 400 m away")).to_be_visible()
    expect(page.get_by_text("About 3.1 km away")).to_be_visible()
    check_page(page)
    page.screenshot(path="/tmp/find_walks_near.png", full_page=True)

    # "Show soonest first" drops her position.
    page.get_by_role("link", name="Show soonest first").click()
    expect(page.get_by_text("4 walks, soonest first.")).to_be_visible()
    assert "near=" not in page.url
    assert card_titles(page)[0] == "Walk with no map point"

    # A walk's page opens its meeting point in maps, and loads no map.
    page.get_by_role("link", name=re.compile("Brixton station walk")).click()
    expect(page.get_by_role("link", name="in your maps app")).to_have_attribute(
        "href", "geo:51.462000,-0.114000"
    )
    expect(page.get_by_role("link", name="on OpenStreetMap")).to_have_attribute(
        "href", re.compile(r"^https://www\.openstreetmap\.org/\?mlat=51\.462000&mlon=-0\.114000")
    )
    expect(page.locator("iframe")).to_have_count(0)
    check_page(page)


def test_walks_near_me_asks_the_browser_and_sends_a_rounded_position(browser, live_server):
    walks_around_brixton()
    context = browser.new_context(
        viewport=PHONE,
        geolocation={"latitude": 51.4612345, "longitude": -0.1123456},
        permissions=["geolocation"],
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/walks/?borough=lambeth")
        page.get_by_role("button", name="Walks near me").click()
        page.wait_for_url(re.compile(r"near="))
        assert "near=51.46%2C-0.11" in page.url
        assert "borough=lambeth" in page.url
        expect(page.get_by_text("4 walks, nearest first.")).to_be_visible()
        assert card_titles(page)[0] == "Brixton station walk"
        check_page(page)
    finally:
        context.close()


def test_without_permission_the_list_stays_as_it_was(browser, live_server):
    walks_around_brixton()
    context = browser.new_context(viewport=PHONE)  # no geolocation permission: refused
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/walks/")
        page.get_by_role("button", name="Walks near me").click()
        expect(page.get_by_role("status")).to_have_text(
            "We could not find where you are. You can choose a borough instead."
        )
        assert "near=" not in page.url
        expect(page.get_by_text("4 walks, soonest first.")).to_be_visible()
        check_page(page)
    finally:
        context.close()


def test_the_date_filter(page, live_server):
    walks_around_brixton()
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/walks/")
    day = seven_pm(3).date()
    page.get_by_label("On or after").fill(day.isoformat())
    page.get_by_role("button", name="Show walks").click()
    expect(page.get_by_text(re.compile(r"^2 walks from .*, soonest first\.$"))).to_be_visible()
    assert card_titles(page) == ["Camberwell Green walk", "Brixton station walk"]
    assert f"from={day.isoformat()}" in page.url
    check_page(page)

    # A date typed into the address that does not exist: the form says so.
    page.goto(f"{live_server.url}/walks/?from=2026-02-30")
    expect(page.locator("#error-summary")).to_contain_text("Enter a real date, like 2026-06-01")
    assert page.title().startswith("Error:")
    check_page(page)


def received_link(walk_request, live_server) -> str:
    row = walk_request.notifications.get(kind=Notification.Kind.REQUEST_RECEIVED)
    assert deliver_notification(notification_id=row.pk) == "sent"
    [link] = re.findall(r"Follow or withdraw your request: (\S+)", mail.outbox[-1].body)
    return re.sub(r"^https?://[^/]+", live_server.url, link)


def test_a_request_followed_and_withdrawn_through_its_link(page, live_server):
    walk_request = request_walk(
        borough=borough("lambeth"),
        full_name="Amira Begum",
        email="amira@example.org",
        route_description="From Brixton station along Coldharbour Lane.",
        preferred_times="Weekday evenings",
    )
    link = received_link(walk_request, live_server)
    page.set_viewport_size(PHONE)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your request for a walk on your route"
    )
    expect(page.get_by_text("Waiting for an inspector.")).to_be_visible()
    expect(page.get_by_text("Amira Begum")).to_have_count(0)
    check_page(page)
    page.get_by_role("button", name="Withdraw my request").click()
    expect(page.get_by_text("Your request is withdrawn.")).to_be_visible()
    expect(page.get_by_text("You withdrew this request.")).to_be_visible()
    expect(page.get_by_role("button", name="Withdraw my request")).to_have_count(0)
    check_page(page)
    walk_request.refresh_from_db()
    assert walk_request.status == WalkRequest.Status.WITHDRAWN

    # Another request, scheduled: her page shows her walk, and withdrawing calls it off.
    second = request_walk(
        borough=borough("lambeth"),
        full_name="Amira Begum",
        email="amira@example.org",
        route_description="From Brixton station along Coldharbour Lane.",
        preferred_times="Weekday evenings",
    )
    link = received_link(second, live_server)
    walk = schedule_request(
        request=second,
        starts_at=seven_pm(3),
        ends_at=seven_pm(3) + timedelta(hours=1),
        meeting_point="Outside Brixton library",
        officers=[make_officer()],
    )
    page.goto(link)
    expect(page.get_by_text("Your walk is arranged.")).to_be_visible()
    expect(page.get_by_text("Outside Brixton library")).to_be_visible()
    expect(page.get_by_role("link", name="See your booking for this walk")).to_be_visible()
    check_page(page)
    page.screenshot(path="/tmp/find_request_scheduled.png", full_page=True)
    page.get_by_role("button", name="Withdraw my request").click()
    expect(page.get_by_text("You withdrew this request.")).to_be_visible()
    walk.refresh_from_db()
    assert walk.status == Walk.Status.CANCELLED
