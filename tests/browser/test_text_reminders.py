"""Booking with text reminders in Chromium on a phone: the choice is a pair of GOV.UK radios, a
landline is refused with a clear error, the page and its errors pass axe-core, and the
outbox's sweep writes her reminder as a text (the demo's file backend)."""

import re
from datetime import timedelta

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from bookings.delivery import deliver_due_notifications
from bookings.models import Booking, Channel, WalkRequest
from tests.browser.conftest import live
from tests.browser.test_booking_journey import PHONE, check_page, walks  # noqa: F401 - a fixture

pytestmark = [pytest.mark.browser, live]


def test_book_with_texts_chosen_and_the_sweep_writes_the_reminder(
    page,
    live_server,
    walks,  # noqa: F811
    tmp_path,
):
    folder = tmp_path / "sms"
    with override_settings(SMS_BACKEND="walkandtalk.sms.FileBackend", SMS_FILE_PATH=str(folder)):
        page.set_viewport_size(PHONE)
        page.goto(f"{live_server.url}/walks/{walks.code}/book/")
        page.get_by_label("Full name").fill("Jo Bloggs")
        page.get_by_label("Email address").fill("jo@example.org")
        page.get_by_label("Phone number (optional)").fill("020 7946 0000")
        expect(page.get_by_label("By email")).to_be_checked()
        page.get_by_label("By text message to my mobile").check()
        page.get_by_label("I am 18 or over").check()
        page.get_by_label("I have read how my information is used").check()
        page.get_by_role("button", name="Book my place").click()

        summary = page.locator("#error-summary")
        expect(summary).to_contain_text("Enter a UK mobile number, like 07700 900 982")
        expect(page.get_by_label("By text message to my mobile")).to_be_checked()
        check_page(page)
        page.screenshot(path="/tmp/sms-booking-error.png", full_page=True)

        page.get_by_label("Phone number (optional)").fill("07700 900 982")
        page.get_by_role("button", name="Book my place").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Booking confirmed")
        check_page(page)

        booking = Booking.objects.get(walk=walks)
        assert (booking.reminder_channel, booking.phone) == (Channel.SMS, "+447700900982")
        outcomes = deliver_due_notifications(now=walks.starts_at - timedelta(hours=23))
        assert outcomes["sent"] == 2  # her confirmation by email, her reminder by text
        [text] = folder.glob("*.txt")
        written = text.read_text()
        assert written.startswith("To: +447700900982\n")
        assert "Reminder: your walk is" in written and booking.manage_url() in written

        page.goto(f"{live_server.url}/bookings/manage/{booking.manage_token()}/")
        expect(page.get_by_role("heading", name="Your reminders")).to_be_visible()
        expect(page.get_by_label("By text message to my mobile")).to_be_checked()
        check_page(page)
        page.screenshot(path="/tmp/sms-manage.png", full_page=True)


def test_ask_for_a_walk_on_her_route_with_texts_chosen(page, live_server, tmp_path):
    with override_settings(SMS_BACKEND="walkandtalk.sms.FileBackend", SMS_FILE_PATH=str(tmp_path)):
        page.set_viewport_size(PHONE)
        page.goto(f"{live_server.url}/request/")
        page.get_by_label("Borough").select_option(label="Lambeth")
        page.get_by_label("The route or area").fill("From Brixton station along Coldharbour Lane.")
        page.get_by_label("Days and times that suit you").fill("Weekday evenings")
        page.get_by_label("Full name").fill("Amira Begum")
        page.get_by_label("Email address").fill("amira@example.org")
        page.get_by_label("Phone number (optional)").fill("020 7946 0000")
        expect(page.get_by_label("By email")).to_be_checked()
        page.get_by_label("By text message to my mobile").check()
        page.get_by_label("I am 18 or over").check()
        page.get_by_label("I have read how my information is used").check()
        page.get_by_role("button", name=re.compile("Send")).click()

        expect(page.locator("#error-summary")).to_contain_text("Enter a UK mobile number")
        expect(page.get_by_label("By text message to my mobile")).to_be_checked()
        check_page(page)
        page.screenshot(path="/tmp/sms-request-error.png", full_page=True)

        page.get_by_label("Phone number (optional)").fill("07700 900 982")
        page.get_by_role("button", name=re.compile("Send")).click()
        page.wait_for_url("**/request/received/")
        check_page(page)
        walk_request = WalkRequest.objects.get()
        assert (walk_request.reminder_channel, walk_request.phone) == (
            Channel.SMS,
            "+447700900982",
        )
