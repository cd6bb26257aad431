"""Bookings' figures for /metrics (walkandtalk/metrics.py): bookings made, places given from
the waiting list, and the outbox. Read from the database at each scrape; registered from
BookingsConfig.ready.

Nothing records a promotion on the booking itself (its status simply becomes confirmed), but
every promotion queues exactly one PROMOTED message for that booking (one row per booking and
kind), so the promotions are counted from the outbox. The purge deletes a booking's messages
PERSONAL_DATA_RETENTION_DAYS after its walk, so this counts the promotions still within that
period, as the other outbox figures do.
"""

import logging
from datetime import datetime

from django.db.models import Count, Min, Q

from walkandtalk import metrics, readiness

from .models import Booking, Notification
from .readiness import SWEEP

logger = logging.getLogger(__name__)

NAME = "bookings"


def figures(now: datetime):
    """Three aggregate queries: bookings by status; the outbox by state (with the promotions);
    the due rows and the oldest of them, by the outbox's partial index on due_at. Then one
    cache read: when the sweep last ran."""
    made = metrics.gauge(
        "bookings",
        "Bookings made (every booking row, anonymised ones included), by status now.",
        labels=["status"],
    )
    by_status = dict(
        Booking.objects.order_by()
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    for status in Booking.Status.values:
        made.add_metric([status], by_status.get(status, 0))
    yield made

    outbox = Notification.objects.order_by().aggregate(
        sent=Count("pk", filter=Q(sent_at__isnull=False)),
        failed=Count("pk", filter=Q(failed_at__isnull=False)),
        skipped=Count("pk", filter=Q(skipped_at__isnull=False)),
        promoted=Count("pk", filter=Q(kind=Notification.Kind.PROMOTED)),
    )
    due = Notification.objects.due(now).order_by().aggregate(n=Count("pk"), oldest=Min("due_at"))
    yield metrics.gauge(
        "waitlist_promotions",
        "Places given from the waiting list (one PROMOTED message each, kept as long as the "
        "outbox keeps them).",
        outbox["promoted"],
    )
    messages = metrics.gauge(
        "outbox_messages",
        "Outbox messages by state: due (waiting to be sent now), sent, failed, skipped.",
        labels=["state"],
    )
    messages.add_metric(["due"], due["n"])
    for state in ("sent", "failed", "skipped"):
        messages.add_metric([state], outbox[state])
    yield messages
    oldest = due["oldest"]
    yield metrics.gauge(
        "outbox_oldest_due_age_seconds",
        "How long the oldest due message has waited to be sent; 0 when none is waiting.",
        max((now - oldest).total_seconds(), 0) if oldest else 0,
    )
    yield from sweep_age(now)


def sweep_age(now: datetime):
    """Seconds since beat's delivery sweep last finished, as /readyz reads it (the shared
    cache, where each sweep records its finish). Left out while the sweep has not run since the
    cache was emptied, or the cache does not answer: an alert on absent() catches both."""
    try:
        ran = readiness.last_run(SWEEP)
    except Exception:  # noqa: BLE001 - the cache's trouble is /readyz's to report
        logger.warning("Could not read when the sweep last ran", exc_info=True)
        return
    if ran is not None:
        yield metrics.gauge(
            "outbox_sweep_age_seconds",
            "Seconds since beat's delivery sweep last finished (it runs every minute).",
            max((now - ran).total_seconds(), 0),
        )


def register() -> None:
    metrics.register(NAME, figures)
