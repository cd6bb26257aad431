"""What a delivery sweep won (docs/benchmarks.md, Delivery), guarded: its writes commit
without waiting for the disk, and only while the sweep runs; each message is recorded as sent by
one UPDATE; and each email is Django's own message, encoded by Django."""

import pytest
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEMultipart
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bookings.delivery import deliver_due_notifications, deliver_notification
from bookings.emails import build_message
from bookings.models import Notification
from bookings.services import queue_notification
from tests.bookings.smtp_sink import smtp_sink  # noqa: F401 - a fixture
from tests.bookings.test_delivery_connections import queue_confirmations
from tests.bookings.test_emails import every_kind
from tests.factories import make_booking, make_request

pytestmark = pytest.mark.django_db


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.querycount
def test_a_sweep_records_its_messages_with_asynchronous_commits_and_puts_the_setting_back(
    smtp_sink,  # noqa: F811 - the fixture
):
    queue_confirmations(3)
    before = synchronous_commit()
    with CaptureQueriesContext(connection) as captured:
        assert deliver_due_notifications()["sent"] == 3
    sql = [query["sql"] for query in captured.captured_queries]
    assert sql[0] == "SET synchronous_commit TO off"
    assert sql[-1] == "RESET synchronous_commit"
    assert synchronous_commit() == before == "on"
    # Every write of the sweep (claims and sent marks) came between the two.
    assert sum(query.startswith("UPDATE") for query in sql[1:-1]) == 4
    assert len(smtp_sink.messages) == 3


@pytest.mark.querycount
def test_one_message_sent_on_its_own_commits_durably(smtp_sink):  # noqa: F811 - the fixture
    [notification] = queue_confirmations(1)
    with CaptureQueriesContext(connection) as captured:
        assert deliver_notification(notification_id=notification.pk) == "sent"
    assert not any("synchronous_commit" in query["sql"] for query in captured.captured_queries)


@pytest.mark.querycount
def test_each_message_costs_one_statement_the_update_recording_it_as_sent(
    smtp_sink,  # noqa: F811 - the fixture
):
    def sweep(count: int) -> list[str]:
        queue_confirmations(count)
        with CaptureQueriesContext(connection) as captured:
            assert deliver_due_notifications(batch_size=20)["sent"] == count
        return [query["sql"] for query in captured.captured_queries]

    few, many = sweep(2), sweep(12)
    assert len(many) - len(few) == 10
    marks = [sql for sql in many if sql.startswith('UPDATE "bookings_notification" SET "sent_at"')]
    assert len(marks) == 12
    # Each recorded only by the holder of the claim.
    assert all('"claimed_at" = ' in mark.split("WHERE", 1)[1] for mark in marks)


@pytest.mark.parametrize("discreet", [False, True])
def test_every_kind_is_djangos_own_message_encoded_by_django(discreet):
    for notification in every_kind(discreet=discreet):
        message = build_message(notification)
        assert type(message) is EmailMultiAlternatives, notification.kind
        mime = message.message()
        assert type(mime) is SafeMIMEMultipart, notification.kind
        assert b"Content-Type: multipart/alternative" in mime.as_bytes(), notification.kind


def test_a_confirmation_arrives_with_its_parts_calendar_and_headers(
    smtp_sink,  # noqa: F811 - the fixture
):
    booking = make_booking(discreet_emails=True)
    with transaction.atomic():
        queue_notification(kind=Notification.Kind.BOOKING_CONFIRMED, booking=booking)
    assert deliver_due_notifications()["sent"] == 1
    [received] = smtp_sink.messages
    assert received["To"] == booking.email
    assert received["Auto-Submitted"] == "auto-generated"
    domain = received["From"].rpartition("@")[2].rstrip(">")
    assert received["Message-ID"].endswith(f"@{domain}>")  # ours, not this server's name
    types = [part.get_content_type() for part in received.walk()]
    assert types == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    [calendar] = [part for part in received.walk() if part.get_filename()]
    assert calendar.get_filename() == "walk.ics"
    assert "police" not in received.as_string().lower()


@pytest.mark.querycount
def test_a_batch_of_bookings_rows_is_read_in_one_query_joined_to_what_they_need_unsorted(
    smtp_sink,  # noqa: F811 - the fixture
):
    queue_confirmations(3)
    with CaptureQueriesContext(connection) as captured:
        assert deliver_due_notifications()["sent"] == 3
    reads = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].startswith('SELECT "bookings_notification"."id", "bookings_notification"')
    ]
    assert len(reads) == 1
    assert "bookings_walkrequest" not in reads[0]
    assert "ORDER BY" not in reads[0]


def test_a_batch_holding_requests_rows_reads_them_with_their_request(
    smtp_sink,  # noqa: F811 - the fixture
):
    with transaction.atomic():
        queue_notification(kind=Notification.Kind.REQUEST_RECEIVED, request=make_request())
        queue_notification(kind=Notification.Kind.BOOKING_CONFIRMED, booking=make_booking())
    assert deliver_due_notifications()["sent"] == 2
    assert len(smtp_sink.messages) == 2
