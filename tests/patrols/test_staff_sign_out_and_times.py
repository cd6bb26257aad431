"""The staff pages let an officer sign out; the admin writes times on a 24-hour clock
("17:38"), while the public pages keep writing "6:30pm"; the admin's inline tables have no
empty header cell and scroll inside a region of their own."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils.formats import date_format

from patrols.services import roster_officer
from tests.factories import login_staff, make_assignment, make_booking, make_user, make_walk

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
SIGN_OUT = f'<form method="post" action="{reverse("admin:logout")}"'


def test_the_staff_home_page_has_a_sign_out_button_that_signs_her_out(client):
    officer = make_user("Officers", officer_bcu="AS")
    login_staff(client, officer)
    page = client.get(reverse("staff:home")).content.decode()
    assert SIGN_OUT in page
    assert ">Sign out</button>" in page

    response = client.post(reverse("admin:logout"), {"next": reverse("staff:home")})
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:home")
    again = client.get(reverse("staff:home"))
    assert again.status_code == 302
    assert again["Location"].startswith(reverse("admin:login"))


def test_the_debrief_has_the_sign_out_button_too(client):
    start = datetime(2026, 11, 19, 18, 0, tzinfo=LONDON)
    with time_machine.travel(datetime(2026, 11, 19, 19, 45, tzinfo=LONDON), tick=False):
        walk = make_walk(starts_at=start)
        officer = make_user("Officers", officer_bcu="AS")
        make_assignment(walk, officer.officer)
        login_staff(client, officer)
        response = client.get(reverse("staff:debrief", args=[walk.code]))
    assert response.status_code == 200
    assert SIGN_OUT in response.content.decode()


def test_django_formats_times_on_a_24_hour_clock():
    moment = datetime(2026, 12, 7, 17, 38, tzinfo=LONDON)
    assert date_format(moment, "TIME_FORMAT") == "17:38"
    assert date_format(moment, "DATETIME_FORMAT") == "7 Dec 2026, 17:38"
    assert date_format(moment, "SHORT_DATETIME_FORMAT") == "07/12/2026 17:38"


def test_the_walk_change_page_shows_a_bookings_time_as_17_38(client, inspector):
    with time_machine.travel(datetime(2026, 12, 7, 17, 38, tzinfo=LONDON), tick=False):
        walk = make_walk(starts_at=datetime(2026, 12, 10, 18, 30, tzinfo=LONDON))
        make_booking(walk=walk)
        login_staff(client, inspector)
        page = client.get(reverse("admin:patrols_walk_change", args=[walk.pk])).content.decode()
    assert "7 Dec 2026, 17:38" in page
    assert "p.m." not in page and "a.m." not in page


def test_the_public_walk_page_keeps_its_6_30pm(client):
    walk = make_walk(starts_at=datetime(2026, 12, 10, 18, 30, tzinfo=LONDON))
    with time_machine.travel(datetime(2026, 12, 7, 12, tzinfo=LONDON), tick=False):
        page = client.get(walk.get_absolute_url()).content.decode()
    assert "6:30pm" in page
    assert "18:30" not in page


def test_the_inline_tables_have_no_empty_header_and_scroll_in_a_named_region(client, inspector):
    walk = make_walk()
    roster_officer(walk=walk, officer=inspector.officer)
    make_booking(walk=walk)
    page = client.get(reverse("admin:patrols_walk_change", args=[walk.pk])).content.decode()
    assert "<th></th>" not in page
    assert '<th class="original">' not in page
    for prefix in ("roster", "bookings"):
        assert (
            f'<div class="wt-table-scroll" role="region" aria-labelledby="{prefix}-heading" '
            'tabindex="0">'
        ) in page
