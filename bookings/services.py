"""Every write on the public side: bookings, route requests and the outbox."""

import logging
from datetime import datetime
from functools import partial

from django.db import transaction
from django.utils import timezone

from walkandtalk.celery import app as celery_app

from .models import Booking, Notification, WalkRequest

logger = logging.getLogger(__name__)


def publish_notification(notification_id: int) -> None:
    """Ask a worker to send one row now. If the broker is down the row waits for the sweep."""
    celery_app.send_task("bookings.tasks.deliver_notification", args=[notification_id])


def queue_notification(
    *,
    kind: str,
    booking: Booking | None = None,
    request: WalkRequest | None = None,
    due_at: datetime | None = None,
    key: str = "",
) -> Notification:
    """Write (or re-arm) the outbox row for one message to one recipient, in the caller's
    transaction; publish it after commit when it is due now. Call inside transaction.atomic."""
    now = timezone.now()
    due_at = due_at or now
    notification, _ = Notification.objects.update_or_create(
        booking=booking,
        request=request,
        kind=kind,
        key=key,
        defaults={
            "due_at": due_at,
            "claimed_at": None,
            "sent_at": None,
            "failed_at": None,
            "skipped_at": None,
            "attempts": 0,
            "last_error": "",
        },
    )
    if due_at <= now:
        transaction.on_commit(partial(publish_notification, notification.pk), robust=True)
    return notification
