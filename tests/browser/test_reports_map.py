"""The report's map in a real browser: London's 32 boroughs in their shapes, shaded and named,
a borough's link narrows the report and zooms the map to it with its concerns marked; every
state passes axe-core on a phone and on a desktop. Screenshots are left in /tmp to look at."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, live
from tests.browser.test_reports import sign_in
from tests.factories import borough, make_concern, make_user

pytestmark = [pytest.mark.browser, live]

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture
def concerns():
    now = timezone.now()
    for n in range(6):
        make_concern(
            logged_at=now - timedelta(days=2 + n),
            borough=borough("westminster"),
            category=["poorly_lit", "followed"][n % 2],
            lat=Decimal("51.5") + Decimal(n) / 200,
            lng=Decimal("-0.14") - Decimal(n) / 200,
        )
    make_concern(logged_at=now - timedelta(days=3), borough=borough("lambeth"))


@pytest.mark.parametrize("size", SIZES)
def test_the_map_shows_london_and_a_borough_opens_its_own_report(page, live_server, concerns, size):
    page.set_viewport_size(SIZES[size])
    sign_in(page, live_server, make_user("Commanders", officer_bcu=""))

    boroughs = page.locator("svg.report-map a.map-borough")
    expect(boroughs).to_have_count(32)
    westminster = page.get_by_role("link", name="Westminster: 6 concerns")
    expect(westminster).to_be_visible()
    expect(page.get_by_role("link", name="Lambeth: 1 concern")).to_be_visible()
    # Drawn to scale: London is wider than tall, and Westminster sits near its middle.
    map_box = page.locator("svg.report-map").bounding_box()
    assert map_box["width"] > map_box["height"] > 0.6 * map_box["width"]
    box = westminster.bounding_box()
    assert 0.35 < (box["x"] - map_box["x"] + box["width"] / 2) / map_box["width"] < 0.6
    assert 0.3 < (box["y"] - map_box["y"] + box["height"] / 2) / map_box["height"] < 0.6
    page.locator(".report-map-pair").screenshot(path=f"/tmp/report-map-london-{size}.png")
    assert_accessible(page)

    westminster.click()

    page.wait_for_url(re.compile(r"/reports/\?.*borough=westminster"))
    expect(page.locator(".report-scope")).to_contain_text("Westminster (Central West)")
    # Westminster, and around it the other two boroughs of Central West.
    expect(page.locator("svg.report-map a.map-borough")).to_have_count(3)
    expect(page.locator("svg.report-map .map-point")).to_have_count(6)
    expect(page.get_by_text("Environmental (circle)")).to_be_visible()
    expect(page.get_by_text("Behavioural (square)")).to_be_visible()
    page.locator(".report-map-pair").screenshot(path=f"/tmp/report-map-westminster-{size}.png")
    assert_accessible(page)
