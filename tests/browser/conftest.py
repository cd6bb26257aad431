import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.factories import make_totp_device, totp_code

# Reference data from migrations survives the flush after each live-server test.
live = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Reduced motion, as many people choose it: Bootstrap then drops its transitions, so axe
    never measures a button's colours halfway through one (a flaky contrast failure)."""
    return {**browser_context_args, "reduced_motion": "reduce"}


def assert_accessible(page):
    """axe-core in the real browser: no WCAG 2.2 A/AA violation, nor best practice."""
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


@pytest.fixture
def exit_site(page):
    """The neutral exit site, answered locally: this machine has no internet."""
    page.route("https://www.bbc.co.uk/**", lambda route: route.fulfill(body="<h1>Weather</h1>"))
    return "https://www.bbc.co.uk/weather"


def enter_security_code(page, user):
    """The second step of a staff sign-in in the browser: type the code her authenticator app
    shows now (the device is set up for her if she has none)."""
    page.wait_for_url("**/staff/two-factor/**")
    device = make_totp_device(user)
    if "/setup/" in page.url:
        page.reload()  # with her app set up, the setup page sends her on to enter a code
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your security code")
    page.get_by_label("Code from your authenticator app").fill(totp_code(device))
    page.get_by_role("button", name="Continue").click()
