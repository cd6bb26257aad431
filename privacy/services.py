"""Personal data across every app: the daily purge past the retention period, and her rights
to see what is held (export) and to have it erased now."""

import logging
from datetime import UTC, datetime, timedelta

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


def _anonymise_bookings(ids: list[int], now: datetime) -> dict[str, int]:
    bookings = Booking.objects.filter(pk__in=ids)
    count = bookings.update(
        full_name="",
        email="",
        phone="",
        accessibility_needs="",
        topics="",
        anonymised_at=now,
    )
    comments = Feedback.objects.filter(booking_id__in=ids).exclude(comments="").update(comments="")
    outbox, _ = Notification.objects.filter(booking_id__in=ids).delete()
    return {"bookings": count, "survey_comments": comments, "notifications": outbox}


def _anonymise_requests(ids: list[int], now: datetime) -> dict[str, int]:
    count = WalkRequest.objects.filter(pk__in=ids).update(
        full_name="",
        email="",
        phone="",
        route_description="",
        preferred_times="",
        accessibility_needs="",
        decline_reason="",  # written to her, often quoting her
        anonymised_at=now,
    )
    outbox, _ = Notification.objects.filter(request_id__in=ids).delete()
    return {"requests": count, "notifications": outbox}


# What a route walk's meeting point says once the period has passed: the inspector typed it
# from her request ("outside her flat, 12 Acacia Avenue"), so it goes with her other data.
MEETING_POINT_REMOVED = "Removed after the retention period"


def _route_walks_past_retention(cutoff: datetime):
    """Walks on a woman's own route that ended the retention period ago and still hold where
    they met or went."""
    return Walk.objects.filter(kind=Walk.Kind.ROUTE, ends_at__lte=cutoff).filter(
        ~Q(meeting_point=MEETING_POINT_REMOVED)
        | Q(meeting_lat__isnull=False)
        | Q(meeting_lng__isnull=False)
        | ~Q(route_notes="")
    )


def _anonymise_route_walks(ids: list[int], now: datetime) -> dict[str, int]:
    """Her route (notes) and her meeting point (text and position), from the walk and from its
    history: the audit keeps who changed what and when, not where she lives."""
    removed = {"meeting_point": MEETING_POINT_REMOVED, "meeting_lat": None, "meeting_lng": None}
    count = Walk.objects.filter(pk__in=ids).update(route_notes="", **removed)
    Walk.history.filter(id__in=ids).update(**removed)
    return {"route_walks": count}


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


def _walk_facts(walk: Walk | None) -> dict | None:
    if walk is None:
        return None
    return {
        "title": walk.title,
        "borough": walk.borough.name,
        "meeting_point": walk.meeting_point,
        "starts_at": walk.starts_at.isoformat(),
        "ends_at": walk.ends_at.isoformat(),
        "status": walk.get_status_display(),
    }


def _emails_sent(notifications) -> list[dict]:
    return [
        {
            "message": n.get_kind_display(),
            "due_at": n.due_at.isoformat(),
            "sent_at": n.sent_at.isoformat() if n.sent_at else None,
        }
        for n in notifications
    ]


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_personal_data(*, email: str) -> dict:
    """Everything held about the person with this email address: her bookings (with her
    survey answers and the emails sent to her) and her route requests. For a subject access
    request; the same for every BCU."""
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
                "full_name": booking.full_name,
                "email": booking.email,
                "phone": booking.phone,
                "accessibility_needs": booking.accessibility_needs,
                "topics": booking.topics,
                "discreet_emails": booking.discreet_emails,
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
                    "comments": feedback.comments,
                    "wants_updates": feedback.wants_updates,
                    "submitted_at": _when(feedback.submitted_at),
                },
                "emails": _emails_sent(booking.notifications.all()),
            }
        )
    for walk_request in requests:
        exported["route_requests"].append(
            {
                "reference": walk_request.reference,
                "borough": walk_request.borough.name,
                "full_name": walk_request.full_name,
                "email": walk_request.email,
                "phone": walk_request.phone,
                "route_description": walk_request.route_description,
                "preferred_times": walk_request.preferred_times,
                "accessibility_needs": walk_request.accessibility_needs,
                "discreet_emails": walk_request.discreet_emails,
                "status": walk_request.get_status_display(),
                "decline_reason": walk_request.decline_reason,
                "created_at": _when(walk_request.created_at),
                "decided_at": _when(walk_request.decided_at),
                "walk": _walk_facts(walk_request.walk),
                "emails": _emails_sent(walk_request.notifications.all()),
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
