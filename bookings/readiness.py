"""Bookings' part of /readyz (walkandtalk/readiness.py): the outbox is not falling behind, and
beat's sweep, which sends what is due, ran lately. Registered from BookingsConfig.ready."""

from datetime import datetime

from django.conf import settings

from walkandtalk import readiness

from .models import Notification

SWEEP = "sweep"


def check_outbox(now: datetime) -> str:
    """The oldest message that is due and not yet sent, failed or skipped has waited less than
    READY_OUTBOX_MAX_AGE. (One row read by the outbox's partial index on due_at.)"""
    oldest = Notification.objects.due(now).order_by("due_at").values_list("due_at", flat=True)
    oldest = oldest.first()
    if oldest is None:
        return ""
    waited = int((now - oldest).total_seconds())
    limit = int(settings.READY_OUTBOX_MAX_AGE.total_seconds())
    if waited > limit:
        return f"oldest due message waiting {waited} s (limit {limit} s)"
    return ""


def check_sweep(now: datetime) -> str:
    """Beat started the delivery sweep, and a worker ran it, within READY_SWEEP_MAX_AGE."""
    return readiness.ran_within(SWEEP, settings.READY_SWEEP_MAX_AGE, now)


def record_sweep() -> None:
    """Called by the sweep's task when it has run."""
    readiness.record_run(SWEEP)


def register() -> None:
    readiness.register("outbox", check_outbox, needs_database=True)
    readiness.register(SWEEP, check_sweep, needs_database=readiness.cache_needs_database())
