"""What a sweep costs per message (docs/benchmarks.md, Delivery): one SMTP connection for the
whole sweep (a connection per message, with its EHLO and QUIT, made one worker several times
slower), and one query to read a batch of claimed rows (read one at a time, the eight-table
join cost more than writing and sending the email)."""

import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bookings.delivery import deliver_due_notifications, deliver_notification
from bookings.models import Notification
from bookings.services import queue_notification
from tests.bookings.smtp_sink import serving
from tests.factories import make_booking

pytestmark = pytest.mark.django_db


class CountingSink:
    """Accepts every message and notes which connection (client address and port) sent it."""

    def __init__(self):
        self.peers: list[tuple] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.peers.append(session.peer)
        return "250 OK"


@pytest.fixture
def counting_sink():
    sink = CountingSink()
    with serving(sink):
        yield sink


def queue_confirmations(count: int) -> list[Notification]:
    with transaction.atomic():
        return [
            queue_notification(kind=Notification.Kind.BOOKING_CONFIRMED, booking=make_booking())
            for _ in range(count)
        ]


def test_a_sweep_sends_all_its_messages_over_one_connection(counting_sink):
    queue_confirmations(5)
    assert deliver_due_notifications()["sent"] == 5
    assert len(counting_sink.peers) == 5
    assert len(set(counting_sink.peers)) == 1


def test_a_sweep_spanning_several_batches_still_uses_one_connection(counting_sink):
    queue_confirmations(5)
    assert deliver_due_notifications(batch_size=2)["sent"] == 5
    assert len(set(counting_sink.peers)) == 1


def test_one_row_sent_on_its_own_opens_and_closes_its_own_connection(counting_sink):
    first, second = queue_confirmations(2)
    assert deliver_notification(notification_id=first.pk) == "sent"
    assert deliver_notification(notification_id=second.pk) == "sent"
    assert len(set(counting_sink.peers)) == 2


def sweep_queries(count: int) -> list[str]:
    queue_confirmations(count)
    with CaptureQueriesContext(connection) as captured:
        assert deliver_due_notifications(batch_size=20)["sent"] == count
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.querycount
def test_a_sweep_reads_its_batch_in_one_query_and_records_each_row_once(counting_sink):
    few = sweep_queries(2)
    many = sweep_queries(12)
    # Ten more rows: ten more UPDATEs recording each as sent, and nothing else.
    assert len(many) - len(few) == 10
    reads = [sql for sql in many if 'FROM "bookings_notification" LEFT OUTER JOIN' in sql]
    assert len(reads) == 1
