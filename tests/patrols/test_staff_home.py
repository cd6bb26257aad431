"""/staff/: an officer sees her upcoming walks, where to meet, who she walks with and how many
are booked; the women's names and numbers only on the day of the walk."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patrols.models import Walk
from patrols.services import roster_officer
from tests.factories import (
    bcu,
    login_staff,
    make_booking,
    make_officer,
    make_user,
    make_walk,
)

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
STAFF = reverse("staff:home")


@pytest.fixture
def officer(client):
    user = make_user("Officers", officer_bcu="AS")
    login_staff(client, user)
    return user.officer


def test_staff_home_is_at_slash_staff():
    assert STAFF == "/staff/"


def test_it_needs_a_login_and_sends_her_to_the_staff_login(client):
    response = client.get(STAFF)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_it_is_never_cached(client, officer):
    response = client.get(STAFF)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_she_sees_her_upcoming_walks_with_meeting_point_colleagues_and_bookings(client, officer):
    walk = make_walk(meeting_point="Brixton station, Brixton Road exit", capacity=8)
    colleague = make_officer(name="Grace Hussain", rank="PS")
    roster_officer(walk=walk, officer=officer)
    roster_officer(walk=walk, officer=colleague, role="lead")
    for _ in range(3):
        make_booking(walk=walk)
    not_mine = make_walk(meeting_point="Clapham Common, the bandstand")
    roster_officer(walk=not_mine, officer=make_officer())
    past = make_walk(starts_at=timezone.now() - timedelta(days=30), meeting_point="Old place")
    roster_officer(walk=past, officer=officer)
    page = client.get(STAFF).content.decode()
    assert "Brixton station, Brixton Road exit" in page
    assert "Police Sergeant Grace Hussain (lead)" in page
    assert "3 of 8" in page
    assert "Clapham Common" not in page
    assert "Old place" not in page


def test_a_walk_with_no_colleague_yet_says_so(client, officer):
    roster_officer(walk=make_walk(), officer=officer)
    assert "No other officer yet" in client.get(STAFF).content.decode()


def test_cancelled_walks_are_not_listed(client, officer):
    walk = make_walk(meeting_point="Somewhere cancelled")
    roster_officer(walk=walk, officer=officer)
    Walk.objects.filter(pk=walk.pk).update(status=Walk.Status.CANCELLED)
    assert "Somewhere cancelled" not in client.get(STAFF).content.decode()


@time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=LONDON), tick=False)
def test_no_names_or_numbers_before_the_day_of_the_walk(client, officer):
    login_staff(client, officer.user)  # staff sessions last hours: sign in on the day
    walk = make_walk(starts_at=datetime(2026, 12, 2, 18, 30, tzinfo=LONDON))
    roster_officer(walk=walk, officer=officer)
    make_booking(walk=walk, full_name="Jasmine Patel", phone="07700 900789")
    page = client.get(STAFF).content.decode()
    assert "1 of 8" in page
    assert "Jasmine Patel" not in page
    assert "07700 900789" not in page
    assert "@example.org" not in page


@time_machine.travel(datetime(2026, 12, 2, 9, 0, tzinfo=LONDON), tick=False)
def test_on_the_day_she_sees_who_is_coming(client, officer):
    login_staff(client, officer.user)  # staff sessions last hours: sign in on the day
    walk = make_walk(starts_at=datetime(2026, 12, 2, 18, 30, tzinfo=LONDON))
    roster_officer(walk=walk, officer=officer)
    make_booking(walk=walk, full_name="Jasmine Patel", phone="07700 900789")
    make_booking(walk=walk, full_name="Gone Away", status="cancelled")
    page = client.get(STAFF).content.decode()
    assert "Today" in page
    assert "Jasmine Patel" in page
    assert "07700 900789" in page
    assert "Gone Away" not in page
    assert "@example.org" not in page  # emails are never shown


def test_a_login_with_no_officer_record_is_told_so(client):
    login_staff(client, make_user())
    response = client.get(STAFF)
    assert response.status_code == 403
    assert "not linked to an officer" in response.content.decode()


def test_recent_walks_link_to_their_debrief(client, officer):
    walk = make_walk(starts_at=timezone.now() - timedelta(days=1))
    roster_officer(walk=walk, officer=officer)
    page = client.get(STAFF).content.decode()
    assert reverse("staff:debrief", args=[walk.code]) in page


def test_an_officer_moved_to_another_bcu_no_longer_sees_her_old_bcus_walks(client, officer):
    upcoming = make_walk(meeting_point="Brixton station, ahead")
    recent = make_walk(starts_at=timezone.now() - timedelta(days=1))
    for walk in (upcoming, recent):
        roster_officer(walk=walk, officer=officer)
    page = client.get(STAFF).content.decode()
    assert "Brixton station, ahead" in page
    assert reverse("staff:debrief", args=[recent.code]) in page
    officer.bcu = bcu("AW")
    officer.save()
    page = client.get(STAFF).content.decode()
    # The walks she could no longer open (their debrief is her old BCU's) are not offered.
    assert "Brixton station, ahead" not in page
    assert reverse("staff:debrief", args=[recent.code]) not in page


@pytest.mark.querycount
def test_the_page_makes_the_same_number_of_queries_however_many_walks(client, officer):
    def add_walks(n):
        for _ in range(n):
            start = timezone.now() + timedelta(days=len(officer.assignments.all()) + 1)
            walk = make_walk(starts_at=start, meeting_point=f"Point {start:%j}")
            roster_officer(walk=walk, officer=officer)
            roster_officer(walk=walk, officer=make_officer())
            make_booking(walk=walk)

    add_walks(2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(STAFF).status_code == 200
    add_walks(6)
    with CaptureQueriesContext(connection) as many:
        assert client.get(STAFF).status_code == 200
    assert len(many) == len(few)
