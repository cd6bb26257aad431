"""Personal data across every app: the daily purge past the retention period, and her rights
to see what is held (export) and to have it erased now."""

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from bookings.models import Booking, Notification, WalkRequest
from bookings.services import cancel_booking, cancel_walk
from concerns.models import Feedback
from patrols.models import Walk

logger = logging.getLogger(__name__)

# --- Retention and her rights (issue 8) -----------------------------------------------------
# Personal data is anonymised PERSONAL_DATA_RETENTION_DAYS after the walk (the privacy notice
# says so): names, contact details and everything she wrote in her own words. Counts,
# attendance, statuses, survey scores and concerns (which never held her identity) stay. The
# audit history never holds her data: bookings and requests are not tracked, and a route
# walk's notes (her route, in her words) are left out of the walk's history.

PURGE_BATCH = 200


def _retention_cutoff(now: datetime) -> datetime:
    # Whole days of 24 hours: in UTC, so a clock change in between moves nothing.
    return now.astimezone(UTC) - timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS)


def _bookings_past_retention(cutoff: datetime):
    """Bookings on walks that ended at least the retention period ago."""
    return Booking.objects.filter(anonymised_at=None, walk__ends_at__lte=cutoff)


def _requests_past_retention(cutoff: datetime):
    """Route requests the retention period after their walk; without a walk, after the answer
    (declined); never answered, after she sent it."""
    return WalkRequest.objects.alias(
        kept_from=Coalesce("walk__ends_at", "decided_at", "created_at")
    ).filter(anonymised_at=None, kept_from__lte=cutoff)


def _claim(queryset) -> list[int]:
    """Lock a batch of rows for this transaction; rows another purge holds are skipped, so
    two purges at once share the work and never do a row twice."""
    return list(
        queryset.order_by("pk")
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", flat=True)[:PURGE_BATCH]
    )


# --- Personal data, as each model declares it --------------------------------------------
# Each model that holds her personal data declares it once, next to its fields:
# PERSONAL_DATA maps every such field to what it holds once anonymised. The purge and the
# erasure set exactly those fields, and her export lists exactly them (with the facts of her
# rows that stay). tests/security/test_personal_data.py fails when a model gains a field that
# may hold personal data and is neither declared nor reviewed as not personal.


def personal_data_of(model) -> dict:
    """A model's declaration: each field of her personal data and its anonymised value."""
    return model.PERSONAL_DATA


def _holds_personal_data(model) -> Q:
    """Rows where any declared field still holds something other than its anonymised value."""
    held = Q()
    for name, removed in personal_data_of(model).items():
        held |= Q(**{f"{name}__isnull": False}) if removed is None else ~Q(**{name: removed})
    return held


def _anonymise(model, ids: list[int], **also) -> int:
    """Set every declared field of these rows to its anonymised value, and in the model's audit
    history too where it tracks them: the audit keeps who changed what and when, not her."""
    declared = personal_data_of(model)
    count = model.objects.filter(pk__in=ids).update(**declared, **also)
    history = getattr(model._meta, "simple_history_manager_attribute", None)
    if history:
        historical = getattr(model, history).model
        tracked = {field.name for field in historical.tracked_fields}
        in_history = {name: value for name, value in declared.items() if name in tracked}
        if in_history:
            historical.objects.filter(**{f"{model._meta.pk.name}__in": ids}).update(**in_history)
    return count


def _anonymise_bookings(ids: list[int], now: datetime) -> dict[str, int]:
    count = _anonymise(Booking, ids, anonymised_at=now)
    surveys = Feedback.objects.filter(booking_id__in=ids).filter(_holds_personal_data(Feedback))
    comments = _anonymise(Feedback, list(surveys.values_list("pk", flat=True)))
    outbox, _ = Notification.objects.filter(booking_id__in=ids).delete()
    return {"bookings": count, "survey_comments": comments, "notifications": outbox}


