"""Suggested officers for a walk: her BCU's officers free at its time (not away, not on an
overlapping walk, not on it already), those who walked least in the 4 weeks before it first,
then by name. On the walk's admin page, each with a button that rosters her through the roster
service, which checks again."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from patrols.models import Officer, RosterAssignment
from patrols.services import roster_officer
from tests.factories import (
    bcu,
    borough,
    login_staff,
    make_officer,
    make_unavailability,
    make_user,
    make_walk,
)

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=LONDON)
WALK_AT = datetime(2026, 12, 10, 18, 0, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def pinned_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def inspector(client):
    user = make_user("Inspectors", officer_bcu="AS")
    login_staff(client, user)
    return user


def walked(officer, *, days_before: int, of=None, status="scheduled"):
    """She was rostered on a walk `days_before` days before `of` (WALK_AT)."""
    starts = (of or WALK_AT) - timedelta(days=days_before)
    walk = make_walk(starts_at=starts, status=status)
    RosterAssignment.objects.create(
        walk=walk, officer=officer, starts_at=walk.starts_at, ends_at=walk.ends_at
    )
    return walk


def names(walk):
    return [officer.name for officer in Officer.objects.suggested_for(walk)]


def test_busy_away_inactive_and_already_rostered_officers_are_not_suggested():
    walk = make_walk(starts_at=WALK_AT)
    make_officer(name="Ada Free")
    on_leave = make_officer(name="Bea Leave")
    make_unavailability(
        on_leave, starts_at=WALK_AT - timedelta(hours=2), ends_at=WALK_AT + timedelta(hours=1)
    )
    elsewhere = make_officer(name="Cat Elsewhere")
    other = make_walk(starts_at=WALK_AT + timedelta(minutes=30))
    roster_officer(walk=other, officer=elsewhere)
    already = make_officer(name="Dee Already")
    roster_officer(walk=walk, officer=already)
    make_officer(name="Eve Inactive", is_active=False)
    # Free just before and just after: a period or walk that ends as this one starts.
    before = make_officer(name="Fay Before")
    make_unavailability(before, starts_at=WALK_AT - timedelta(hours=8), ends_at=WALK_AT)
    after = make_officer(name="Gil After")
    roster_officer(walk=make_walk(starts_at=walk.ends_at), officer=after)

    assert names(walk) == ["Ada Free", "Fay Before", "Gil After"]


def test_those_who_walked_least_in_the_four_weeks_before_come_first_then_by_name():
    walk = make_walk(starts_at=WALK_AT)
    busy = make_officer(name="Ann Busy")
    walked(busy, days_before=3)
    walked(busy, days_before=10)
    once = make_officer(name="Zoe Once")
    walked(once, days_before=27)
    long_ago = make_officer(name="Mia Long Ago")
    walked(long_ago, days_before=29)  # outside the 4 weeks
    walked(long_ago, days_before=40)
    called_off = make_officer(name="Kim Called Off")
    walked(called_off, days_before=5, status="cancelled")  # did not take place
    after = make_officer(name="Lou After")
    walked(after, days_before=-2)  # after this walk: not before it
    make_officer(name="Bo Never")

    suggested = list(Officer.objects.suggested_for(walk))
    assert [(o.name, o.recent_walks) for o in suggested] == [
        ("Bo Never", 0),
        ("Kim Called Off", 0),
        ("Lou After", 0),
        ("Mia Long Ago", 0),
        ("Zoe Once", 1),
        ("Ann Busy", 2),
    ]


def test_another_bcus_officers_are_never_suggested():
    walk = make_walk(starts_at=WALK_AT)
    make_officer(name="Own BCU")
    make_officer(name="West End", bcu=bcu("AW"))
    make_officer(name="London Wide", bcu=None)
    assert names(walk) == ["Own BCU"]
    westminster = make_walk(starts_at=WALK_AT, borough=borough("westminster"))
    assert names(westminster) == ["West End"]


@pytest.mark.querycount
@pytest.mark.parametrize("officers", [2, 12])
def test_suggestions_take_one_query_however_many_officers(officers, django_assert_num_queries):
    walk = make_walk(starts_at=WALK_AT)
    for n in range(officers):
        officer = make_officer(name=f"Officer {n:02d}")
        walked(officer, days_before=n % 5 + 1)
        make_unavailability(officer, starts_at=NOW + timedelta(days=20))
    with django_assert_num_queries(1):
        suggested = list(Officer.objects.suggested_for(walk))
    assert len(suggested) == officers


# --- the walk's admin page ---


def change_url(walk):
    return reverse("admin:patrols_walk_change", args=[walk.pk])


def add_url(walk):
    return reverse("admin:patrols_walk_roster_suggested", args=[walk.pk])


def test_the_walks_page_lists_the_suggested_officers_with_a_button_each(client, inspector):
    walk = make_walk(starts_at=WALK_AT)
    make_officer(name="Priya Shah")
    busy = make_officer(name="Grace Hussain")
    walked(busy, days_before=2)
    response = client.get(change_url(walk))
    assert response.status_code == 200
    page = response.content.decode()
    panel = page[page.index("Suggested officers") :]
    assert panel.index("Priya Shah") < panel.index("Grace Hussain")
    assert "1 walk in the 4 weeks before" in panel
    assert f'action="{add_url(walk)}"' in panel
    assert "csrfmiddlewaretoken" in panel


@pytest.mark.querycount
def test_the_walks_page_asks_a_constant_number_of_queries_for_its_suggestions(
    client, inspector, django_assert_max_num_queries
):
    walk = make_walk(starts_at=WALK_AT)
    make_officer()
    client.get(change_url(walk))  # warm up the per-request parts
    with django_assert_max_num_queries(100) as few:
        client.get(change_url(walk))
    for _ in range(6):
        walked(make_officer(), days_before=3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(change_url(walk))
    # The six, the first one and the inspector herself (an officer of the BCU too).
    assert response.content.decode().count("to this walk</button>") == 8


def test_one_click_rosters_her_and_says_so(client, inspector):
    walk = make_walk(starts_at=WALK_AT)
    officer = make_officer(name="Priya Shah")
    response = client.post(add_url(walk), {"officer": officer.pk})
    assert response.status_code == 302
    assert response.url == change_url(walk)
    assert RosterAssignment.objects.filter(walk=walk, officer=officer).exists()
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == [f"{officer} is now on this walk."]


def test_one_click_is_refused_with_a_message_when_she_became_unavailable_meanwhile(
    client, inspector
):
    walk = make_walk(starts_at=WALK_AT)
    officer = make_officer(name="Priya Shah")
    assert "Priya Shah" in client.get(change_url(walk)).content.decode()
    make_unavailability(  # recorded by someone else after the page was drawn
        officer, starts_at=WALK_AT - timedelta(hours=1), ends_at=WALK_AT + timedelta(hours=23)
    )
    response = client.post(add_url(walk), {"officer": officer.pk})
    assert response.status_code == 302
    assert not RosterAssignment.objects.filter(walk=walk).exists()
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == [
        "Priya Shah cannot walk at that time: leave, "
        "Thu 10 Dec 2026 17:00 to Fri 11 Dec 2026 17:00."
    ]


def test_one_click_refuses_an_officer_rostered_elsewhere_meanwhile(client, inspector):
    walk = make_walk(starts_at=WALK_AT)
    officer = make_officer(name="Priya Shah")
    roster_officer(walk=make_walk(starts_at=WALK_AT + timedelta(minutes=15)), officer=officer)
    response = client.post(add_url(walk), {"officer": officer.pk})
    assert not RosterAssignment.objects.filter(walk=walk).exists()
    [said] = [str(m) for m in get_messages(response.wsgi_request)]
    assert said.startswith("Priya Shah is already on another walk at that time")


def test_another_bcus_walk_is_a_404_and_its_officers_cannot_be_added(client, inspector):
    west = make_walk(starts_at=WALK_AT, borough=borough("westminster"))
    west_officer = make_officer(bcu=bcu("AW"))
    assert client.get(change_url(west)).status_code == 404
    assert client.post(add_url(west), {"officer": west_officer.pk}).status_code == 404
    own = make_walk(starts_at=WALK_AT)
    assert client.post(add_url(own), {"officer": west_officer.pk}).status_code == 404
    assert not RosterAssignment.objects.exists()


def test_adding_needs_a_post(client, inspector):
    walk = make_walk(starts_at=WALK_AT)
    officer = make_officer()
    assert client.get(add_url(walk), {"officer": officer.pk}).status_code == 405
    assert not RosterAssignment.objects.exists()


def test_a_past_or_cancelled_walk_suggests_no_one(client, inspector):
    make_officer(name="Priya Shah")
    past = make_walk(starts_at=NOW - timedelta(days=1))
    cancelled = make_walk(starts_at=WALK_AT, status="cancelled")
    for walk in (past, cancelled):
        assert "Suggested officers" not in client.get(change_url(walk)).content.decode()
