"""The demo's mail page in Chromium at phone size: the confirmation the outbox wrote as an .eml
file is listed, its text opens, its link to her booking works, and axe finds nothing."""

import pytest
from playwright.sync_api import expect

from bookings.delivery import deliver_notification
from bookings.models import Notification
from bookings.services import book_place
from tests.browser.conftest import assert_accessible, live
from tests.factories import make_user, make_walk
from tests.test_devmail import reload_urls

pytestmark = [pytest.mark.browser, live]

PASSWORD = "a long test password 1"  # tests.factories.make_user
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo_mail(settings, live_server, tmp_path):
    settings.DEBUG = True
    settings.STAFF_OTP_REQUIRED = False
    settings.SITE_URL = live_server.url
    settings.EMAIL_BACKEND = "walkandtalk.mailfiles.EmlFileBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    reload_urls()
    yield
    settings.DEBUG = False
    reload_urls()


def test_staff_read_the_demo_mail_and_follow_her_link(page, live_server, demo_mail):
    page.set_viewport_size(PHONE)
    booking = book_place(walk=make_walk(), full_name="Amira Begum", email="amira@example.org")
    confirmation = Notification.objects.get(
        booking=booking, kind=Notification.Kind.BOOKING_CONFIRMED
    )
    assert deliver_notification(notification_id=confirmation.pk) == "sent"
    staff = make_user(is_staff=True)

    page.goto(f"{live_server.url}/dev/mail/")
    page.get_by_label("Username").fill(staff.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demo mail")
    expect(page.get_by_text("amira@example.org")).to_be_visible()
    page.locator("summary").first.click()
    link = page.get_by_role("link", name=f"{live_server.url}/bookings/manage/").first
    expect(link).to_be_visible()
    assert_accessible(page)
    page.screenshot(path="/tmp/dev-mail.png", full_page=True)
    link.click()
    expect(page.get_by_text(booking.reference).first).to_be_visible()