def _anonymise_requests(ids: list[int], now: datetime) -> dict[str, int]:
    count = _anonymise(WalkRequest, ids, anonymised_at=now)
    outbox, _ = Notification.objects.filter(request_id__in=ids).delete()
    return {"requests": count, "notifications": outbox}


def _route_walks_past_retention(cutoff: datetime):
    """Walks on a woman's own route that ended the retention period ago and still hold where
    they met or went."""
    return Walk.objects.filter(kind=Walk.Kind.ROUTE, ends_at__lte=cutoff).filter(
        _holds_personal_data(Walk)
    )


def _anonymise_route_walks(ids: list[int], now: datetime) -> dict[str, int]:
    """Her route (notes) and her meeting point (text and position), from the walk and from its
    history."""
    return {"route_walks": _anonymise(Walk, ids)}


def _add(counts: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        counts[key] = counts.get(key, 0) + value


def purge_personal_data(*, now: datetime | None = None) -> dict[str, int]:
    """Anonymise what is past the retention period, delete its outbox rows, and delete sign-in
    records (django-axes) and expired sessions older than it. Idempotent, and safe to run twice
    at once: each batch is claimed under row locks that the other run skips."""
    now = now or timezone.now()
    cutoff = _retention_cutoff(now)
    counts = {
        "bookings": 0,
        "requests": 0,
        "survey_comments": 0,
        "route_walks": 0,
        "notifications": 0,
        "sign_in_records": 0,
        "sessions": 0,
    }
    for past_retention, anonymise in (
        (_bookings_past_retention, _anonymise_bookings),
        (_requests_past_retention, _anonymise_requests),
        (_route_walks_past_retention, _anonymise_route_walks),
    ):
        while True:
            with transaction.atomic():
                ids = _claim(past_retention(cutoff))
                if not ids:
                    break
                _add(counts, anonymise(ids, now))
    with transaction.atomic():
        for model in (AccessAttempt, AccessLog, AccessFailureLog):
            deleted, _ = model.objects.filter(attempt_time__lt=cutoff).delete()
            counts["sign_in_records"] += deleted
        # Sessions keep what was just done on the public forms (her email, for 30 minutes).
        counts["sessions"], _ = Session.objects.filter(expire_date__lt=now).delete()
    logger.info("Personal data purged: %s", counts)
    return counts


def _her_values(row) -> dict:
    """The declared personal fields of one of her rows, as they are now."""
    values = {name: getattr(row, name) for name in personal_data_of(type(row))}
    # A position is a Decimal: as text, so the export is plain JSON.
    return {name: str(v) if isinstance(v, Decimal) else v for name, v in values.items()}


def _walk_facts(walk: Walk | None) -> dict | None:
    """The walk she booked or asked for; a walk on her own route also holds her data."""
    if walk is None:
        return None
    facts = {
        "title": walk.title,
        "borough": walk.borough.name,
        "meeting_point": walk.meeting_point,
        "starts_at": walk.starts_at.isoformat(),
        "ends_at": walk.ends_at.isoformat(),
        "status": walk.get_status_display(),
    }
    if walk.kind == Walk.Kind.ROUTE:
        facts.update(_her_values(walk))
    return facts


def _messages_sent(notifications) -> list[dict]:
    return [
        {
            "message": n.get_kind_display(),
            "sent_by": n.get_channel_display(),
            "due_at": n.due_at.isoformat(),
            "sent_at": n.sent_at.isoformat() if n.sent_at else None,
        }
        for n in notifications
    ]


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_personal_data(*, email: str) -> dict:
    """Everything held about the person with this email address: her bookings (with her
    survey answers and the emails and texts sent to her, under "emails") and her route
    requests. For a subject access request; the same for every BCU."""
    email = email.strip()
    bookings = (
        Booking.objects.for_email(email)
        .filter(anonymised_at=None)
        .select_related("walk__borough", "feedback")
        .prefetch_related("notifications")
        .order_by("created_at", "pk")
    )
    requests = (
        WalkRequest.objects.filter(email__iexact=email, anonymised_at=None)
        .select_related("borough", "walk__borough")
        .prefetch_related("notifications")
        .order_by("created_at", "pk")
    )
    exported = {
        "email": email,
        "exported_at": timezone.now().isoformat(),
        "retention": f"Removed {settings.PERSONAL_DATA_RETENTION_DAYS} days after the walk.",
        "bookings": [],
        "route_requests": [],
    }
    for booking in bookings:
        feedback = getattr(booking, "feedback", None)
        exported["bookings"].append(
            {
                "reference": booking.reference,
                "walk": _walk_facts(booking.walk),
                **_her_values(booking),
                "discreet_emails": booking.discreet_emails,
                "reminders_by": booking.get_reminder_channel_display(),
                "status": booking.get_status_display(),
                "created_at": _when(booking.created_at),
                "cancelled_at": _when(booking.cancelled_at),
                "survey": None
                if feedback is None
                else {
                    "felt_safe_before": feedback.felt_safe_before,
                    "felt_safe_after": feedback.felt_safe_after,
                    "confidence_in_police_before": feedback.confidence_in_police_before,
                    "confidence_in_police_after": feedback.confidence_in_police_after,
                    **_her_values(feedback),
                    "wants_updates": feedback.wants_updates,
                    "submitted_at": _when(feedback.submitted_at),
                },
                "emails": _messages_sent(booking.notifications.all()),
            }
        )
    for walk_request in requests:
        exported["route_requests"].append(
            {
                "reference": walk_request.reference,
                "borough": walk_request.borough.name,
                **_her_values(walk_request),
                "discreet_emails": walk_request.discreet_emails,
                "status": walk_request.get_status_display(),
                "created_at": _when(walk_request.created_at),
                "decided_at": _when(walk_request.decided_at),
                "walk": _walk_facts(walk_request.walk),
                "emails": _messages_sent(walk_request.notifications.all()),
            }
        )
    return exported


def erase_personal_data(*, email: str) -> dict[str, int]:
    """Erase now what is held about this email address, as the purge would later. Her places
    on walks still to come are given back first (the waiting list moves up as usual) and a
    walk on her route is called off, freeing its officers; nothing is emailed to her."""
    email = email.strip()
    if not email:
        raise ValidationError("Give the email address to erase.", code="email_required")
    now = timezone.now()
    counts: dict[str, int] = {"cancelled": 0}
    with transaction.atomic():
        requests = WalkRequest.objects.filter(email__iexact=email, anonymised_at=None)
        request_ids = list(requests.select_for_update(of=("self",)).values_list("pk", flat=True))
        for walk in Walk.objects.filter(
            request__pk__in=request_ids, status=Walk.Status.SCHEDULED, starts_at__gt=now
        ):
            cancel_walk(walk=walk, reason="She no longer wants this walk.")
            counts["cancelled"] += 1
        WalkRequest.objects.filter(pk__in=request_ids, status=WalkRequest.Status.OPEN).update(
            status=WalkRequest.Status.DECLINED, decided_at=now
        )
        bookings = Booking.objects.for_email(email).filter(anonymised_at=None)
        for booking in bookings.active().filter(walk__starts_at__gt=now):
            cancel_booking(booking=booking)
            counts["cancelled"] += 1
        booking_ids = list(bookings.select_for_update(of=("self",)).values_list("pk", flat=True))
        _add(counts, _anonymise_bookings(booking_ids, now))
        _add(counts, _anonymise_requests(request_ids, now))
        # Walks on her route hold where she lives, as the purge would clear them later.
        route_walk_ids = list(
            Walk.objects.filter(request__pk__in=request_ids, kind=Walk.Kind.ROUTE).values_list(
                "pk", flat=True
            )
        )
        _add(counts, _anonymise_route_walks(route_walk_ids, now))
    logger.info("Personal data erased on request: %s", counts)
    return counts
