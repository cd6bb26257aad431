"""An officer's own calendar feed: a private .ics address (the token is the key, no login) of
the walks she is rostered on, linked from /staff/, where she can reset it. No woman is named.
The clock is pinned."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from icalendar import Calendar

from bookings.services import cancel_walk, change_walk
from patrols.calendar import calendar_token, officer_for_calendar_token, reset_calendar_token
from patrols.models import Officer, RosterAssignment
from patrols.services import roster_officer
from tests.factories import borough, login_staff, make_booking, make_officer, make_user, make_walk

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
SEVEN_PM = datetime(2026, 11, 5, 19, 0, tzinfo=UTC)  # GMT: 7pm in London


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def officer():
    return make_officer(name="Amira Begum")


def feed_url(token: str) -> str:
    return reverse("staff:calendar_feed", args=[token])


def events(response) -> dict:
    return {
        str(event["SUMMARY"]): event
        for event in Calendar.from_ical(response.content).walk("VEVENT")
    }


def test_the_feed_lists_her_walks_and_no_one_elses(client, officer):
    token = reset_calendar_token(officer=officer)
    mine = make_walk(starts_at=SEVEN_PM, title="Brixton evening walk")
    roster_officer(walk=mine, officer=officer)
    last_week = make_walk(starts_at=NOW - timedelta(days=7), title="Last week's walk")
    roster_officer(walk=last_week, officer=officer)
    long_ago = make_walk(starts_at=NOW - timedelta(days=40), title="Long ago")
    roster_officer(walk=long_ago, officer=officer)
    other = make_walk(starts_at=SEVEN_PM + timedelta(days=1), title="Someone else's walk")
    roster_officer(walk=other, officer=make_officer())

    response = client.get(feed_url(token))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    listed = events(response)
    assert set(listed) == {"Brixton evening walk", "Last week's walk"}
    event = listed["Brixton evening walk"]
    assert str(event["UID"]) == f"{mine.code}@walkandtalk"
    assert event["STATUS"] == "CONFIRMED"
    assert event.decoded("DTSTART") == SEVEN_PM  # 7pm London, with its zone
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert "Brixton station, Brixton Road exit, Lambeth" in str(event["LOCATION"])
    assert reverse("staff:briefing", args=[mine.code]) in str(event["DESCRIPTION"])


def test_the_feed_names_no_woman(client, officer):
    token = reset_calendar_token(officer=officer)
    walk = make_walk(starts_at=SEVEN_PM)
    roster_officer(walk=walk, officer=officer)
    make_booking(walk=walk, full_name="Zainab Okafor", email="zainab@example.org", phone="07700")
    body = client.get(feed_url(token)).content.decode()
    assert "Zainab" not in body and "zainab@" not in body and "07700" not in body


def test_a_changed_walk_keeps_its_uid_and_a_cancelled_one_says_so(client, officer):
    token = reset_calendar_token(officer=officer)
    walk = make_walk(starts_at=SEVEN_PM, title="Moved walk")
    roster_officer(walk=walk, officer=officer)
    called_off = make_walk(starts_at=SEVEN_PM + timedelta(days=2), title="Called off")
    roster_officer(walk=called_off, officer=officer)
    before = events(client.get(feed_url(token)))["Moved walk"]

    change_walk(walk=walk, starts_at=SEVEN_PM + timedelta(minutes=30))
    cancel_walk(walk=called_off, reason="Storm warning")  # the roster is cleared
    listed = events(client.get(feed_url(token)))
    after = listed["Moved walk"]
    assert after["UID"] == before["UID"]
    assert after.decoded("SEQUENCE") > before.decoded("SEQUENCE")
    assert after.decoded("DTSTART") == SEVEN_PM + timedelta(minutes=30)
    assert listed["Called off"]["STATUS"] == "CANCELLED"


def test_a_wrong_token_or_none_is_a_404(client, officer):
    token = reset_calendar_token(officer=officer)
    assert client.get(feed_url("0" * 64)).status_code == 404
    assert client.get(feed_url(token[:-1])).status_code == 404
    assert client.get(feed_url("x" * 200)).status_code == 404
    assert officer_for_calendar_token("") is None
    never_asked = make_officer()
    assert calendar_token(never_asked) == ""
    assert client.get(feed_url(calendar_token(officer))).status_code == 200


def test_a_reset_token_is_a_404_and_the_new_one_works(client, officer):
    old = reset_calendar_token(officer=officer)
    new = reset_calendar_token(officer=officer)
    assert new != old
    assert client.get(feed_url(old)).status_code == 404
    assert client.get(feed_url(new)).status_code == 200


def test_an_officer_who_has_left_has_no_feed(client, officer):
    token = reset_calendar_token(officer=officer)
    Officer.objects.filter(pk=officer.pk).update(is_active=False)
    assert client.get(feed_url(token)).status_code == 404


def test_only_a_hash_of_the_token_is_stored(officer):
    token = reset_calendar_token(officer=officer)
    officer.refresh_from_db()
    stored = [str(getattr(officer, f.attname)) for f in Officer._meta.concrete_fields]
    assert token not in stored
    assert officer.calendar_token_hash and officer.calendar_token_hash != token


def test_another_bcus_walk_is_not_in_her_feed(client, officer):
    token = reset_calendar_token(officer=officer)
    westminster = make_walk(borough=borough("westminster"), starts_at=SEVEN_PM, title="WM walk")
    # Rostered there before she moved BCU (the roster service would refuse it now).
    RosterAssignment.objects.create(
        walk=westminster, officer=officer, starts_at=SEVEN_PM, ends_at=westminster.ends_at
    )
    assert "WM walk" not in client.get(feed_url(token)).content.decode()


@pytest.mark.querycount
def test_the_feed_costs_the_same_queries_for_one_walk_or_many(
    client, officer, django_assert_num_queries
):
    token = reset_calendar_token(officer=officer)
    walk = make_walk(starts_at=SEVEN_PM)
    roster_officer(walk=walk, officer=officer)
    client.get(feed_url(token))
    with django_assert_num_queries(2):  # the officer by her token; her walks with boroughs
        assert len(events(client.get(feed_url(token)))) == 1
    for day in range(1, 6):
        more = make_walk(starts_at=SEVEN_PM + timedelta(days=day), title=f"Walk {day}")
        roster_officer(walk=more, officer=officer)
        make_booking(walk=more)
    with django_assert_num_queries(2):
        assert len(events(client.get(feed_url(token)))) == 6


# --- On /staff/ ------------------------------------------------------------------------------


@pytest.fixture
def signed_in(client):
    user = make_user("Officers", officer_bcu="AS")
    login_staff(client, user)
    return user.officer


def test_staff_home_offers_a_link_then_shows_it_and_resets_it(client, signed_in):
    home = reverse("staff:home")
    page = client.get(home).content.decode()
    assert "Get my calendar address" in page
    assert ".ics" not in page  # no address until she asks for one

    response = client.post(reverse("staff:calendar_reset"), follow=True)
    signed_in.refresh_from_db()
    first = calendar_token(signed_in)
    assert first and feed_url(first) in response.content.decode()
    assert client.get(feed_url(first)).status_code == 200

    response = client.post(reverse("staff:calendar_reset"), follow=True)
    signed_in.refresh_from_db()
    second = calendar_token(signed_in)
    assert "The old one no longer works" in response.content.decode()
    assert feed_url(second) in response.content.decode()
    assert feed_url(first) not in response.content.decode()
    assert client.get(feed_url(first)).status_code == 404


def test_the_reset_is_a_post_for_a_signed_in_officer_only(client):
    reset = reverse("staff:calendar_reset")
    assert client.post(reset).status_code == 302  # to sign in
    login_staff(client, make_user("Officers", officer_bcu="AS"))
    assert client.get(reset).status_code == 405
    other = make_user()  # staff with no officer record
    login_staff(client, other)
    assert client.post(reset).status_code == 403
