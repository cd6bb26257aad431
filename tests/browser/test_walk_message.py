"""An inspector, on her phone, writes to the women booked on a walk from the walk's admin page:
an empty message is refused with the site's error summary, a real one is sent and listed on the
walk. An officer gets her calendar address on /staff/. axe-core clean at 390 px."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Notification, WalkMessage
from patrols.services import roster_officer
from tests.browser.conftest import assert_accessible, live
from tests.browser.test_inspector_admin import log_in
from tests.factories import make_booking, make_user, make_walk

pytestmark = [pytest.mark.browser, live]

PHONE = {"width": 390, "height": 844}
GATE = "Meet at the Albany Road gate: the main gate is closed."


def test_an_inspector_messages_the_women_booked_on_a_walk(page, live_server):
    page.set_viewport_size(PHONE)
    inspector = make_user("Inspectors", officer_bcu="AS")
    walk = make_walk(starts_at=timezone.now() + timedelta(days=2))
    make_booking(walk=walk)
    make_booking(walk=walk)
    log_in(page, live_server, inspector)

    page.goto(live_server.url + reverse("admin:patrols_walk_change", args=[walk.pk]))
    page.get_by_role("link", name="Send a message").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Send a message to the women booked")
    page.get_by_role("button", name="Send the message").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_be_focused()
    assert_accessible(page)
    summary.get_by_role("link", name="Enter the message to send to the women booked.").click()
    message = page.get_by_label("Your message")
    expect(message).to_be_focused()

    message.fill(GATE)
    page.get_by_role("button", name="Send the message").click()
    expect(page.locator(".messagelist")).to_contain_text(
        "Message sent to 2 women with a place on the walk."
    )
    expect(page.locator(".field-walk_messages")).to_contain_text(GATE)
    assert WalkMessage.objects.get().text == GATE
    assert Notification.objects.filter(kind=Notification.Kind.WALK_MESSAGE).count() == 2


def test_an_officer_gets_her_calendar_address_on_her_phone(page, live_server):
    page.set_viewport_size(PHONE)
    officer_user = make_user("Officers", officer_bcu="AS")
    roster_officer(walk=make_walk(), officer=officer_user.officer)
    log_in(page, live_server, officer_user)
    page.goto(f"{live_server.url}/staff/")
    page.get_by_role("button", name="Get my calendar address").click()
    expect(page.locator("#calendar ~ p a")).to_contain_text("/staff/calendar/")
    expect(page.get_by_role("button", name="Make a new address")).to_be_visible()
    assert_accessible(page)
