"""A commander in a real browser: signs in, reads the report, narrows it to a borough with the
filters, and downloads the CSV; every state of the page passes axe-core."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, enter_security_code, live
from tests.factories import borough, make_action, make_concern, make_user

pytestmark = [pytest.mark.browser, live]

PASSWORD = "a long test password 1"


def sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/admin/login/?next=/reports/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/(reports|staff/two-factor)/"))
    if "/two-factor/" in page.url:  # the second step, whenever STAFF_OTP_REQUIRED is on
        enter_security_code(page, user)
        page.goto(f"{live_server.url}/reports/")


@pytest.fixture
def concerns():
    now = timezone.now()
    for days in (2, 5):
        make_concern(logged_at=now - timedelta(days=days), location_text="Towpath by the lock")
    make_action(
        make_concern(
            logged_at=now - timedelta(days=9),
            borough=borough("westminster"),
            category="followed",
            location_text="Mews behind the hotel",
        ),
        partner="police_patrols",
    )


def test_a_commander_reads_the_report_narrows_it_to_a_borough_and_downloads_it(
    page, live_server, concerns
):
    sign_in(page, live_server, make_user("Commanders", officer_bcu=""))

    expect(page.get_by_role("heading", level=1)).to_have_text("Walk and Talk report")
    expect(page.locator(".report-scope")).to_contain_text("All of London")
    by_bcu = page.get_by_role("table", name="Concerns by Borough Command Unit")
    expect(by_bcu.get_by_role("row", name="Central South 2")).to_be_visible()
    expect(by_bcu.get_by_role("row", name="Central West 1")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Borough", exact=True).select_option(label="Westminster")
    page.get_by_role("button", name="Show the report").click()

    page.wait_for_url(re.compile(r"/reports/\?.*borough=westminster"))
    expect(page.locator(".report-scope")).to_contain_text("Westminster (Central West)")
    by_borough = page.get_by_role("table", name="Concerns by borough")
    expect(by_borough.get_by_role("row")).to_have_count(2)  # the header and Westminster
    expect(by_borough.get_by_role("row", name="Westminster 1")).to_be_visible()
    expect(page.get_by_role("table", name=re.compile("most concerns"))).to_contain_text(
        "Mews behind the hotel"
    )
    expect(page.get_by_label("Borough", exact=True)).to_have_value(
        "westminster"
    )  # kept in the form
    assert_accessible(page)

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download these 1 concern")).click()
    assert download.value.suggested_filename.startswith("walk-and-talk-concerns-westminster-")
    assert "Mews behind the hotel" in download.value.path().read_text(encoding="utf-8-sig")


def test_a_filter_that_does_not_fit_is_explained_and_the_page_still_passes_axe(
    page, live_server, concerns
):
    sign_in(page, live_server, make_user("Commanders", officer_bcu=""))

    page.get_by_label("BCU", exact=True).select_option(label="Central South")
    page.get_by_label("Borough", exact=True).select_option(label="Westminster")
    page.get_by_role("button", name="Show the report").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Westminster is not in Central South")
    summary.get_by_role("link").click()
    expect(page.get_by_label("Borough", exact=True)).to_be_focused()
    assert_accessible(page)


def test_a_bcu_commander_is_offered_only_her_own_bcu(page, live_server, concerns):
    sign_in(page, live_server, make_user("Commanders", officer_bcu="AS"))

    expect(page.get_by_label("BCU", exact=True).locator("option")).to_have_text(["Central South"])
    expect(page.get_by_label("Borough", exact=True).locator("option")).to_have_text(
        ["All boroughs", "Lambeth", "Southwark"]
    )
    expect(page.get_by_text("Mews behind the hotel")).to_have_count(0)
    assert_accessible(page)


def test_on_a_phone_a_wide_table_scrolls_in_its_own_region_and_no_word_is_broken(
    page, live_server, concerns
):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, make_user("Commanders", officer_bcu=""))
    partners = page.get_by_role("region", name=re.compile("by the partner involved"))
    header = partners.get_by_role("columnheader", name="Actions", exact=True)
    # One line: "Actions" is not split into "Ac / tio / ns" to fit the screen.
    lines = header.evaluate(
        "th => { const r = document.createRange(); r.selectNodeContents(th);"
        " return new Set([...r.getClientRects()].map(rect => Math.round(rect.top))).size; }"
    )
    assert lines == 1
    assert partners.evaluate("region => region.scrollWidth > region.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page)
