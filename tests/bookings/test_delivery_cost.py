"""What a delivery sweep won (docs/benchmarks.md, Delivery), guarded: its writes commit
without waiting for the disk, and only while the sweep runs; each message is recorded as sent by
one UPDATE; and each email is encoded to exactly the bytes Django would write, by a
cheaper path."""

import random
from datetime import UTC, datetime
from unittest import mock

import pytest
import time_machine
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEText
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
from walkandtalk.mail import Email, Generator

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


def encoded(message: EmailMultiAlternatives, seed: int) -> bytes:
    # The MIME boundaries are random, and the Date and Message-ID come from the clock: the same
    # ones for both.
    random.seed(seed)
    with time_machine.travel(datetime(2026, 7, 1, 12, tzinfo=UTC), tick=False):
        return message.message().as_bytes(linesep="\r\n")


@pytest.mark.parametrize("discreet", [False, True])
def test_every_kind_is_encoded_to_the_bytes_django_would_write(discreet):
    for notification in every_kind(discreet=discreet):
        message = build_message(notification)
        assert isinstance(message, Email)
        message.sealed = None  # a discreet one was written for its check: write it again here
        ours = encoded(message, 7)
        message.__class__ = EmailMultiAlternatives
        assert encoded(message, 7) == ours, notification.kind
        assert b"Content-Type: multipart/alternative" in ours


def test_long_and_non_ascii_headers_are_still_folded_and_encoded_as_django_does():
    def make(cls):
        message = cls(
            subject="Réunion: " + "a very long subject that goes on and on " * 4,
            body="Café at the corner.\n" + "x" * 1200,  # a line too long: quoted-printable
            from_email="Zoë Walk and Talk <walkandtalk@example.org>",
            to=["someone@example.org"],
            headers={"X-Long": "word " * 30},
        )
        message.attach_alternative("<p>Café</p>", "text/html")
        message.attach("walk.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")
        return message

    ours = encoded(make(Email), 3)
    assert ours == encoded(make(EmailMultiAlternatives), 3)
    assert b"=?utf-8?" in ours.split(b"\r\n\r\n")[0]  # the subject, encoded
    assert b"X-Long: word word" in ours and b"\r\n word" in ours


def test_a_boundary_found_in_the_text_is_replaced_by_another():
    random.seed(11)
    boundary = Generator._make_boundary()
    random.seed(11)
    text = b"line\r\n--" + boundary.encode() + b"\r\nmore"
    assert Generator._make_boundary(text) == boundary + ".0"
    random.seed(11)
    assert Generator._make_boundary(b"nothing like it") == boundary


def test_a_message_with_one_part_is_left_as_django_makes_it():
    message = Email(subject="Hello", body="Text only", to=["someone@example.org"])
    assert type(message.message()) is SafeMIMEText


def test_a_discreet_message_is_built_once_and_what_was_checked_is_what_is_sent(
    smtp_sink,  # noqa: F811 - the fixture
):
    booking = make_booking(discreet_emails=True)
    with transaction.atomic():
        notification = queue_notification(kind=Notification.Kind.BOOKING_CONFIRMED, booking=booking)
    message = build_message(notification)
    assert message.message() is message.message()  # sealed for the discreet check
    build = EmailMultiAlternatives.message
    with mock.patch.object(
        EmailMultiAlternatives, "message", autospec=True, side_effect=build
    ) as built:
        assert deliver_due_notifications()["sent"] == 1
    assert built.call_count == 1  # checked, then sent: the same MIME message
    [received] = smtp_sink.messages
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
