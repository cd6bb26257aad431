"""/reports/: who may read it, what each reader sees, the filters, and its cost in queries."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from concerns.models import Concern, ConcernAction, ConcernStatus, Debrief, Partner
from tests.factories import (
    borough,
    login_staff,
    make_action,
    make_booking,
    make_concern,
    make_feedback,
    make_request,
    make_user,
    make_walk,
)

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
TODAY = datetime(2026, 6, 15, 10, 0, tzinfo=LONDON)
URL = "/reports/"


@pytest.fixture(autouse=True)
def fixed_day():
    with time_machine.travel(TODAY, tick=False):
        yield


def days_ago(n: int) -> datetime:
    return TODAY - timedelta(days=n)


@pytest.fixture
def central_south_commander(client):
    login_staff(client, make_user("Commanders", officer_bcu="AS"))
    return client


@pytest.fixture
def london_commander(client):
    login_staff(client, make_user("Commanders", officer_bcu=""))
    return client


@pytest.fixture
def two_bcus():
    """Concerns in Central South (Lambeth) and Central West (Westminster), distinguishable by
    their location text."""
    make_concern(logged_at=days_ago(3), location_text="Lambeth towpath under the bridge")
    make_concern(
        logged_at=days_ago(4),
        borough=borough("westminster"),
        location_text="Westminster mews behind the hotel",
    )


# --- Who may read it ------------------------------------------------------------------------


def test_someone_not_logged_in_is_sent_to_the_staff_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/reports/")


@pytest.mark.parametrize("url", [URL, "/reports/concerns.csv"])
def test_an_officer_may_not_read_the_reports(client, url):
    login_staff(client, make_user("Officers", officer_bcu="AS"))
    assert client.get(url).status_code == 403


def test_staff_with_the_permission_but_no_officer_record_are_refused(client):
    login_staff(client, make_user("Commanders"))  # no Officer: no BCU to scope by
    assert client.get(URL).status_code == 403


def test_inspectors_read_the_reports_for_their_bcu(client, two_bcus):
    login_staff(client, make_user("Inspectors", officer_bcu="AS"))
    response = client.get(URL)
    assert response.status_code == 200
    assert "Lambeth towpath" in response.text
    assert "Westminster mews" not in response.text


def test_a_superuser_reads_all_of_london(client, two_bcus):
    login_staff(client, make_user(is_superuser=True))
    response = client.get(URL)
    assert response.status_code == 200
    assert "Lambeth towpath" in response.text
    assert "Westminster mews" in response.text


def test_the_page_is_never_stored_by_a_browser_or_proxy(london_commander):
    response = london_commander.get(URL)
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


# --- Scope: a Central South commander never sees Central West ---------------------------------


def test_a_bcu_commander_sees_only_her_bcu(central_south_commander, two_bcus):
    response = central_south_commander.get(URL)
    assert response.status_code == 200
    assert "Lambeth towpath" in response.text
    assert "Westminster mews" not in response.text
    assert "Central West" not in response.text  # not even as a choice in the filters
    assert response.context["filters"].bcu.code == "AS"
    assert response.context["sections"][2]["items"][0]["value"] == "1"  # concerns logged


@pytest.mark.parametrize(
    "query",
    ["bcu=AW", "borough=westminster", "bcu=AS&borough=westminster", "bcu=AW&borough=lambeth"],
)
def test_a_bcu_commander_cannot_ask_for_another_bcu(central_south_commander, two_bcus, query):
    response = central_south_commander.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert "Westminster mews" not in response.text
    assert "There is a problem with the filters" in response.text
    assert response.context.get("filters") is None


def test_a_bcu_commander_sees_her_boroughs_broken_down(central_south_commander, two_bcus):
    response = central_south_commander.get(URL)
    assert response.context["area_level"] == "borough"
    assert [row["label"] for row in response.context["by_area"]] == ["Lambeth", "Southwark"]


def test_a_london_commander_sees_every_bcu_and_may_choose_one(london_commander, two_bcus):
    response = london_commander.get(URL)
    assert response.context["area_level"] == "bcu"
    assert len(response.context["by_area"]) == 12
    assert "Westminster mews" in response.text

    response = london_commander.get(f"{URL}?bcu=AW")
    assert response.status_code == 200
    assert "Westminster mews" in response.text
    assert "Lambeth towpath" not in response.text


# --- Filters --------------------------------------------------------------------------------


def test_the_default_period_is_the_last_90_days_in_london(london_commander):
    make_concern(logged_at=days_ago(89), location_text="Inside the period")
    make_concern(
        logged_at=datetime(2026, 3, 17, 23, 59, tzinfo=LONDON), location_text="The day before"
    )

    response = london_commander.get(URL)

    f = response.context["filters"]
    assert (f.start, f.end) == (date(2026, 3, 18), date(2026, 6, 15))
    assert response.context["days"] == 90
    assert 'value="2026-03-18"' in response.text  # the form shows the period it used
    assert "Inside the period" in response.text
    assert "The day before" not in response.text


def test_filters_are_read_from_the_query_string_and_kept_in_the_links(london_commander):
    make_concern(logged_at=days_ago(10), category="followed", location_text="Followed here")
    make_concern(logged_at=days_ago(10), category="poorly_lit", location_text="Dark here")

    response = london_commander.get(
        f"{URL}?from=2026-06-01&to=2026-06-14&bcu=AS&borough=lambeth&category=followed"
    )

    assert response.status_code == 200
    f = response.context["filters"]
    assert (f.start, f.end, f.bcu.code, f.borough.slug, f.category) == (
        date(2026, 6, 1),
        date(2026, 6, 14),
        "AS",
        "lambeth",
        "followed",
    )
    assert "Followed here" in response.text
    assert "Dark here" not in response.text
    csv_link = "/reports/concerns.csv?from=2026-06-01&amp;to=2026-06-14&amp;bcu=AS"
    assert f"{csv_link}&amp;borough=lambeth&amp;category=followed" in response.text
    assert (
        "Concerns from 1 June 2026 to 14 June 2026 (14 days), Lambeth (Central South), "
        "“Being followed” only." in response.text
    )
    assert "compared with the previous 14 days, 18 May 2026 to 31 May 2026." in response.text


def test_empty_filters_from_the_form_mean_the_defaults(london_commander):
    response = london_commander.get(f"{URL}?from=&to=&bcu=&borough=&category=")
    assert response.status_code == 200
    assert response.context["filters"].start == date(2026, 3, 18)
    assert response.context["filters"].bcu is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-02-30", "Enter the first day as a real date"),
        ("to=yesterday", "Enter the last day as a real date"),
        ("from=15/06/2026", "Enter the first day as a real date"),
        ("from=2026-06-10&to=2026-06-01", "The last day must be the same as or after the first"),
        ("from=0001-01-01", "The first day must be between 1 January 2020"),
        ("to=9999-12-31", "The last day must be between"),
        ("from=2020-01-01&to=2026-06-01", "Choose a period of 5 years or less"),
        ("bcu=XX", "Choose a BCU from the list"),
        ("bcu=%00", "Null characters are not allowed"),
        ("borough=nowhere", "Choose a borough from the list"),
        ("borough=%00", "Null characters are not allowed"),
        ("category=arson", "Choose a category from the list"),
        ("bcu=AS&borough=westminster", "Westminster is not in Central South"),
    ],
)
def test_bad_filters_get_a_clear_error_and_a_400_never_a_500(london_commander, query, message):
    response = london_commander.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert message in response.text
    assert 'role="alert"' in response.text
    assert "report-headline" not in response.text  # no figures for filters that failed


def test_an_error_links_to_its_field_and_the_field_is_described_by_it(london_commander):
    response = london_commander.get(f"{URL}?category=arson")
    assert '<a href="#id_category">' in response.text
    assert 'id="id_category_error"' in response.text
    assert 'aria-describedby="report-category-hint id_category_error"' in response.text


# --- The figures on the page ----------------------------------------------------------------


def test_the_page_shows_each_headline_figure(london_commander):
    walk = make_walk(starts_at=days_ago(20), status="completed")
    make_feedback(make_booking(walk=walk, status="attended"))
    make_booking(walk=walk, status="no_show")
    Debrief.objects.create(walk=walk, walk_ins=2)
    make_request(created_at=days_ago(30), decided_at=days_ago(27), status="scheduled")
    concern = make_concern(logged_at=days_ago(40), status=ConcernStatus.REFERRED)
    make_action(concern, at=days_ago(38), status=ConcernStatus.REFERRED, partner=Partner.TFL)
    make_concern(logged_at=days_ago(35))  # open for more than 30 days

    response = london_commander.get(URL)

    shown = {i["label"]: i["value"] for s in response.context["sections"] for i in s["items"]}
    assert shown == {
        "Walks held": "1",
        "Women who walked": "3",
        "Attendance rate": "50%",
        "No-shows": "1",
        "Walks cancelled by the police": "0",
        "Requests received": "1",
        "Median time to answer": "3.0 days",
        "Concerns logged": "2",
        "With an action": "50%",
        "Median time to first action": "2.0 days",
        "Open for more than 30 days": "1",
        "Responses": "1",
        "Felt safer after the walk": "100%",
        "Change in confidence in the police": "+1.0",
    }
    assert "Transport for London" in response.text
    assert "Places taken and kept (1), and women who joined without booking (2)." in response.text
    assert "It is counted under each, so these can add up to more" in response.text


def test_each_headline_figure_is_compared_with_the_previous_period_of_the_same_length(
    london_commander,
):
    for days in (3, 40):  # this period (the last 90 days)
        make_concern(logged_at=days_ago(days))
    make_concern(logged_at=days_ago(100))  # the previous 90 days
    walk = make_walk(starts_at=days_ago(20), status="completed")
    make_feedback(make_booking(walk=walk, status="attended"))

    response = london_commander.get(URL)

    changes = {i["label"]: i["change"] for s in response.context["sections"] for i in s["items"]}
    assert changes["Concerns logged"] == "Up 100% on the previous 90 days (1)."
    assert changes["Walks held"] == "None in the previous 90 days."
    assert changes["Felt safer after the walk"] == "No data for the previous 90 days."
    assert changes["Open for more than 30 days"] == "No change on the previous 90 days."
    assert '<span class="report-change">Up 100% on the previous 90 days (1).</span>' in (
        response.text
    )
    assert "compared with the previous 90 days, 18 December 2025 to 17 March 2026." in (
        response.text
    )


def test_the_trends_give_each_month_in_a_table_beside_the_chart(london_commander):
    make_concern(logged_at=days_ago(3), category="followed")
    make_concern(logged_at=days_ago(3), category="poorly_lit")
    response = london_commander.get(URL)
    html = response.text
    assert [t["title"] for t in response.context["trends"]] == [
        "Concerns by month",
        "Felt safer after the walk, by month",
        "Change in confidence in the police, by month",
        "Median time to first action, by month",
    ]
    by_month = response.context["trends"][0]["table"]
    assert by_month["columns"] == ["Environmental", "Behavioural", "Other", "All"]
    assert by_month["rows"][-1] == {"label": "June 2026", "cells": [1, 1, 0, 2]}
    assert ">Concerns logged in each month, by category group</caption>" in html
    assert 'fill="url(#month-hatch)"' in html  # behavioural is hatched, not only coloured


def test_each_chart_is_hidden_from_screen_readers_beside_a_table(london_commander):
    make_action(make_concern(logged_at=days_ago(3)), at=days_ago(2))
    response = london_commander.get(URL)
    charts = re.findall(r'<svg class="chart"[^>]*>', response.text)
    # Ten sections with a table; with no survey answers, its two trends draw no chart.
    assert len(charts) == 8
    assert all('aria-hidden="true" focusable="false"' in chart for chart in charts)
    assert response.text.count("<caption") == 10
    assert response.text.count("Nothing to chart: no") == 2
    assert "<script" not in response.text.split("</head>")[1]
    assert 'style="' not in response.text


def test_with_no_concerns_the_page_says_so_rather_than_drawing_empty_charts(london_commander):
    response = london_commander.get(URL)
    assert response.status_code == 200
    assert "No concerns match these filters." in response.text
    assert "Nothing to chart" in response.text


# --- Cost -----------------------------------------------------------------------------------


def _fill(n: int):
    for i in range(n):
        concern = make_concern(
            logged_at=days_ago(1 + i % 80),
            borough=borough(["lambeth", "southwark", "westminster"][i % 3]),
            category=["poorly_lit", "followed", "other"][i % 3],
            location_text=f"Place {i % 7}",
        )
        if i % 2:
            make_action(concern, at=days_ago(i % 80), partner=Partner.PARKS)
        walk = make_walk(starts_at=days_ago(1 + i % 80), status="completed")
        make_feedback(make_booking(walk=walk, status="attended"))
        Debrief.objects.create(walk=walk, walk_ins=i % 3)
        make_request(created_at=days_ago(1 + i % 80))


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.querycount
@pytest.mark.parametrize("query", ["", "?bcu=AS", "?borough=lambeth&category=followed"])
def test_the_page_costs_the_same_number_of_queries_at_any_size(london_commander, query):
    _fill(3)
    few = _queries(london_commander, URL + query)
    _fill(30)
    many = _queries(london_commander, URL + query)
    assert few == many
    # Including the staff second factor's check of her device, the previous period's
    # headline figures (5), the trends of the survey and of the time to act (2), and partners'
    # referrals (1).
    assert many <= 30


@pytest.mark.querycount
def test_a_median_inside_a_bucket_of_times_costs_one_more_query(london_commander):
    """The medians of the time to the first action (the period's, the previous period's and
    each month's) are found together from the histogram by day (concerns.rollup); when middle
    times lie inside buckets of several times, one more query reads those buckets' concerns."""
    for logged, minutes in [(3, 10), (3, 50), (3, 40), (100, 10), (100, 20), (100, 30)]:
        # Three actions within an hour of their concerns: the middle one is inside the bucket.
        make_action(
            make_concern(logged_at=days_ago(logged)),
            at=days_ago(logged) + timedelta(minutes=minutes),
        )
    inside = _queries(london_commander, URL)
    figures = london_commander.get(URL).context["trends"][3]["table"]["rows"]
    assert [row["cells"] for row in figures if row["cells"][0]] == [[3, "1 hours"]]
    # The same concerns acted on a whole day later each: every middle is a bucket's only time.
    ConcernAction.objects.all().delete()
    for concern in Concern.objects.all():
        make_action(concern, at=concern.logged_at + timedelta(days=1))
    at_the_edges = _queries(london_commander, URL)
    assert inside == at_the_edges + 1
    assert inside <= 30
