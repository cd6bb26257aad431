""" "You said, we did": the email to women who asked to hear, and the public page."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from bookings.models import Notification
from concerns.services import record_action
from tests.factories import (
    borough,
    make_action,
    make_booking,
    make_concern,
    make_feedback,
    make_user,
    make_walk,
)

pytestmark = pytest.mark.django_db

URL = reverse("website:you_said_we_did")


@pytest.fixture
def inspector():
    return make_user("Inspectors", officer_bcu="AS")


@pytest.fixture
def walk():
    return make_walk(status="completed")


def told():
    return Notification.objects.filter(kind=Notification.Kind.YOU_SAID_WE_DID)


def act(concern, by, status="actioned", note="Lamps repaired."):
    partner = "council_lighting" if status == "referred" else ""
    return record_action(concern=concern, note=note, status=status, partner=partner, by=by)


# --- The email ------------------------------------------------------------------------------


def test_only_women_from_the_walk_who_opted_in_are_told(walk, inspector):
    opted_in = make_booking(walk=walk, status="attended")
    make_feedback(opted_in, wants_updates=True)
    opted_out = make_booking(walk=walk, status="attended")
    make_feedback(opted_out, wants_updates=False)
    make_booking(walk=walk, status="attended")  # came, never answered the survey
    absent = make_booking(walk=walk, status="no_show")
    make_feedback(absent, wants_updates=True)
    elsewhere = make_booking(walk=make_walk(status="completed"), status="attended")
    make_feedback(elsewhere, wants_updates=True)
    concern = make_concern(walk=walk)

    action = act(concern, inspector)

    assert list(told().values_list("booking", "key")) == [(opted_in.pk, f"action:{action.pk}")]


def test_each_action_that_resolves_a_concern_tells_her_once(walk, inspector):
    woman = make_booking(walk=walk, status="attended")
    make_feedback(woman, wants_updates=True)
    concern = make_concern(walk=walk)

    act(concern, inspector, status="referred", note="Referred.")  # not resolved yet: no email
    assert not told().exists()
    first = act(concern, inspector)
    act(concern, inspector, note="Checked again: still working.")  # already actioned
    assert told().count() == 1

    act(concern, inspector, status="open", note="Lamps out again.")
    second = act(concern, inspector, note="Lamps replaced with LEDs.")
    assert sorted(told().values_list("key", flat=True)) == sorted(
        [f"action:{first.pk}", f"action:{second.pk}"]
    )


def test_a_concern_raised_outside_a_walk_tells_no_one(walk, inspector):
    woman = make_booking(walk=walk, status="attended")
    make_feedback(woman, wants_updates=True)
    act(make_concern(walk=None), inspector)
    assert not told().exists()


def test_a_woman_whose_data_has_been_anonymised_is_not_told(walk, inspector):
    from django.utils import timezone

    woman = make_booking(walk=walk, status="attended", anonymised_at=timezone.now())
    make_feedback(woman, wants_updates=True)
    act(make_concern(walk=walk), inspector)
    assert not told().exists()


def test_the_email_is_sent_for_after_the_action_commits(
    walk, inspector, django_capture_on_commit_callbacks, monkeypatch
):
    published = []
    monkeypatch.setattr("bookings.services.publish_notification", published.append)
    woman = make_booking(walk=walk, status="attended")
    make_feedback(woman, wants_updates=True)
    with django_capture_on_commit_callbacks(execute=True):
        act(make_concern(walk=walk), inspector)
    assert published == [told().get().pk]


# --- The public page ------------------------------------------------------------------------


@pytest.fixture
def actioned(walk, inspector):
    booking = make_booking(
        walk=walk, status="attended", full_name="Amira Begum", email="amira@example.org"
    )
    make_feedback(booking, wants_updates=True, comments="My neighbour Jo is scared too.")
    concern = make_concern(
        walk=walk,
        location_text="The footpath behind Brixton station",
        lat=Decimal("51.462611"),
        lng=Decimal("-0.114522"),
        description="Said by Amira: a man waits there most nights.",
        logged_by=make_user("Officers", officer_bcu="AS", username="pc.sade.campbell"),
    )
    record_action(
        concern=concern,
        note="Council replaced three lamps.",
        status="actioned",
        partner="council_lighting",
        by=inspector,
    )
    return concern


def test_the_page_lists_what_was_done_by_bcu(client, actioned):
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Central South" in html
    assert "The footpath behind Brixton station, Lambeth" in html
    assert "Poorly lit, after dark" in html
    assert "Council replaced three lamps." in html
    assert "Council street lighting" in html


def test_the_page_shows_no_personal_data_and_no_coordinates(client, actioned, inspector):
    html = client.get(URL).content.decode()
    for secret in [
        "Amira",
        "amira@example.org",
        "neighbour",
        "a man waits there",  # the officer's free text from the street is not published
        "pc.sade.campbell",
        inspector.username,
        "51.46",
        "-0.11",
        "51,46",
        "data-lat",
    ]:
        assert secret not in html, secret


def test_concerns_not_yet_actioned_are_not_listed(client, walk, inspector):
    make_concern(walk=walk, location_text="The open one")
    referred = make_concern(walk=walk, location_text="The referred one")
    act(referred, inspector, status="referred", note="Sent to TfL.")
    html = client.get(URL).content.decode()
    assert "The open one" not in html
    assert "The referred one" not in html
    assert "Nothing to show yet" in html


def test_a_concern_closed_after_it_was_actioned_is_still_listed(client, actioned, inspector):
    act(actioned, inspector, status="closed", note="Closed after a check.")
    html = client.get(URL).content.decode()
    assert "Council replaced three lamps." in html
    assert "Closed after a check." not in html  # the page shows what was done


def test_the_page_can_be_filtered_by_bcu(client, actioned, inspector):
    westminster = make_concern(
        borough=borough("westminster"), location_text="Paddington Green subway"
    )
    make_action(westminster, note="Subway lights fixed.")
    html = client.get(URL, {"bcu": "AW"}).content.decode()
    assert "Paddington Green subway" in html
    assert "The footpath behind Brixton station" not in html
    assert '<option value="AW" selected>' in html


def test_the_page_can_be_filtered_by_borough(client, actioned):
    make_action(make_concern(borough=borough("southwark"), location_text="Burgess Park path"))
    make_action(make_concern(borough=borough("westminster"), location_text="Paddington subway"))
    response = client.get(URL, {"borough": "southwark"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Burgess Park path, Southwark" in html
    assert "The footpath behind Brixton station" not in html  # Lambeth, the same BCU
    assert "Paddington subway" not in html
    assert '<option value="southwark" selected>' in html
    assert "<title>You said, we did: Southwark" in html
    assert "The latest first, in Southwark." in html


def test_a_borough_with_nothing_done_yet_says_so(client, actioned):
    html = client.get(URL, {"borough": "westminster"}).content.decode()
    assert "Nothing to show yet for Westminster." in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"borough": "atlantis"}, "Choose a borough from the list"),
        ({"bcu": "nonsense"}, "Choose a police area from the list"),
    ],
)
def test_an_area_not_on_the_list_is_said_so_and_all_of_london_shown(
    client, actioned, params, message
):
    make_action(make_concern(borough=borough("westminster"), location_text="Paddington subway"))
    response = client.get(URL, params)
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert "<title>Error: You said, we did" in html
    assert "Paddington subway" in html
    assert "The footpath behind Brixton station" in html


def test_the_first_page_shows_the_latest_across_london_not_one_area(client):
    # Central South comes first by name: BCU by BCU, its 30 older concerns filled the first page.
    start = datetime(2026, 1, 5, 10, 0, tzinfo=ZoneInfo("Europe/London"))
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(30):
            make_action(make_concern(borough=borough("lambeth")))
        traveller.shift(timedelta(days=30))
        make_action(make_concern(borough=borough("westminster"), location_text="Paddington"))
        traveller.shift(timedelta(days=1))
        make_action(make_concern(borough=borough("barking-and-dagenham"), location_text="Heath"))
        html = client.get(URL).content.decode()
    assert "The latest first, across London." in html
    assert html.index("Heath, Barking and Dagenham") < html.index("Paddington, Westminster")
    assert html.index("Paddington, Westminster") < html.index("railway, Lambeth</h2>")


def test_the_next_page_keeps_the_borough(client):
    for n in range(30):
        make_action(make_concern(borough=borough("southwark"), location_text=f"Place {n:02d}"))
    make_action(make_concern(borough=borough("lambeth"), location_text="Elsewhere"))
    first = client.get(URL, {"borough": "southwark"}).content.decode()
    assert 'href="?borough=southwark&amp;page=2"' in first
    second = client.get(URL, {"borough": "southwark", "page": "2"}).content.decode()
    assert second.count("Place ") == 5
    assert "Elsewhere" not in second


def test_the_page_is_paginated(client, inspector):
    for n in range(30):
        make_action(make_concern(location_text=f"Place number {n:02d}"))
    first = client.get(URL).content.decode()
    second = client.get(URL, {"page": "2"}).content.decode()
    assert first.count("Place number") == 25
    assert second.count("Place number") == 5
    assert "Page 2 of 2" in second


@pytest.mark.querycount
@pytest.mark.parametrize("params", [{}, {"borough": "lambeth"}, {"bcu": "AS"}])
def test_the_page_takes_the_same_number_of_queries_for_more_rows(
    client, django_assert_max_num_queries, params
):
    make_action(make_concern())
    with django_assert_max_num_queries(4) as few:
        client.get(URL, params)
    for n in range(20):
        place = borough(["westminster", "lambeth", "southwark"][n % 3])
        concern = make_concern(borough=place)
        make_action(concern, status="referred", partner="tfl")
        make_action(concern, partner="tfl")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(URL, params).status_code == 200


# --- The map ----------------------------------------------------------------------------------

MAP = re.compile(r'<svg class="report-map"[^>]*>(.*?)</svg>', re.S)
AREA = re.compile(r'<a class="map-borough" href="([^"]*)" aria-label="([^"]*)"( aria-current)?')


def the_map(html: str) -> str:
    found = MAP.findall(html)
    assert len(found) == 1
    return found[0]


def test_the_map_shades_each_borough_by_the_concerns_acted_on_there(client, actioned):
    for _ in range(2):
        make_action(make_concern(borough=borough("westminster")))
    referred = make_concern(borough=borough("westminster"))
    make_action(referred, status="referred", partner="tfl")  # not acted on yet
    make_concern(borough=borough("southwark"))  # nothing done yet

    html = client.get(URL).content.decode()

    areas = {unescape(label).split(":")[0]: (href, unescape(label)) for href, label, _ in
             AREA.findall(the_map(html))}  # fmt: skip
    assert len(areas) == 32
    assert areas["Westminster"] == ("?borough=westminster", "Westminster: 2 concerns acted on")
    assert areas["Lambeth"][1] == "Lambeth: 1 concern acted on"
    assert areas["Southwark"][1] == "Southwark: 0 concerns acted on"
    assert "None acted on yet" in html  # the legend's lightest shade
    assert "<caption>Concerns acted on, by borough</caption>" in html
    assert '<a href="?borough=westminster">Westminster</a></th><td class="text-end">2</td>' in html
    assert "Open Government Licence v3.0" in html and "Crown copyright" in html


def test_the_map_has_no_marks_and_no_positions_of_concerns(client, actioned):
    html = client.get(URL, {"borough": "lambeth"}).content.decode()
    drawn = the_map(html)
    # Borough outlines and their names only: no circle, square or diamond for a concern.
    assert set(re.findall(r"<(\w+)", drawn)) == {"a", "title", "path"}
    assert "map-point" not in html
    assert "Where concerns were raised" not in html
    for secret in ["51.46", "-0.11", "51,46", "data-lat"]:
        assert secret not in html, secret


def test_narrowed_to_a_borough_the_map_shows_its_police_area_and_marks_it_current(client, actioned):
    html = client.get(URL, {"borough": "southwark"}).content.decode()
    areas = AREA.findall(the_map(html))
    assert [(href, bool(current)) for href, _, current in areas] == [
        ("?borough=lambeth", False),
        ("?borough=southwark", True),
    ]
    assert "Where something has been done: Central South police area" in html
    assert 'href="/you-said-we-did/">Show all of London</a>' in html


@pytest.mark.querycount
@pytest.mark.parametrize("params", [{}, {"borough": "lambeth"}, {"bcu": "AS"}])
def test_the_page_with_its_map_costs_a_fixed_number_of_queries(
    client, django_assert_num_queries, params
):
    make_action(make_concern())
    # The filter's choices, the page's count and rows, and the map's counts.
    with django_assert_num_queries(4):
        client.get(URL, params)
    for n in range(20):
        make_action(make_concern(borough=borough(["westminster", "lambeth", "bexley"][n % 3])))
    with django_assert_num_queries(4):
        assert client.get(URL, params).status_code == 200
