"""The daily digest: each BCU's inspectors get their understaffed upcoming walks and the route
requests waiting more than 3 days; nothing to report, no email. It is an outbox row like every
other email: queued once a day per BCU, sent and retried by the delivery."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.utils import timezone

from bookings.delivery import deliver_due_notifications
from bookings.models import Notification, WalkRequest
from bookings.tasks import send_daily_digest
from patrols.services import roster_officer
from tests.bookings.smtp_sink import smtp_sink  # noqa: F401 - a fixture
from tests.factories import (
    borough,
    make_officer,
    make_request,
    make_user,
    make_walk,
    next_beat_run,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _seven_am_in_london():
    """Beat's hour (7am BST), far from midnight: the digest's day is the London day."""
    with time_machine.travel(datetime(2026, 6, 2, 6, 0, tzinfo=UTC)):
        yield


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
    entry = settings.CELERY_BEAT_SCHEDULE["bookings-daily-digest"]
    assert entry["task"] == send_daily_digest.name
    after = datetime(*after, tzinfo=UTC)
    assert next_beat_run("bookings-daily-digest", after) == datetime(*expected, tzinfo=UTC)


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
    assert deliver_due_notifications() == {"sent": 2}
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


def digests():
    return Notification.objects.filter(kind=Notification.Kind.DAILY_DIGEST)


def test_one_bcus_failure_does_not_stop_the_others_and_is_tried_again(smtp_sink):  # noqa: F811
    inspector("AS", "rachel@met.example")
    inspector("AW", "west@met.example")
    make_walk()
    make_walk(borough=borough("westminster"))
    smtp_sink.replies = ["451 4.3.0 Mailbox busy, try again later"]
    assert send_daily_digest() == 2
    now = timezone.now()
    assert deliver_due_notifications(now=now) == {"retrying": 1, "sent": 1}
    assert len(smtp_sink.messages) == 1
    assert deliver_due_notifications(now=now + timedelta(minutes=1)) == {"sent": 1}
    assert sorted(smtp_sink.recipients()) == ["rachel@met.example", "west@met.example"]


def test_the_task_run_twice_the_same_day_queues_one_digest_per_bcu():
    inspector("AS", "rachel@met.example")
    make_walk()
    assert send_daily_digest() == 1
    assert send_daily_digest() == 0
    assert deliver_due_notifications() == {"sent": 1}
    assert send_daily_digest() == 0  # sent already: not sent again that day
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert send_daily_digest() == 1  # the next day's
    assert [d.key for d in digests().order_by("key")] == ["2026-06-02", "2026-06-03"]
    assert len(mail.outbox) == 1


def test_the_digest_is_written_when_it_is_sent_and_goes_to_the_inspectors_of_then():
    rachel = inspector("AS", "rachel@met.example")
    walk = make_walk(meeting_point="Brixton station")
    assert send_daily_digest() == 1
    inspector("AS", "new@met.example")
    rachel.is_active = False
    rachel.save()
    make_walk(meeting_point="Clapham Common")
    assert deliver_due_notifications() == {"sent": 1}
    [message] = mail.outbox
    assert message.to == ["new@met.example"]
    assert "Clapham Common" in message.body and walk.meeting_point in message.body
    assert digests().get().bcu.code == "AS"


def test_a_digest_with_nothing_left_to_report_is_not_sent():
    inspector("AS", "rachel@met.example")
    walk = make_walk()
    assert send_daily_digest() == 1
    for _ in range(2):
        roster_officer(walk=walk, officer=make_officer())
    assert deliver_due_notifications() == {"skipped": 1}
    assert digests().get().last_error == "Not sent: nothing to report any more."
    assert mail.outbox == []


def test_a_digest_still_waiting_the_next_day_is_not_sent():
    inspector("AS", "rachel@met.example")
    make_walk(starts_at=timezone.now() + timedelta(days=5))
    assert send_daily_digest() == 1
    assert deliver_due_notifications(now=timezone.now() + timedelta(days=1)) == {"skipped": 1}
    assert digests().get().last_error == "Not sent: a later day's digest replaces it."
    assert mail.outbox == []


def test_a_bcus_digest_is_one_row_whatever_the_race():
    """The database says one per BCU, kind and day, not only the task's check."""
    inspector("AS", "rachel@met.example")
    make_walk()
    assert send_daily_digest() == 1
    row = digests().get()
    with pytest.raises(Exception, match="one_notification_per_bcu_kind"), transaction.atomic():
        Notification.objects.create(bcu=row.bcu, kind=row.kind, key=row.key)
