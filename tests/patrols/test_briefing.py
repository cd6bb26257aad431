"""What she tells us reaches the officers: her needs and what she would like to talk about, on
/staff/, in the walk's briefing and in the admin for her inspector. Her name and phone number
only on the day of the walk; her email address never."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patrols.services import roster_officer
from tests.factories import (
    borough,
    login_staff,
    make_booking,
    make_officer,
    make_user,
    make_walk,
)

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
THE_DAY_BEFORE = datetime(2026, 12, 1, 9, 0, tzinfo=LONDON)
ON_THE_DAY = datetime(2026, 12, 2, 9, 0, tzinfo=LONDON)
WALK_STARTS = datetime(2026, 12, 2, 18, 30, tzinfo=LONDON)
NEEDS = "I walk with a stick; a slower pace please"
TOPICS = "The unlit path behind Coldharbour Lane"


def briefing(walk):
    return reverse("staff:briefing", args=[walk.code])


@pytest.fixture
def officer(client):
    """An officer of Central South (AS), logged in."""
    user = make_user("Officers", officer_bcu="AS")
    login_staff(client, user)
    return user.officer


@pytest.fixture
def walk(officer):
    """Her walk on 2 December, with one woman booked who told us her needs and topics."""
    walk = make_walk(
        starts_at=WALK_STARTS,
        meeting_point="Brixton station, Brixton Road exit",
        meeting_lat="51.462600",
        meeting_lng="-0.114500",
    )
    roster_officer(walk=walk, officer=officer)
    roster_officer(walk=walk, officer=make_officer(name="Grace Hussain", rank="PS"), role="lead")
    make_booking(
        walk=walk,
        full_name="Jasmine Patel",
        email="jasmine@example.org",
        phone="07700 900789",
        accessibility_needs=NEEDS,
        topics=TOPICS,
    )
    return walk


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_briefing_is_under_staff():
    code = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert reverse("staff:briefing", args=[code]) == f"/staff/walks/{code}/briefing/"


def test_it_needs_a_login(client, walk):
    client.logout()
    response = client.get(briefing(walk))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@time_machine.travel(THE_DAY_BEFORE, tick=False)
def test_before_the_day_her_officers_see_her_needs_and_topics_not_who_she_is(client, officer, walk):
    login_staff(client, officer.user)  # staff sessions last hours: sign in that day
    for text in (page(client, briefing(walk)), page(client, reverse("staff:home"))):
        assert NEEDS in text
        assert TOPICS in text
        assert "Jasmine Patel" not in text
        assert "07700 900789" not in text
        assert "@example.org" not in text
        assert "appear here on the day of the walk" in text


@time_machine.travel(ON_THE_DAY, tick=False)
def test_on_the_day_the_briefing_has_the_walk_the_officers_and_each_woman(client, officer, walk):
    login_staff(client, officer.user)
    response = client.get(briefing(walk))
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    assert "Brixton station, Brixton Road exit" in text
    assert "Wednesday 2 December 2026" in text
    assert "6:30pm to 8pm" in text
    assert "Sunset" in text  # London: about 3:52pm that day
    assert "3:5" in text
    assert "Police Sergeant Grace Hussain" in text
    assert officer.name in text
    assert "Jasmine Patel" in text
    assert 'href="tel:07700 900789"' in text
    assert NEEDS in text
    assert TOPICS in text
    assert "@example.org" not in text  # her email address is never shown


def test_the_briefing_prints_without_the_sites_navigation_or_screen_hints(client, walk):
    text = page(client, briefing(walk))
    assert 'class="briefing-screen-only"' in text
    css = (settings.BASE_DIR / "static" / "css" / "site.css").read_text()
    print_rules = css[css.rindex("@media print") :]
    assert ".briefing-screen-only, .site-header nav { display: none !important; }" in print_rules


@time_machine.travel(ON_THE_DAY, tick=False)
def test_on_the_day_staff_home_shows_her_needs_and_topics_with_her_name(client, officer, walk):
    login_staff(client, officer.user)
    text = page(client, reverse("staff:home"))
    assert "Jasmine Patel" in text
    assert NEEDS in text
    assert TOPICS in text
    assert briefing(walk) in text
    assert "@example.org" not in text


def test_the_day_is_londons_day(walk):
    # 18:30 on 2 December London time: the day runs from London's midnight to midnight.
    assert not walk.is_on_the_day(datetime(2026, 12, 1, 23, 59, tzinfo=LONDON))
    assert walk.is_on_the_day(datetime(2026, 12, 2, 0, 0, tzinfo=LONDON))
    assert walk.is_on_the_day(datetime(2026, 12, 2, 23, 59, tzinfo=LONDON))
    assert not walk.is_on_the_day(datetime(2026, 12, 3, 0, 0, tzinfo=LONDON))
    # In summer London's day is not UTC's: a walk at 00:30 on 1 July is 23:30 on 30 June, UTC.
    utc = ZoneInfo("UTC")
    summer = make_walk(starts_at=datetime(2026, 7, 1, 0, 30, tzinfo=LONDON))
    assert summer.is_on_the_day(datetime(2026, 7, 1, 12, 0, tzinfo=utc))
    assert not summer.is_on_the_day(datetime(2026, 6, 30, 22, 59, tzinfo=utc))  # 23:59 BST


@time_machine.travel(ON_THE_DAY, tick=False)
def test_her_bcus_inspector_reads_the_briefing(client, walk):
    login_staff(client, make_user("Inspectors", officer_bcu="AS"))
    text = page(client, briefing(walk))
    assert NEEDS in text
    assert "Jasmine Patel" in text


@time_machine.travel(ON_THE_DAY, tick=False)
def test_an_officer_of_the_bcu_who_is_not_on_the_walk_may_not_read_it(client, walk):
    # Need to know: what she asked for goes to the officers who walk with her and the inspector
    # who plans the walk, not to every officer of the BCU. The walk itself is no secret in its
    # BCU, so she is refused (403), as for its debrief, rather than told it does not exist.
    login_staff(client, make_user("Officers", officer_bcu="AS"))
    response = client.get(briefing(walk))
    assert response.status_code == 403
    assert NEEDS not in response.content.decode()


@time_machine.travel(ON_THE_DAY, tick=False)
def test_another_bcus_walk_is_not_found(client, walk):
    login_staff(client, make_user("Inspectors", officer_bcu="AW"))
    assert client.get(briefing(walk)).status_code == 404
    theirs = make_walk(borough=borough("westminster"), starts_at=WALK_STARTS)
    westminster_officer = make_user("Officers", officer_bcu="AW")
    roster_officer(walk=theirs, officer=westminster_officer.officer)
    login_staff(client, make_user("Inspectors", officer_bcu="AS"))
    assert client.get(briefing(theirs)).status_code == 404


def test_staff_with_no_officer_record_are_refused(client, walk):
    login_staff(client, make_user("Inspectors"))
    assert client.get(briefing(walk)).status_code == 403


def test_an_officer_moved_off_the_walk_no_longer_reads_it(client, officer, walk):
    walk.roster.filter(officer=officer).delete()
    assert client.get(briefing(walk)).status_code == 403


def test_her_inspector_sees_her_needs_and_topics_on_the_walk_in_the_admin(client, walk):
    login_staff(client, make_user("Inspectors", officer_bcu="AS"))
    response = client.get(reverse("admin:patrols_walk_change", args=[walk.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert NEEDS in text
    assert TOPICS in text
    assert "Jasmine Patel" not in text
    assert "@example.org" not in text
    assert 'name="bookings-0-topics"' not in text  # read-only
    assert briefing(walk) in text


@pytest.mark.querycount
def test_the_briefing_makes_the_same_number_of_queries_however_many_women_and_officers(
    client, officer, walk
):
    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(briefing(walk)).status_code == 200
        return len(captured)

    few = count()
    for n in range(6):
        make_booking(walk=walk, accessibility_needs=f"Needs {n}", topics=f"Topic {n}")
    for _ in range(2):
        roster_officer(walk=walk, officer=make_officer())
    assert count() == few


@pytest.mark.querycount
def test_staff_home_makes_the_same_number_of_queries_however_many_women(client, officer, walk):
    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("staff:home")).status_code == 200
        return len(captured)

    few = count()
    for n in range(6):
        make_booking(walk=walk, topics=f"Topic {n}")
    assert count() == few
