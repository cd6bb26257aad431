"""Celery tasks: thin wrappers that call bookings.delivery and bookings.digest.

Each is safe to run twice or at the same time as the others: a row is claimed before it is
sent, and the digest is queued once a day. The time comes from the worker's clock in Python,
never from the database.
"""

from celery import shared_task
from django.utils import timezone

from . import delivery, digest, readiness, welfare


@shared_task(name="bookings.tasks.deliver_notification", ignore_result=True)
def deliver_notification(notification_id: int) -> str | None:
    """Send one outbox row now (published after the commit that wrote it). Returns quietly when
    the row is gone, already sent, not due yet, or being sent by someone else."""
    return delivery.deliver_notification(notification_id=notification_id, now=timezone.now())


@shared_task(name="bookings.tasks.deliver_due_notifications", ignore_result=True)
def deliver_due_notifications() -> dict:
    """Beat's sweep, every minute: first the welfare alerts of walks not marked safe in time,
    then reminders that have come due, retries, and anything whose publish was lost (the broker
    was down when the booking was made). Its finish is recorded for /readyz, which reports a
    sweep that stopped running."""
    now = timezone.now()
    welfare.raise_welfare_alerts(now=now)
    outcomes = dict(delivery.deliver_due_notifications(now=now))
    readiness.record_sweep()
    return outcomes


@shared_task(name="bookings.tasks.send_daily_digest", ignore_result=True)
def send_daily_digest() -> int:
    """Beat's 7am run: queue each BCU's digest for its inspectors in the outbox (once a day,
    however often this runs), which sends it. Returns how many were queued."""
    return digest.queue_daily_digests(now=timezone.now())
