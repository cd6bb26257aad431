import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, live

pytestmark = [pytest.mark.browser, live]


def test_home_page_passes_axe(page, live_server):
    page.goto(live_server.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Walk and Talk")
    assert_accessible(page)


def test_pressing_escape_three_times_leaves_for_the_exit_site(page, live_server, exit_site):
    page.goto(live_server.url)
    for _ in range(3):
        page.keyboard.press("Escape")
    page.wait_for_url(exit_site)
    # The page she left is replaced in the history: Back does not return to it.
    assert not page.evaluate("document.referrer")
    assert page.evaluate("history.length") == 2  # about:blank, then the exit site


def test_the_exit_button_leaves_for_the_exit_site(page, live_server, exit_site):
    page.goto(live_server.url)
    page.get_by_role("link", name="Exit this page").click()
    page.wait_for_url(exit_site)
