"""Her booking after she has booked, in Chromium at phone width: a new time reaches her email
as "was, now" with her calendar event updated; her page says where she is on the waiting list,
gives her walk for her calendar, and asks before cancelling. Every page passes axe-core."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import expect

from bookings.delivery import deliver_notification
from bookings.models import Booking, Notification
from bookings.services import book_place
from tests.browser.conftest import assert_accessible, live
from tests.browser.test_inspector_admin import log_in
from tests.factories import borough, make_user, make_walk

pytestmark = [pytest.mark.browser, live]

PHONE = {"width": 390, "height": 844}
LONDON = ZoneInfo("Europe/London")
Kind = Notification.Kind


def check_page(page):
    """axe-core finds nothing, and nothing is wider than the screen (WCAG 1.4.10)."""
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def seven_pm(days: int = 2) -> datetime:
    """7pm London time, some days on: whatever the hour the test runs, the walk is ahead."""
    day = timezone.localdate(timezone=LONDON) + timedelta(days=days)
    return datetime.combine(day, time(19), tzinfo=LONDON)


def deliver(booking: Booking, kind: str):
    row = booking.notifications.get(kind=kind)
    assert deliver_notification(notification_id=row.pk) == "sent"
    return mail.outbox[-1]


def event_of(message):
    [(filename, content, _)] = message.attachments
    assert filename == "walk.ics"
    calendar = Calendar.from_ical(content)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def book(walk, name):
    return book_place(walk=walk, full_name=name, email=f"{name.split()[0].lower()}@example.org")


def test_an_inspector_moves_the_walk_and_her_email_names_the_old_and_new_times(page, live_server):
    walk = make_walk(
        borough=borough("lambeth"),
        title="Evening walk in Lambeth",
        meeting_point="Albany Road gate",
        starts_at=seven_pm(),
    )
    booking = book(walk, "Amira Begum")
    confirmed = deliver(booking, Kind.BOOKING_CONFIRMED)

    page.set_viewport_size(PHONE)
    log_in(page, live_server, make_user("Inspectors", officer_bcu="AS"))
    page.goto(f"{live_server.url}/admin/patrols/walk/{walk.pk}/change/")
    page.locator("#id_starts_at_1").fill("19:30")
    page.locator("#id_ends_at_1").fill("21:00")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    changed = deliver(booking, Kind.WALK_CHANGED)
    assert changed.to == ["amira@example.org"]
    assert "Starts: was 7pm, now 7:30pm" in changed.body
    assert "Ends: was 8:30pm, now 9pm" in changed.body
    calendar, new = event_of(changed)
    _, old = event_of(confirmed)
    assert calendar["METHOD"] == "REQUEST"
    assert new["UID"] == old["UID"]
    assert new.decoded("SEQUENCE") > old.decoded("SEQUENCE")
    assert new.decoded("DTSTART") == seven_pm() + timedelta(minutes=30)

    # Her page, from the email's link, shows the walk as it is now.
    page.goto(booking.manage_url().replace("http://127.0.0.1:8000", live_server.url))
    expect(page.get_by_text("7:30pm to 9pm")).to_be_visible()
    check_page(page)


def test_her_page_says_where_she_is_on_the_waiting_list(page, live_server):
    walk = make_walk(borough=borough("lambeth"), starts_at=seven_pm(), capacity=1)
    placed = book(walk, "Amira Begum")
    book(walk, "Bea Jones")
    waiting = book(walk, "Chloe Evans")
    assert waiting.status == Booking.Status.WAITLISTED

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/bookings/manage/{waiting.manage_token()}/")
    expect(page.get_by_text("You are 2nd on the waiting list.")).to_be_visible()
    expect(page.get_by_text("Bea Jones")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("Add to calendar"))).to_have_count(0)
    expect(page.get_by_role("button", name="Leave the waiting list")).to_be_visible()
    check_page(page)

    # With a place, "Add to calendar" downloads her walk's event.
    page.goto(f"{live_server.url}/bookings/manage/{placed.manage_token()}/")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Add to calendar")).click()
    assert download.value.suggested_filename == "walk.ics"
    calendar = Calendar.from_ical(download.value.path().read_bytes())
    assert calendar["METHOD"] == "PUBLISH"
    [event] = calendar.walk("VEVENT")
    assert placed.reference in event["UID"]
    check_page(page)


def test_cancelling_asks_first_then_offers_other_walks_in_her_borough(page, live_server):
    walk = make_walk(
        borough=borough("lambeth"),
        title="Evening walk in Lambeth",
        meeting_point="Albany Road gate",
        starts_at=seven_pm(),
    )
    make_walk(borough=borough("lambeth"), title="Later walk in Lambeth", starts_at=seven_pm(4))
    make_walk(borough=borough("camden"), title="Evening walk in Camden", starts_at=seven_pm(4))
    booking = book(walk, "Amira Begum")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/bookings/manage/{booking.manage_token()}/")
    page.get_by_role("button", name="Cancel my booking").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Are you sure?")
    expect(page.get_by_text("Albany Road gate")).to_be_visible()
    check_page(page)
    page.screenshot(path="/tmp/changes_cancel_confirmation.png", full_page=True)

    # Second thoughts: nothing changes.
    page.get_by_role("link", name="No, keep my booking").click()
    expect(page.get_by_text("You have a place on this walk.")).to_be_visible()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED

    page.get_by_role("button", name="Cancel my booking").click()
    page.get_by_role("button", name="Yes, cancel my booking").click()
    expect(page.get_by_text("Your booking is cancelled.")).to_be_visible()
    expect(page.get_by_role("heading", name="Other walks in Lambeth")).to_be_visible()
    expect(page.get_by_role("link", name="Later walk in Lambeth")).to_be_visible()
    expect(page.get_by_role("link", name="Evening walk in Camden")).to_have_count(0)
    check_page(page)
    page.screenshot(path="/tmp/changes_cancelled.png", full_page=True)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
