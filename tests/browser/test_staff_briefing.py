"""An officer on the day of her walk, in Chromium at phone size: on /staff/ and in the walk's
briefing she sees who is coming, what each woman needs and what she would like to talk about;
never an email address."""

from datetime import datetime, time

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from patrols.services import roster_officer
from tests.browser.conftest import assert_accessible, enter_security_code, live
from tests.factories import make_booking, make_officer, make_user, make_walk

pytestmark = [pytest.mark.browser, live]

PASSWORD = "a long test password 1"  # tests.factories.make_user
PHONE = {"width": 390, "height": 844}
NEEDS = "I use a wheelchair: step-free paths please"
TOPICS = "The underpass by the station after dark"


@pytest.fixture
def midday_today():
    """Midday today, London time, with the clock running: her walk at 6:30pm is on the day,
    whatever the hour the test runs (the browser and the server share this clock's date)."""
    london = timezone.get_default_timezone()
    midday = datetime.combine(timezone.localdate(), time(12), tzinfo=london)
    with time_machine.travel(midday, tick=True):
        yield midday


def test_an_officer_on_the_day_sees_a_womans_topics_and_needs(page, live_server, midday_today):
    page.set_viewport_size(PHONE)
    officer = make_user("Officers", officer_bcu="AS")
    starts = midday_today.replace(hour=18, minute=30)
    walk = make_walk(
        title="Evening walk in Lambeth",
        starts_at=starts,
        meeting_point="Brixton station, Brixton Road exit",
        meeting_lat="51.462600",
        meeting_lng="-0.114500",
    )
    roster_officer(walk=walk, officer=officer.officer)
    roster_officer(walk=walk, officer=make_officer(name="Grace Hussain", rank="PS"), role="lead")
    make_booking(
        walk=walk,
        full_name="Amira Begum",
        email="amira@example.org",
        phone="07700 900123",
        accessibility_needs=NEEDS,
        topics=TOPICS,
    )

    page.goto(f"{live_server.url}/staff/")
    page.get_by_label("Username").fill(officer.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    enter_security_code(page, officer)
    expect(page.get_by_role("heading", level=1)).to_have_text("My walks")
    card = page.locator(".staff-walks li.card", has_text="Brixton station")
    expect(card).to_contain_text("Today")
    expect(card.get_by_role("heading", name="Who is coming")).to_be_visible()
    woman = card.locator(".told-us-woman", has_text="Amira Begum")
    expect(woman).to_contain_text(NEEDS)
    expect(woman).to_contain_text(TOPICS)
    expect(woman.get_by_role("link", name="07700 900123")).to_have_attribute(
        "href", "tel:07700 900123"
    )
    expect(page.locator("body")).not_to_contain_text("@example.org")
    assert_accessible(page)
    page.screenshot(path="/tmp/staffview_staff_home.png", full_page=True)

    card.get_by_role("link", name="Briefing for this walk").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Briefing: Evening walk in Lambeth")
    expect(page.locator("dt", has_text="Sunset")).to_be_visible()
    expect(page.locator("main, #main").first).to_contain_text("Police Sergeant Grace Hussain")
    woman = page.locator(".told-us-woman", has_text="Amira Begum")
    expect(woman).to_contain_text(NEEDS)
    expect(woman).to_contain_text(TOPICS)
    expect(page.locator("body")).not_to_contain_text("@example.org")
    assert_accessible(page)
    page.screenshot(path="/tmp/staffview_briefing_phone.png", full_page=True)

    # On paper: the site's navigation and the screen's hints are left off.
    page.emulate_media(media="print")
    expect(page.get_by_role("link", name="My walks").first).to_be_hidden()
    expect(page.get_by_text("Print it from your browser's menu")).to_be_hidden()
    expect(woman).to_contain_text(TOPICS)
    page.screenshot(path="/tmp/staffview_briefing_print.png", full_page=True)
