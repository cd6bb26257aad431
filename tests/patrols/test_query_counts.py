"""Every admin change list of this issue makes the same number of queries for a few rows as
for many: counts are annotated, related rows joined."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patrols.services import roster_officer
from tests.factories import borough, make_booking, make_officer, make_request, make_walk

pytestmark = [pytest.mark.django_db, pytest.mark.querycount]

_n = iter(range(1, 10_000))


def add_walks(count):
    for _ in range(count):
        n = next(_n)
        walk = make_walk(
            borough=borough("southwark" if n % 2 else "lambeth"),
            starts_at=timezone.now() + timedelta(days=n),
        )
        roster_officer(walk=walk, officer=make_officer())
        make_booking(walk=walk)
        make_booking(walk=walk, status="waitlisted")


def add_officers(count):
    for _ in range(count):
        make_officer()


def add_requests(count):
    for _ in range(count):
        make_request(created_at=timezone.now() - timedelta(days=next(_n)))


LISTS = {
    "walks": ("admin:patrols_walk_changelist", {}, add_walks),
    "walks, all dates": ("admin:patrols_walk_changelist", {"when": "all"}, add_walks),
    "understaffed walks": ("admin:patrols_walk_changelist", {"staffing": "short"}, add_walks),
    "officers": ("admin:patrols_officer_changelist", {}, add_officers),
    "route requests": ("admin:bookings_walkrequest_changelist", {}, add_requests),
    "boroughs": ("admin:patrols_borough_changelist", {}, lambda n: None),
    "BCUs": ("admin:patrols_bcu_changelist", {}, lambda n: None),
}


def queries(client, url, params):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("who", ["inspector", "superuser"])
def test_a_change_list_makes_as_many_queries_for_many_rows_as_for_few(request, client, name, who):
    request.getfixturevalue(who)
    url_name, params, add = LISTS[name]
    url = reverse(url_name)
    add(2)
    few = queries(client, url, params)
    add(12)
    many = queries(client, url, params)
    assert many == few
    assert few <= 12
