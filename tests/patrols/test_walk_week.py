"""The week at a glance in the admin (/admin/patrols/walk/week/?week=2026-W50): her BCU's walks
day by day, London days, with places taken and staffing counted in the database."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from bookings.models import Booking
from patrols.models import Walk
from patrols.services import roster_officer
from staff.admin.patrols import iso_week, london_week, parse_iso_week
from tests.factories import borough, login_staff, make_booking, make_officer, make_user, make_walk

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
WEEK = reverse("admin:patrols_walk_week")
WEDNESDAY = datetime(2026, 12, 9, 12, 0, tzinfo=LONDON)  # in 2026-W50, Mon 7 to Sun 13 December


def local(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def walks_shown(response) -> list[Walk]:
    return [walk for day in response.context["days"] for walk in day["walks"]]


@pytest.fixture
def on_wednesday(client, inspector):
    with time_machine.travel(WEDNESDAY, tick=False):
        login_staff(client, inspector)  # staff sessions last hours: sign in on the day
        yield


def test_parse_iso_week_gives_the_monday():
    assert parse_iso_week("2026-W50") == date(2026, 12, 7)
    assert parse_iso_week("2026-W53") == date(2026, 12, 28)  # 2026 has 53 ISO weeks
    assert iso_week(date(2026, 12, 13)) == "2026-W50"
    assert iso_week(date(2027, 1, 1)) == "2026-W53"


@pytest.mark.parametrize("value", ["", "nonsense", "2025-W53", "2026-W00", "2026-50", "2026-W5"])
def test_parse_iso_week_refuses_what_is_not_a_week(value):
    with pytest.raises(ValueError):
        parse_iso_week(value)


def test_a_clock_change_week_is_an_hour_short():
    start, end = london_week(date(2026, 3, 23))  # the clocks go forward on Sunday 29 March
    # (Python subtracts wall times when both share a zone: compare the instants.)
    assert end.timestamp() - start.timestamp() == (7 * 24 - 1) * 3600


def test_the_week_lists_only_her_bcus_walks_with_their_places_and_staffing(
    client, inspector, on_wednesday
):
    short = make_walk(title="Short of officers", starts_at=local(2026, 12, 10, 18, 30))
    roster_officer(walk=short, officer=make_officer())
    make_booking(walk=short)
    make_booking(walk=short)
    make_booking(walk=short, status=Booking.Status.CANCELLED)
    make_booking(walk=short, status=Booking.Status.WAITLISTED)
    full = make_walk(
        title="Fully staffed", borough=borough("southwark"), starts_at=local(2026, 12, 12, 19)
    )
    roster_officer(walk=full, officer=make_officer())
    roster_officer(walk=full, officer=make_officer())
    make_walk(title="Westminster's walk", borough=borough("westminster"))
    make_walk(title="Next week's walk", starts_at=local(2026, 12, 14, 18))

    response = client.get(WEEK, {"week": "2026-W50"})

    assert response.status_code == 200
    assert walks_shown(response) == [short, full]
    page = response.content.decode()
    assert "Westminster&#x27;s walk" not in page and "Next week&#x27;s walk" not in page
    assert "18:30–20:00 Lambeth" in strip_tags(page)
    assert "2 of 8 places taken, 1 waiting" in page
    assert "1 of 2 officers: understaffed, needs 1 more" in page
    assert "2 of 2 officers" in page
    assert "1 understaffed" in page
    days = response.context["days"]
    assert [day["date"] for day in days] == [date(2026, 12, d) for d in range(7, 14)]
    assert days[3]["walks"] == [short] and days[5]["walks"] == [full]


def test_a_cancelled_walk_is_not_called_understaffed(client, inspector, on_wednesday):
    make_walk(starts_at=local(2026, 12, 11, 18), status=Walk.Status.CANCELLED)
    page = client.get(WEEK, {"week": "2026-W50"}).content.decode()
    assert "Cancelled" in page
    assert "understaffed" not in page


def test_without_a_week_it_shows_this_week_with_links_either_side(client, inspector, on_wednesday):
    response = client.get(WEEK)
    assert response.context["week"] == "2026-W50"
    page = response.content.decode()
    assert 'href="?week=2026-W49"' in page
    assert 'href="?week=2026-W51"' in page
    assert "Walks in the week of Monday 7 December 2026" in page


@pytest.mark.parametrize("value", ["nonsense", "2025-W53", "2026-W99", "<b>", "9" * 5000])
def test_a_bad_week_shows_this_week_and_says_so(client, inspector, on_wednesday, value):
    response = client.get(WEEK, {"week": value})
    assert response.status_code == 200
    assert response.context["week"] == "2026-W50"
    assert "is not a week such as 2026-W50" in response.content.decode()
    assert "<b>" not in response.content.decode().split('id="content-main"')[0]


@time_machine.travel(local(2026, 3, 20, 12), tick=False)
def test_a_clock_change_week_holds_its_london_sunday_night_and_not_mondays(client, inspector):
    login_staff(client, inspector)
    # 23:30 on Sunday 29 March (BST) is 22:30 UTC; 00:30 on Monday 30 March is 23:30 UTC on
    # the Sunday: a week of seven 24-hour days would put them the wrong way round.
    sunday_night = make_walk(starts_at=local(2026, 3, 29, 23, 30))
    monday = make_walk(starts_at=local(2026, 3, 30, 0, 30))
    monday_start = make_walk(starts_at=local(2026, 3, 23, 0, 0))

    week13 = client.get(WEEK, {"week": "2026-W13"})
    assert walks_shown(week13) == [monday_start, sunday_night]
    assert week13.context["days"][6]["walks"] == [sunday_night]
    week14 = client.get(WEEK, {"week": "2026-W14"})
    assert week14.context["days"][0]["walks"] == [monday]


def test_each_day_still_to_come_has_a_link_to_add_a_walk_on_it(client, inspector, on_wednesday):
    days = client.get(WEEK).context["days"]
    add = reverse("admin:patrols_walk_add")
    assert [day["add_url"] for day in days[:2]] == ["", ""]  # Monday and Tuesday are past
    assert days[2]["add_url"] == f"{add}?day=2026-12-09"
    assert days[6]["add_url"] == f"{add}?day=2026-12-13"


def test_the_add_link_fills_in_the_date_and_leaves_the_times_to_her(
    client, inspector, on_wednesday
):
    response = client.get(reverse("admin:patrols_walk_add"), {"day": "2026-12-10"})
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form["starts_at"].value() == [date(2026, 12, 10), None]
    assert form["ends_at"].value() == [date(2026, 12, 10), None]
    assert 'value="10/12/2026"' in response.content.decode()


def test_a_bad_day_leaves_the_add_form_empty(client, inspector, on_wednesday):
    response = client.get(reverse("admin:patrols_walk_add"), {"day": "soon"})
    assert response.status_code == 200
    assert response.context["adminform"].form["starts_at"].value() is None


def test_the_walk_list_links_to_the_week(client, inspector, on_wednesday):
    page = client.get(reverse("admin:patrols_walk_changelist")).content.decode()
    assert f'href="{WEEK}"' in page


def test_staff_with_no_officer_record_cannot_open_the_week(client):
    user = make_user("Inspectors")
    login_staff(client, user)
    assert client.get(WEEK).status_code == 403


@pytest.mark.querycount
def test_the_week_makes_as_many_queries_for_many_walks_as_for_few(client, inspector, on_wednesday):
    def add(count):
        for n in range(count):
            walk = make_walk(starts_at=local(2026, 12, 10 + n % 4, 18, n))
            roster_officer(walk=walk, officer=make_officer())
            make_booking(walk=walk)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(WEEK).status_code == 200
        return len(captured)

    add(2)
    few = queries()
    add(12)
    assert queries() == few
    assert len(walks_shown(client.get(WEEK))) == 14
