"""The public map on "you said, we did" in a real browser, on a phone and a desktop: London's
boroughs shaded by the concerns acted on, no marks for any concern, a borough's link narrows
the page to it; axe-core finds nothing on either page. Screenshots are left in /tmp."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, live
from tests.factories import borough, make_action, make_concern

pytestmark = [pytest.mark.browser, live]

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


@pytest.mark.parametrize("size", SIZES)
def test_the_public_map_shades_boroughs_and_opens_a_borough_without_any_concern_marked(
    page, live_server, size
):
    for n in range(3):
        make_action(
            make_concern(
                borough=borough("southwark"),
                location_text=f"Burgess Park path {n}",
                lat=Decimal("51.4838"),
                lng=Decimal("-0.0803"),
            )
        )
    make_concern(borough=borough("westminster"), location_text="Not acted on yet")
    page.set_viewport_size(SIZES[size])
    page.goto(live_server.url + reverse("website:you_said_we_did"))

    boroughs = page.locator("svg.report-map a.map-borough")
    expect(boroughs).to_have_count(32)
    expect(page.get_by_role("link", name="Westminster: 0 concerns acted on")).to_be_visible()
    southwark = page.get_by_role("link", name="Southwark: 3 concerns acted on")
    expect(southwark).to_be_visible()
    expect(page.locator(".map-point")).to_have_count(0)
    expect(page.get_by_text("Open Government Licence v3.0")).to_be_visible()
    page.get_by_text("The map’s figures as a table").click()
    table = page.get_by_role("table", name="Concerns acted on, by borough")
    expect(table.get_by_role("row", name="Southwark 3")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.locator(".you-said-map").screenshot(path=f"/tmp/you-said-map-london-{size}.png")
    assert_accessible(page)

    southwark.click()

    page.wait_for_url(re.compile(r"/you-said-we-did/\?borough=southwark$"))
    expect(page.get_by_text("Burgess Park path 0, Southwark")).to_be_visible()
    # Zoomed to Central South: Lambeth, and Southwark marked as the page's own.
    expect(page.locator("svg.report-map a.map-borough")).to_have_count(2)
    expect(page.locator('svg.report-map a[aria-current="page"]')).to_have_attribute(
        "aria-label", "Southwark: 3 concerns acted on"
    )
    expect(page.locator(".map-point")).to_have_count(0)
    assert "51.48" not in page.content() and "-0.08" not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.locator(".you-said-map").screenshot(path=f"/tmp/you-said-map-southwark-{size}.png")
    assert_accessible(page)
