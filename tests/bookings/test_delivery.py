"""Sending the outbox: once per row, retried when the mail server says "later", stopped when it
says "never", and not sent at all when the message no longer applies."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from bookings import tasks
from bookings.delivery import (
    CLAIM_TIMEOUT,
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    claim_due_notifications,
    claim_notification,
    deliver_due_notifications,
    deliver_notification,
    finish,
    retry_notifications,
)
from bookings.models import Booking, Notification
from bookings.services import queue_notification
from patrols.models import Walk
from tests.bookings.smtp_sink import free_port, smtp_sink  # noqa: F401 - a fixture
from tests.factories import make_action, make_booking, make_concern, make_walk
from walkandtalk.celery import app

pytestmark = pytest.mark.django_db
Kind = Notification.Kind


def queue(**kwargs) -> Notification:
    with transaction.atomic():
        return queue_notification(**kwargs)


def reload(notification: Notification) -> Notification:
    return Notification.objects.get(pk=notification.pk)


def test_a_due_row_is_sent_once_and_marked_sent():
    notification = queue(kind=Kind.BOOKING_CONFIRMED, booking=make_booking())
    assert deliver_notification(notification_id=notification.pk) == "sent"
    assert deliver_notification(notification_id=notification.pk) is None
    notification = reload(notification)
    assert notification.sent_at is not None
    assert notification.attempts == 1
    assert [message.to for message in mail.outbox] == [[notification.booking.email]]


def test_the_task_takes_an_id_and_returns_quietly_when_the_row_is_gone():
    notification = queue(kind=Kind.BOOKING_CONFIRMED, booking=make_booking())
    notification_id = notification.pk
    notification.delete()
    assert tasks.deliver_notification(notification_id) is None
    assert mail.outbox == []


def test_a_row_not_yet_due_is_left_for_the_sweep_that_finds_it_due():
    booking = make_booking()
    now = timezone.now()
    notification = queue(
        kind=Kind.REMINDER_24H, booking=booking, due_at=booking.walk.starts_at - timedelta(hours=24)
    )
    assert tasks.deliver_notification(notification.pk) is None
    assert deliver_due_notifications(now=now) == {}
    with time_machine.travel(notification.due_at, tick=False):
        assert tasks.deliver_due_notifications() == {"sent": 1}
    assert reload(notification).sent_at == notification.due_at


def test_the_command_runs_one_sweep_and_says_what_it_did():
    queue(kind=Kind.BOOKING_CONFIRMED, booking=make_booking())
    queue(kind=Kind.BOOKING_CONFIRMED, booking=make_booking(status=Booking.Status.CANCELLED))
    out = StringIO()
    call_command("deliver_notifications", stdout=out)
    assert out.getvalue().strip() == "1 sent, 1 skipped"
    out = StringIO()
    call_command("deliver_notifications", stdout=out)
    assert out.getvalue().strip() == "Nothing was due."


def test_a_crash_between_claim_and_send_is_retried_after_the_claim_timeout():
    notification = queue(kind=Kind.BOOKING_CONFIRMED, booking=make_booking())
    start = timezone.now()
    assert claim_due_notifications(now=start) == [notification.pk]
    # The worker dies here: claimed, never sent.
    assert deliver_due_notifications(now=start + CLAIM_TIMEOUT - timedelta(seconds=1)) == {}
    assert deliver_notification(notification_id=notification.pk, now=start) is None
    assert mail.outbox == []

    assert deliver_due_notifications(now=start + CLAIM_TIMEOUT + timedelta(seconds=1)) == {
        "sent": 1
    }
    assert len(mail.outbox) == 1
    assert reload(notification).attempts == 2


def test_a_claimed_row_cannot_be_claimed_again_until_its_claim_times_out():
    notification = queue(kind=Kind.BOOKING_CONFIRMED, booking=make_booking())
    now = timezone.now()
    assert claim_notification(notification_id=notification.pk, now=now)
    assert not claim_notification(notification_id=notification.pk, now=now)
    assert claim_due_notifications(now=now) == []
    assert claim_notification(notification_id=notification.pk, now=now + CLAIM_TIMEOUT * 2)


def test_a_row_re_armed_while_it_was_being_sent_keeps_its_new_plan():
    booking = make_booking()
    notification = queue(kind=Kind.WALK_CHANGED, booking=booking)
    now = timezone.now()
    assert claim_notification(notification_id=notification.pk, now=now)
    # Meanwhile the walk changes again: the row is re-armed for the newer message.
    queue(kind=Kind.WALK_CHANGED, booking=booking)
    assert not finish(notification, now, sent_at=now)
    notification = reload(notification)
    assert notification.sent_at is None and notification.claimed_at is None
    assert deliver_notification(notification_id=notification.pk) == "sent"


def test_a_temporary_smtp_error_is_retried_with_backoff_and_recorded(smtp_sink):  # noqa: F811
    smtp_sink.replies = ["451 4.3.0 Mailbox busy, try again later"]
    notification = queue(kind=Kind.BOOKING_CONFIRMED, booking=make_booking())
    start = timezone.now()
    assert deliver_notification(notification_id=notification.pk, now=start) == "retrying"
    notification = reload(notification)
    assert notification.attempts == 1
    assert "451" in notification.last_error
    assert notification.due_at == start + RETRY_DELAYS[0]
    assert notification.sent_at is None and notification.failed_at is None

    assert deliver_due_notifications(now=start + timedelta(seconds=30)) == {}
    assert deliver_due_notifications(now=start + RETRY_DELAYS[0]) == {"sent": 1}
    notification = reload(notification)
    assert notification.sent_at is not None
    assert notification.attempts == 2
    assert notification.last_error == ""
    assert smtp_sink.recipients() == [notification.booking.email]


def test_after_the_last_attempt_a_temporary_error_becomes_a_failure(smtp_sink):  # noqa: F811
    smtp_sink.replies = ["451 4.3.0 Try later"] * (MAX_ATTEMPTS + 2)
    notification = queue(kind=Kind.BOOKING_CONFIRMED, booking=make_booking())
    now = timezone.now()
    outcomes = [deliver_notification(notification_id=notification.pk, now=now)]
    for delay in RETRY_DELAYS:
        now += delay
        outcomes.append(deliver_notification(notification_id=notification.pk, now=now))
    assert outcomes == ["retrying"] * (MAX_ATTEMPTS - 1) + ["failed"]
    notification = reload(notification)
    assert notification.failed_at is not None
    assert notification.attempts == MAX_ATTEMPTS
    assert notification.last_error.startswith(f"Gave up after {MAX_ATTEMPTS} attempts")
    assert smtp_sink.messages == []


def test_a_permanent_smtp_error_fails_the_row_at_once(smtp_sink):  # noqa: F811
    smtp_sink.replies = ["550 5.1.1 No such mailbox"]
    notification = queue(kind=Kind.BOOKING_CONFIRMED, booking=make_booking())
    assert deliver_notification(notification_id=notification.pk) == "failed"
    notification = reload(notification)
    assert notification.failed_at is not None
    assert "550" in notification.last_error
    assert deliver_due_notifications(now=timezone.now() + timedelta(days=1)) == {}
    assert smtp_sink.messages == []


def test_a_failed_row_retried_from_the_admin_is_sent(smtp_sink):  # noqa: F811
    smtp_sink.replies = ["550 5.7.1 Rejected for policy reasons"]
    notification = queue(kind=Kind.BOOKING_CONFIRMED, booking=make_booking())
    assert deliver_notification(notification_id=notification.pk) == "failed"
    assert retry_notifications(notifications=Notification.objects.all()) == 1
    notification = reload(notification)
    assert notification.failed_at is None and notification.attempts == 0
    assert deliver_due_notifications() == {"sent": 1}
    assert len(smtp_sink.messages) == 1


def test_with_the_mail_server_down_a_sweep_stops_and_gives_back_what_it_did_not_try():
    rows = [queue(kind=Kind.BOOKING_CONFIRMED, booking=make_booking()) for _ in range(3)]
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=free_port(),  # nothing listens there
        EMAIL_TIMEOUT=2,
    ):
        assert deliver_due_notifications() == {"retrying": 1}
    first, *rest = [reload(row) for row in rows]
    assert first.attempts == 1 and "Connection refused" in first.last_error
    assert [(row.attempts, row.claimed_at) for row in rest] == [(0, None), (0, None)]
    assert deliver_due_notifications() == {"sent": 2}  # the server is back (locmem)


# --- messages that no longer apply ----------------------------------------------------------


def test_a_confirmation_for_a_booking_cancelled_before_it_went_is_skipped():
    booking = make_booking()
    notification = queue(kind=Kind.BOOKING_CONFIRMED, booking=booking)
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CANCELLED)
    assert deliver_notification(notification_id=notification.pk) == "skipped"
    notification = reload(notification)
    assert notification.skipped_at is not None
    assert notification.failed_at is None and notification.attempts == 0
    assert "no longer applies" in notification.last_error
    assert mail.outbox == []


def test_the_waiting_list_email_is_skipped_once_she_has_been_given_a_place():
    booking = make_booking(status=Booking.Status.WAITLISTED)
    waitlisted = queue(kind=Kind.WAITLISTED, booking=booking)
    Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.CONFIRMED)
    promoted = queue(kind=Kind.PROMOTED, booking=booking)
    assert deliver_due_notifications() == {"skipped": 1, "sent": 1}
    assert reload(waitlisted).skipped_at is not None
    assert reload(promoted).sent_at is not None


def reminder(kind: str, walk: Walk, **booking_fields) -> Notification:
    lead = timedelta(hours=24 if kind == Kind.REMINDER_24H else 2)
    with time_machine.travel(walk.starts_at - timedelta(days=3), tick=False):
        booking = make_booking(walk=walk, **booking_fields)
    return queue(kind=kind, booking=booking, due_at=walk.starts_at - lead)


def test_a_reminder_for_a_cancelled_walk_is_skipped():
    walk = make_walk(status=Walk.Status.CANCELLED)
    notification = reminder(Kind.REMINDER_24H, walk)
    with time_machine.travel(notification.due_at, tick=False):
        assert deliver_due_notifications() == {"skipped": 1}
    assert "the walk is cancelled" in reload(notification).last_error
    assert mail.outbox == []


def test_a_24_hour_reminder_more_than_a_few_hours_late_is_not_sent():
    walk = make_walk(starts_at=timezone.now() + timedelta(days=5))
    on_time = reminder(Kind.REMINDER_24H, walk)
    late = reminder(Kind.REMINDER_24H, walk)
    with time_machine.travel(walk.starts_at - timedelta(hours=20), tick=False):
        assert deliver_notification(notification_id=on_time.pk) == "sent"
    with time_machine.travel(walk.starts_at - timedelta(hours=17), tick=False):
        assert deliver_notification(notification_id=late.pk) == "skipped"
    assert "too late" in reload(late).last_error


def test_a_2_hour_reminder_is_not_sent_once_the_walk_is_about_to_start():
    walk = make_walk(starts_at=timezone.now() + timedelta(days=5))
    notification = reminder(Kind.REMINDER_2H, walk)
    with time_machine.travel(walk.starts_at - timedelta(minutes=20), tick=False):
        assert deliver_due_notifications() == {"skipped": 1}
    assert "too late" in reload(notification).last_error
    assert mail.outbox == []


def test_a_reminder_is_not_sent_to_someone_who_booked_after_its_time():
    walk = make_walk(starts_at=timezone.now() + timedelta(days=5))
    with time_machine.travel(walk.starts_at - timedelta(hours=3), tick=False):
        booking = make_booking(walk=walk)
        notification = queue(
            kind=Kind.REMINDER_24H, booking=booking, due_at=walk.starts_at - timedelta(hours=24)
        )
        assert deliver_due_notifications() == {"skipped": 1}
    assert "booked after" in reload(notification).last_error


def test_a_reminder_whose_walk_moved_later_waits_for_the_new_time():
    walk = make_walk(starts_at=timezone.now() + timedelta(days=5))
    notification = reminder(Kind.REMINDER_2H, walk)
    Walk.objects.filter(pk=walk.pk).update(
        starts_at=walk.starts_at + timedelta(days=1), ends_at=walk.ends_at + timedelta(days=1)
    )
    with time_machine.travel(notification.due_at, tick=False):
        assert deliver_due_notifications() == {"rescheduled": 1}
    new_due = walk.starts_at + timedelta(days=1) - timedelta(hours=2)
    assert reload(notification).due_at == new_due
    with time_machine.travel(new_due, tick=False):
        assert deliver_due_notifications() == {"sent": 1}


def test_messages_to_a_woman_whose_data_was_removed_are_not_sent():
    booking = make_booking(anonymised_at=timezone.now())
    queue(kind=Kind.MANAGE_LINK, booking=booking)
    assert deliver_due_notifications() == {"skipped": 1}


def test_you_said_we_did_is_skipped_when_the_action_was_deleted():
    booking = make_booking(status=Booking.Status.ATTENDED)
    action = make_action(make_concern(walk=booking.walk))
    notification = queue(kind=Kind.YOU_SAID_WE_DID, booking=booking, key=f"action:{action.pk}")
    action.delete()
    assert deliver_notification(notification_id=notification.pk) == "skipped"


def test_a_discreet_message_that_would_say_police_fails_visibly_instead_of_going():
    notification = queue(kind=Kind.BOOKING_CONFIRMED, booking=make_booking(discreet_emails=True))
    with override_settings(DISCREET_FROM_EMAIL="Police <b@example.org>"):
        assert deliver_notification(notification_id=notification.pk) == "failed"
    assert "police" in reload(notification).last_error
    assert mail.outbox == []


# --- two workers at once --------------------------------------------------------------------


def run_in_threads(*targets):
    """Run each target in its own thread (and database connection), all starting together."""
    barrier = threading.Barrier(len(targets))
    results, errors = [None] * len(targets), []

    def run(index, target):
        try:
            barrier.wait()
            results[index] = target()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sweeps_and_a_task_in_parallel_send_each_due_row_exactly_once(smtp_sink):  # noqa: F811
    walk = make_walk(capacity=60)
    bookings = [make_booking(walk=walk) for _ in range(40)]
    rows = Notification.objects.bulk_create(
        Notification(booking=booking, kind=Kind.BOOKING_CONFIRMED) for booking in bookings
    )
    now = timezone.now()

    def sweep():
        return deliver_due_notifications(now=now, batch_size=3)

    def tasks_for_every_row():
        return [deliver_notification(notification_id=row.pk, now=now) for row in rows]

    first, second, by_task = run_in_threads(sweep, sweep, tasks_for_every_row)

    recipients = smtp_sink.recipients()
    assert sorted(recipients) == sorted(booking.email for booking in bookings)
    assert first["sent"] + second["sent"] + by_task.count("sent") == 40
    # They really did compete: the work was shared, not done by whoever started first.
    assert sum(1 for count in (first["sent"], second["sent"], by_task.count("sent")) if count) >= 2
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}
    assert not Notification.objects.filter(sent_at=None).exists()


def test_beat_sweeps_the_outbox_every_minute():
    [entry] = [
        entry
        for entry in app.conf.beat_schedule.values()
        if entry["task"] == "bookings.tasks.deliver_due_notifications"
    ]
    assert entry["schedule"] == 60
    assert "bookings.tasks.deliver_due_notifications" in app.tasks
