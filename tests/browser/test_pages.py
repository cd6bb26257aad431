import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, live
from tests.factories import borough, make_action, make_concern

pytestmark = [pytest.mark.browser, live]

INFORMATION_PAGES = {
    "website:about": "About Walk and Talk",
    "website:what_to_expect": "What to expect on a walk",
    "website:privacy": "Privacy notice",
    "website:accessibility": "Accessibility statement",
    "website:help": "Getting help",
}


@pytest.mark.parametrize(("name", "heading"), INFORMATION_PAGES.items())
def test_information_page_passes_axe_and_fits_a_phone_screen(page, live_server, name, heading):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + reverse(name))
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert_accessible(page)
    # Nothing wider than the screen: no sideways scrolling to read a sentence (WCAG 1.4.10).
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_keyboard_user_reaches_getting_help_from_the_footer(page, live_server):
    page.goto(live_server.url)
    footer_help = page.get_by_role("navigation", name="About this site").get_by_role(
        "link", name="Getting help"
    )
    for _ in range(40):
        page.keyboard.press("Tab")
        if footer_help.evaluate("link => link === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the footer's Getting help link")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + reverse("website:help"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Getting help")


def test_the_privacy_contents_take_her_to_the_section(page, live_server):
    page.goto(live_server.url + reverse("website:privacy"))
    page.get_by_role("link", name="How long we keep it").click()
    assert page.url.endswith("#how-long")
    expect(page.get_by_role("heading", name="How long we keep it")).to_be_in_viewport()


def test_pressing_escape_three_times_on_the_help_page_leaves_for_the_exit_site(
    page, live_server, exit_site
):
    page.goto(live_server.url + reverse("website:help"))
    for _ in range(3):
        page.keyboard.press("Escape")
    page.wait_for_url(exit_site)


@pytest.mark.parametrize("query", ["", "?borough=southwark", "?borough=atlantis"])
def test_you_said_we_did_by_borough_passes_axe_on_a_phone(page, live_server, query):
    make_action(make_concern(borough=borough("southwark"), location_text="Burgess Park path"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + reverse("website:you_said_we_did") + query)
    expect(page.get_by_role("heading", level=1)).to_have_text("You said, we did")
    expect(page.get_by_text("Burgess Park path, Southwark")).to_be_visible()
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_you_said_we_did_narrows_to_the_borough_she_chooses(page, live_server):
    make_action(make_concern(borough=borough("southwark"), location_text="Burgess Park path"))
    make_action(make_concern(borough=borough("westminster"), location_text="Paddington subway"))
    page.goto(live_server.url + reverse("website:you_said_we_did"))
    page.get_by_label("Borough").select_option("southwark")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"borough=southwark"))
    expect(page.get_by_text("Burgess Park path, Southwark")).to_be_visible()
    expect(page.get_by_text("Paddington subway")).to_have_count(0)
