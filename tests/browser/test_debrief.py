"""After the walk, in Chromium at phone size: the debrief, the survey and "you said, we did"."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Booking, Notification
from concerns.models import Concern, Debrief, Feedback
from concerns.services import record_action
from patrols.models import Walk
from tests.browser.conftest import assert_accessible, enter_security_code, live
from tests.factories import make_assignment, make_booking, make_user, make_walk

pytestmark = [pytest.mark.browser, live]

PASSWORD = "a long test password 1"  # tests.factories.make_user
BRIXTON = {"latitude": 51.4626, "longitude": -0.1145, "accuracy": 12}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """An iPhone-sized screen, standing in Brixton, with the position shared."""
    return {
        **browser_context_args,
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "geolocation": BRIXTON,
        "permissions": ["geolocation"],
    }


@pytest.fixture
def walk():
    starts = timezone.now() - timedelta(minutes=100)
    return make_walk(starts_at=starts, ends_at=starts + timedelta(minutes=90))


def test_an_officer_debriefs_a_walk_with_two_concerns_on_her_phone(page, live_server, walk):
    officer = make_user("Officers", officer_bcu="AS")
    make_assignment(walk, officer.officer)
    amira = make_booking(walk=walk, full_name="Amira Begum")
    grace = make_booking(walk=walk, full_name="Grace Lewis")

    debrief = f"{live_server.url}/staff/walks/{walk.code}/debrief/"
    page.goto(debrief)  # sent to the staff sign-in first
    page.get_by_label("Username").fill(officer.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/(debrief|staff/two-factor)/"))
    if "/two-factor/" in page.url:  # the second step, whenever STAFF_OTP_REQUIRED is on
        enter_security_code(page, officer)
        page.goto(debrief)
    expect(page.get_by_role("heading", level=1)).to_have_text(walk.title)
    assert_accessible(page)

    page.get_by_role("group", name="Amira Begum").get_by_text("Came", exact=True).click()
    page.get_by_role("group", name="Grace Lewis").get_by_text("Did not come").click()
    page.get_by_label("How many women joined without booking?").fill("2")

    first = page.locator("#concern-0")
    first.get_by_label("What is the concern about?").select_option("poorly_lit")
    first.get_by_label("Where is it?").fill("Footpath by the railway, Coldharbour Lane")
    first.get_by_role("button", name="Use my position").click()
    expect(first.get_by_role("status")).to_contain_text("Position added")
    expect(first.get_by_label("Latitude")).to_have_value("51.462600")
    when = first.get_by_role("group", name="When does it feel unsafe?")
    when.get_by_label("After dark").check()
    when.get_by_label("Late at night").check()
    first.get_by_label("What makes it feel unsafe?").fill(
        "Three lamps out along the path. Mr Jones at number 4 says it has been months."
    )

    page.get_by_role("button", name="Add another concern").click()
    second = page.locator("#concern-1")
    expect(second.get_by_label("What is the concern about?")).to_be_visible()
    # What she typed before asking for another form is still there.
    expect(first.get_by_label("Latitude")).to_have_value("51.462600")
    expect(first.get_by_label("Late at night")).to_be_checked()
    second.get_by_label("What is the concern about?").select_option("harassment_group")
    second.get_by_label("Where is it?").fill("Bus stop outside the library")
    second.get_by_label("Latitude").fill("52.4862")  # Birmingham: a typo
    second.get_by_label("Longitude").fill("-0.1120")
    second.get_by_label("Late at night").check()
    second.get_by_label("What makes it feel unsafe?").fill("Comments shouted at women waiting.")
    page.get_by_role("button", name="Complete debrief").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_be_focused()
    assert_accessible(page)
    assert not Concern.objects.exists()
    # The first concern seems to name someone: she is asked to edit it or confirm.
    summary.get_by_role("link", name="Concern 1: This looks like it may name a person").click()
    description = first.get_by_label("What makes it feel unsafe?")
    expect(description).to_be_focused()
    expect(description).to_have_accessible_description(re.compile("may name a person"))
    first.screenshot(path="/tmp/debrief-name-warning.png")
    first.get_by_label("I have checked: this concern does not name or identify a person").check()
    summary.get_by_role("link", name="Concern 2: The position must be in Greater London").click()
    expect(second.get_by_label("Latitude")).to_be_focused()
    second.get_by_label("Latitude").fill("51.4612")
    page.get_by_role("button", name="Complete debrief").click()

    expect(page.get_by_role("status").first).to_contain_text(
        "Debrief saved. 1 of 2 came. 2 joined without booking. 2 new concerns logged."
    )
    page.screenshot(path="/tmp/debrief-saved.png", full_page=True)
    assert_accessible(page)
    assert Walk.objects.get(pk=walk.pk).status == Walk.Status.COMPLETED
    assert Booking.objects.get(pk=amira.pk).status == Booking.Status.ATTENDED
    assert Booking.objects.get(pk=grace.pk).status == Booking.Status.NO_SHOW
    assert sorted(Concern.objects.values_list("category", flat=True)) == [
        "harassment_group",
        "poorly_lit",
    ]
    lit = Concern.objects.get(category="poorly_lit")
    assert Concern.times_of(lit.times_unsafe) == ["after_dark", "late_night"]
    assert "Mr Jones" in lit.description  # she confirmed it names nobody
    assert Debrief.objects.get(walk=walk).walk_ins == 2
    assert Notification.objects.filter(kind="feedback").get().booking_id == amira.pk


def test_the_survey_and_the_public_page_pass_axe(page, live_server, walk):
    Walk.objects.filter(pk=walk.pk).update(status=Walk.Status.COMPLETED)
    booking = make_booking(walk=walk, status="attended")

    page.goto(f"{live_server.url}/feedback/{booking.survey_token()}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("How was your walk?")
    assert_accessible(page)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose how safe you felt before the walk")
    expect(page.get_by_role("alert")).to_be_focused()
    assert_accessible(page)
    for question, answer in [
        ("Before the walk, how safe", "2: Quite unsafe"),
        ("Now, after the walk, how safe", "4: Quite safe"),
        ("Before the walk, how much confidence", "3: Some confidence"),
        ("Now, how much confidence", "4: Quite a lot of confidence"),
    ]:
        page.get_by_role("group", name=question).get_by_label(answer).check()
    page.get_by_label("Email me about what is done").check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    assert_accessible(page)
    assert Feedback.objects.get(booking=booking).wants_updates

    concern = Concern.objects.create(
        walk=walk,
        bcu=walk.bcu,
        borough=walk.borough,
        category="poorly_lit",
        location_text="Footpath by the railway",
        times_unsafe=Concern.times_mask(["after_dark"]),
        description="Lamps out.",
    )
    record_action(
        concern=concern,
        note="The council replaced three lamps.",
        status="actioned",
        partner="council_lighting",
        by=make_user("Inspectors", officer_bcu="AS"),
    )
    page.goto(f"{live_server.url}/you-said-we-did/")
    expect(page.get_by_text("The council replaced three lamps.")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Area").select_option(value="AW")  # Central West
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("Nothing to show yet for Central West")).to_be_visible()
    assert_accessible(page)
