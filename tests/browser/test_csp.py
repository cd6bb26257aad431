"""The Content Security Policy in Chromium: every public page, the token pages and the staff
pages load with no violation reported (console messages and `securitypolicyviolation`
events), so nothing the pages need is blocked and nothing inline slipped in."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from patrols.models import Walk
from patrols.services import roster_officer
from tests.browser.conftest import assert_accessible, enter_security_code, live
from tests.factories import (
    make_booking,
    make_concern,
    make_officer,
    make_totp_device,
    make_user,
    make_walk,
    totp_code,
)
from tests.test_pages import PUBLIC_PAGES

pytestmark = [pytest.mark.browser, live]

PASSWORD = "a long test password 1"  # tests.factories.make_user
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}` +
    ` at ${event.sourceFile}:${event.lineNumber}`);
});
"""


@pytest.fixture
def violations(page):
    """Every CSP violation Chromium reports on the pages this test opens."""
    found = []
    page.add_init_script(LISTEN)
    page.on(
        "console",
        lambda message: (
            found.append(f"console: {message.text}")
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )

    def check():
        found.extend(page.evaluate("window.__cspViolations || []"))
        return found

    return check


def visit(page, url, violations):
    response = page.goto(url)
    assert response.ok, url
    assert "Content-Security-Policy" in response.headers or (
        "content-security-policy" in response.headers
    )
    page.wait_for_load_state("networkidle")
    assert violations() == [], url


def test_every_public_page_loads_with_no_violation(page, live_server, violations):
    walk = make_walk()
    for name in PUBLIC_PAGES:
        visit(page, live_server.url + reverse(name), violations)
    for path in (f"/walks/{walk.code}/", f"/walks/{walk.code}/book/"):
        visit(page, live_server.url + path, violations)


def test_booking_and_the_token_pages_load_with_no_violation(page, live_server, violations):
    walk = make_walk()
    page.goto(f"{live_server.url}/walks/{walk.code}/book/")
    page.get_by_role("button", name="Book my place").click()  # empty: the error summary
    expect(page.get_by_role("alert")).to_be_visible()
    assert violations() == []
    booking = make_booking(walk=walk)
    visit(page, f"{live_server.url}/bookings/manage/{booking.manage_token()}/", violations)
    starts = timezone.now() - timedelta(days=1)
    done = make_walk(starts_at=starts, status=Walk.Status.COMPLETED)
    attended = make_booking(walk=done, status="attended")
    visit(page, f"{live_server.url}/feedback/{attended.survey_token()}/", violations)


def test_staff_sign_in_with_the_second_factor_and_staff_pages_have_no_violation(
    page, live_server, violations
):
    user = make_user(is_superuser=True)
    make_totp_device(user)  # her app is set up: after her password, she is asked for a code
    walk = make_walk(starts_at=timezone.now() + timedelta(days=4))
    roster_officer(walk=walk, officer=make_officer())
    concern = make_concern()
    page.goto(f"{live_server.url}/admin/")
    assert violations() == []
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your security code")
    assert_accessible(page)
    enter_security_code(page, user)
    expect(page.locator("#site-name")).to_contain_text("Walk and Talk")
    assert violations() == []
    for path in (
        "/admin/patrols/walk/",
        "/admin/patrols/walk/?when=all",
        f"/admin/patrols/walk/{walk.pk}/change/",
        f"/admin/patrols/walk/{walk.pk}/history/",
        "/admin/patrols/walk/add/",
        f"/admin/concerns/concern/{concern.pk}/change/",
        "/admin/bookings/walkrequest/",
        "/admin/personal-data/",
        "/reports/",
    ):
        visit(page, live_server.url + path, violations)


def test_setting_up_the_authenticator_app_in_the_browser(page, live_server, violations):
    inspector = make_user("Inspectors", officer_bcu="AS")
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill(inspector.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your authenticator app")
    qr = page.get_by_role("img", name="QR code to add Met Walk and Talk to your authenticator app")
    expect(qr).to_be_visible()
    # The SVG drawn here loads and decodes as an image.
    assert qr.evaluate("image => image.decode().then(() => image.naturalWidth)") > 0
    assert violations() == []
    assert_accessible(page)
    page.get_by_role("button", name="Finish setting up").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the 6-digit code")
    assert_accessible(page)
    device = TOTPDevice.objects.get(user=inspector, confirmed=False)
    page.get_by_label("Code from your authenticator app").fill(totp_code(device))
    page.get_by_role("button", name="Finish setting up").click()
    expect(page.locator("#site-name")).to_contain_text("Walk and Talk")
    page.screenshot(path="/tmp/h7_after_setup.png", full_page=True)
    assert violations() == []


def test_a_returning_visitor_gets_the_kept_list_with_her_own_nonce(page, live_server, violations):
    """After a booking form her browser holds its CSRF cookie, and the walk list she goes back
    to is the page kept for everyone (website/pagecache.py): it still works under the CSP with
    this response's nonce, and passes axe, on a phone."""
    walk = make_walk(title="Evening walk by the canal", capacity=6)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/walks/{walk.code}/book/")
    cookies = {cookie["name"] for cookie in page.context.cookies()}
    assert cookies == {settings.CSRF_COOKIE_NAME}
    bodies = []
    for _ in range(3):  # rendered, then kept whole, then served whole
        response = page.goto(f"{live_server.url}/walks/")
        assert response.ok
        page.wait_for_load_state("networkidle")
        assert violations() == []
        bodies.append(response.text())  # as sent: Chromium hides nonces from the DOM
    expect(page.get_by_role("link", name="Evening walk by the canal")).to_be_visible()
    nonce = 'nonce="([^"]+)"'
    assert len({tuple(re.findall(nonce, body)) for body in bodies}) == 3
    assert len({re.sub(nonce, "", body) for body in bodies}) == 1
    assert_accessible(page)
    page.screenshot(path="/tmp/returning_visitor_walks.png", full_page=True)
