"""The report on paper and over time, in a real browser: each headline figure beside the
previous period's, the trends by month, and the print layout (the filters as a sentence, no
navigation, form or buttons, charts and map in greys, sections kept whole, nothing wider than
the page). A screenshot and a PDF are left in /tmp to look at."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, live
from tests.browser.test_reports import sign_in
from tests.factories import (
    borough,
    make_action,
    make_booking,
    make_concern,
    make_feedback,
    make_user,
    make_walk,
)

pytestmark = [pytest.mark.browser, live]


@pytest.fixture
def history():
    """Concerns, actions and survey answers over the last six months."""
    now = timezone.now()
    for n in range(24):
        concern = make_concern(
            logged_at=now - timedelta(days=2 + 7 * n),
            borough=borough(["lambeth", "southwark"][n % 2]),
            category=["poorly_lit", "followed", "other", "no_cctv"][n % 4],
            lat=Decimal("51.46") + Decimal(n) / 1000,
            lng=Decimal("-0.11"),
        )
        if n % 3:
            make_action(concern, at=concern.logged_at + timedelta(days=1 + n % 5))
    for n in range(6):
        walk = make_walk(starts_at=now - timedelta(days=5 + 30 * n), status="completed")
        make_feedback(
            make_booking(walk=walk, status="attended"),
            felt_safe_after=4 if n % 2 else 2,
            confidence_in_police_after=2 + n % 3,
        )


def test_the_report_compares_each_figure_and_shows_the_trends_by_month(page, live_server, history):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, make_user("Commanders", officer_bcu=""))
    page.goto(f"{live_server.url}/reports/?bcu=AS")

    logged = page.locator(".report-figure-item", has_text="Concerns logged")
    expect(logged.locator(".report-change")).to_have_text(
        re.compile(r"^(Up|Down) \d+% on the previous 90 days \(\d+\)\.$|^No change")
    )
    for title in [
        "Concerns by month",
        "Felt safer after the walk, by month",
        "Change in confidence in the police, by month",
        "Median time to first action, by month",
    ]:
        expect(page.get_by_role("heading", name=title, level=2)).to_be_visible()
    months = page.get_by_role("table", name="Concerns logged in each month, by category group")
    expect(months.get_by_role("columnheader")).to_have_text(
        ["Month", "Environmental", "Behavioural", "Other", "All"]
    )
    expect(page.get_by_role("button", name="Print this report")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.locator(".report-card", has_text="Concerns logged").screenshot(
        path="/tmp/report-change-phone.png"
    )
    for trend in ["month", "safer-month", "confidence-month", "action-time-month"]:
        section = page.locator(f"section[aria-labelledby={trend}-title]")
        section.screenshot(path=f"/tmp/report-trend-{trend}-phone.png")
    assert_accessible(page)


def test_the_report_prints_in_black_and_white_with_its_filters_as_a_sentence(
    page, live_server, history
):
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, make_user("Commanders", officer_bcu=""))
    page.goto(f"{live_server.url}/reports/?bcu=AS&borough=lambeth")

    page.emulate_media(media="print")

    expect(page.locator("#report-scope")).to_be_visible()
    expect(page.locator("#report-scope")).to_have_text(
        re.compile(r"^Concerns from .+ \(90 days\), Lambeth \(Central South\), all categories\.$")
    )
    for hidden in [
        "nav[aria-label=Main]",
        "form.report-filters",
        ".report-download",
        "#print-report",
        ".skip-link",
    ]:
        expect(page.locator(hidden)).to_be_hidden()
    style = """([selector, property]) =>
        getComputedStyle(document.querySelector(selector)).getPropertyValue(property)"""
    assert page.evaluate(style, ["#month-title", "break-after"]) == "avoid"
    assert page.evaluate(style, [".report-section", "break-inside"]) == "avoid"
    assert page.evaluate(style, [".report-headline", "break-after"]) == "page"
    # Greys, not colours: the bars, the map's darkest shade and a month chart's series.
    assert page.evaluate(style, [".chart-bar", "fill"]) == "rgb(58, 58, 58)"
    assert page.evaluate(style, [".chart-series-environmental", "fill"]) == "rgb(58, 58, 58)"
    legend = page.locator(".report-map-legend .map-key rect")
    fills = [legend.nth(n).evaluate("e => getComputedStyle(e).fill") for n in range(legend.count())]
    assert all(re.fullmatch(r"rgb\((\d+), \1, \1\)", fill) for fill in fills), fills
    assert len(set(fills)) == len(fills)  # each shade of the key its own grey
    # Nothing wider than the page.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path="/tmp/report-print.png", full_page=True)
    page.locator(".report-map-pair").screenshot(path="/tmp/report-print-map.png")
    page.locator("section[aria-labelledby=month-title]").screenshot(
        path="/tmp/report-print-months.png"
    )
    pdf = page.pdf(path="/tmp/report-print.pdf", format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 3  # the headline page, and more
