"""The daily digest: each BCU's inspectors get their understaffed upcoming walks and the route
requests waiting more than 3 days; nothing to report, no email."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from bookings.models import WalkRequest
from patrols.services import roster_officer
from patrols.tasks import send_daily_digest
from tests.factories import (
    borough,
    make_officer,
    make_request,
    make_user,
    make_walk,
    next_beat_run,
)

pytestmark = pytest.mark.django_db


def inspector(code, email):
    return make_user("Inspectors", officer_bcu=code, email=email)


@pytest.mark.parametrize(
    "after, expected",
    [
        ((2026, 6, 1, 12, 0), (2026, 6, 2, 6, 0)),  # 7am BST
        ((2026, 10, 24, 12, 0), (2026, 10, 25, 7, 0)),  # the clocks go back that night: 7am GMT
        ((2026, 3, 28, 12, 0), (2026, 3, 29, 6, 0)),  # the clocks go forward: 7am BST
    ],
)
def test_beat_sends_the_digest_at_7am_london_time(after, expected):
    entry = settings.CELERY_BEAT_SCHEDULE["patrols-daily-digest"]
    assert entry["task"] == send_daily_digest.name
    after = datetime(*after, tzinfo=UTC)
    assert next_beat_run("patrols-daily-digest", after) == datetime(*expected, tzinfo=UTC)


def test_each_bcus_inspectors_hear_about_their_own_understaffed_walks_and_old_requests():
    inspector("AS", "rachel@met.example")
    inspector("AS", "second@met.example")
    inspector("AW", "west@met.example")
    make_user("Officers", officer_bcu="AS", email="not-an-inspector@met.example")
    short = make_walk(meeting_point="Brixton station, Brixton Road exit")
    roster_officer(walk=short, officer=make_officer())
    full = make_walk(meeting_point="Fully staffed place")
    for _ in range(2):
        roster_officer(walk=full, officer=make_officer())
    make_walk(starts_at=timezone.now() - timedelta(days=2), meeting_point="Past place")
    make_walk(status="cancelled", meeting_point="Cancelled place")
    old = make_request(created_at=timezone.now() - timedelta(days=4))
    make_request(created_at=timezone.now() - timedelta(days=1), email="recent@example.org")
    make_request(created_at=timezone.now() - timedelta(days=9), status=WalkRequest.Status.DECLINED)
    make_walk(borough=borough("westminster"), meeting_point="Victoria station")

    assert send_daily_digest() == 2
    by_bcu = {tuple(m.to): m for m in mail.outbox}
    south = by_bcu[("rachel@met.example", "second@met.example")]
    assert "Central South" in south.subject
    assert "1 walk short of officers" in south.subject
    assert "1 route request waiting" in south.subject
    assert "Brixton station, Brixton Road exit: 1 of 2 officers" in south.body
    assert old.reference in south.body
    for absent in ("Fully staffed place", "Past place", "Cancelled place", "Victoria station"):
        assert absent not in south.body
    assert "recent@example.org" not in south.body
    html = south.alternatives[0][0]
    assert "Brixton station" in html
    west = by_bcu[("west@met.example",)]
    assert "Victoria station" in west.body
    assert "Brixton" not in west.body


def test_a_bcu_with_nothing_to_do_gets_no_email():
    inspector("AS", "rachel@met.example")
    walk = make_walk()
    for _ in range(2):
        roster_officer(walk=walk, officer=make_officer())
    make_request(created_at=timezone.now() - timedelta(days=1))
    assert send_daily_digest() == 0
    assert mail.outbox == []


def test_a_bcu_with_no_inspector_email_is_skipped_without_error():
    make_walk()
    make_user("Inspectors", officer_bcu="AS", email="")
    assert send_daily_digest() == 0


def test_one_bcus_failure_does_not_stop_the_others(monkeypatch):
    inspector("AS", "rachel@met.example")
    inspector("AW", "west@met.example")
    make_walk()
    make_walk(borough=borough("westminster"))
    real_send = EmailMultiAlternatives.send

    def flaky_send(message, *args, **kwargs):
        if "rachel@met.example" in message.to:
            raise ConnectionError("SMTP down")
        return real_send(message, *args, **kwargs)

    monkeypatch.setattr(EmailMultiAlternatives, "send", flaky_send)
    assert send_daily_digest() == 1
    assert [m.to for m in mail.outbox] == [["west@met.example"]]
