"""Every write after the walk: the debrief, concerns, actions, the survey, "you said, we did"."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from bookings.models import Booking, Notification, WalkRequest, hash_token
from bookings.services import cancel_booking, cancel_walk, queue_notification
from patrols.models import Borough, Walk, bcu_scope

from .models import Concern, ConcernAction, ConcernStatus, Feedback, Partner

logger = logging.getLogger(__name__)

# Greater London's bounding box, with a little margin: a position outside it is a typo or a
# phone that has not found itself yet, never a place the Met walks.
LONDON_LAT = (Decimal("51.28"), Decimal("51.70"))
LONDON_LNG = (Decimal("-0.52"), Decimal("0.34"))
DESCRIPTION_MAX = 2000
NOTE_MAX = 2000
# How long after the walk her survey link works.
FEEDBACK_DAYS_AFTER_WALK = 30
INSPECTORS = "Inspectors"

Attendance = dict[int, str]  # booking id -> Booking.Status.ATTENDED or NO_SHOW
ATTENDANCE_CHOICES = (Booking.Status.ATTENDED, Booking.Status.NO_SHOW)
# The bookings a debrief marks: everyone who held a place on the walk.
ON_THE_LIST = (Booking.Status.CONFIRMED, Booking.Status.ATTENDED, Booking.Status.NO_SHOW)


def in_london(lat: Decimal, lng: Decimal) -> bool:
    return LONDON_LAT[0] <= lat <= LONDON_LAT[1] and LONDON_LNG[0] <= lng <= LONDON_LNG[1]


# --- The debrief ----------------------------------------------------------------------------


def can_debrief(*, user: AbstractBaseUser, walk: Walk) -> bool:
    """The officers rostered on the walk, and the inspectors of its BCU (or of all London)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    try:
        scope = bcu_scope(user)
    except PermissionDenied:
        return False
    if scope is not None and scope.pk != walk.bcu_id:
        return False
    if user.groups.filter(name=INSPECTORS).exists():
        return True
    return walk.roster.filter(officer__user=user, officer__is_active=True).exists()


def debrief_closes_at(walk: Walk) -> datetime:
    """A completed debrief can be reopened until midnight, London time, on the day the walk
    ended: enough to add a concern remembered on the way back, not to rewrite history."""
    day = timezone.localdate(walk.ends_at) + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def debrief_state(walk: Walk, now: datetime | None = None) -> str:
    """The debrief's state: "open" (not yet debriefed), "reopened" (completed, still the
    same day), or why not: "cancelled", "not_started", "closed"."""
    now = now or timezone.now()
    if walk.status == Walk.Status.CANCELLED:
        return "cancelled"
    if not walk.has_started(now):
        return "not_started"
    if walk.status == Walk.Status.COMPLETED:
        return "reopened" if now < debrief_closes_at(walk) else "closed"
    return "open"


def feedback_open(walk: Walk, now: datetime | None = None) -> bool:
    return (now or timezone.now()) < walk.ends_at + timedelta(days=FEEDBACK_DAYS_AFTER_WALK)


def debrief_bookings(walk: Walk):
    """The women on the walk's list, in booking order: the attendance register."""
    return walk.bookings.filter(status__in=ON_THE_LIST, anonymised_at=None).order_by(
        "created_at", "pk"
    )


@dataclass(frozen=True)
class NewConcern:
    """One concern as the officer typed it (the form has checked its shape)."""

    category: str
    location_text: str
    times_unsafe: str
    description: str
    lat: Decimal | None = None
    lng: Decimal | None = None


def _check_concern(new: NewConcern) -> None:
    if new.category not in Concern.Category.values:
        raise ValidationError("Choose a category.", code="bad_category")
    if new.times_unsafe not in Concern.TimeOfDay.values:
        raise ValidationError("Choose when it feels unsafe.", code="bad_time")
    if not new.location_text.strip():
        raise ValidationError("Enter where it is.", code="no_location")
    if not new.description.strip():
        raise ValidationError("Describe the concern.", code="no_description")
    if len(new.description) > DESCRIPTION_MAX:
        raise ValidationError("The description is too long.", code="description_too_long")
    if (new.lat is None) != (new.lng is None):
        raise ValidationError("Give both latitude and longitude, or neither.", code="half_position")
    if new.lat is not None and not in_london(new.lat, new.lng):
        raise ValidationError("That position is outside Greater London.", code="outside_london")


def log_concern(
    *,
    borough: Borough,
    concern: NewConcern,
    by: AbstractBaseUser | None,
    walk: Walk | None = None,
) -> Concern:
    """Record one concern, from a debrief or typed in the admin. Never who raised it."""
    _check_concern(concern)
    if walk is not None and walk.borough_id != borough.pk:
        raise ValidationError("The concern must be in the walk's borough.", code="wrong_borough")
    with transaction.atomic():
        return Concern.objects.create(
            walk=walk,
            bcu_id=borough.bcu_id,
            borough=borough,
            category=concern.category,
            location_text=concern.location_text.strip(),
            lat=concern.lat,
            lng=concern.lng,
            times_unsafe=concern.times_unsafe,
            description=concern.description.strip(),
            logged_by=by if by is not None and by.is_authenticated else None,
        )


@dataclass(frozen=True)
class DebriefResult:
    concerns: list[Concern]
    surveys_queued: int
    reopened: bool


def complete_debrief(
    *,
    walk: Walk,
    attendance: Attendance,
    concerns: list[NewConcern],
    by: AbstractBaseUser,
) -> DebriefResult:
    """Save the register and the concerns together or not at all, mark the walk completed and
    queue the survey for the women who came. Run again the same day it adds concerns and
    corrects the register; a survey already queued is never queued twice."""
    with transaction.atomic():
        # The walk row is the lock: two officers debriefing at once take turns.
        walk = Walk.objects.select_for_update().get(pk=walk.pk)
        if not can_debrief(user=by, walk=walk):
            raise PermissionDenied("Only the walk's officers and their inspector can debrief it.")
        state = debrief_state(walk)
        if state not in ("open", "reopened"):
            raise ValidationError(f"This walk cannot be debriefed ({state}).", code=state)

        bookings = {b.pk: b for b in debrief_bookings(walk).select_for_update(of=("self",))}
        unknown = set(attendance) - set(bookings)
        if unknown:
            raise ValidationError("The register has changed: reload the page.", code="stale")
        if set(bookings) - set(attendance):
            raise ValidationError(
                "Mark everyone on the list as came or did not come.", code="attendance_incomplete"
            )
        if any(status not in ATTENDANCE_CHOICES for status in attendance.values()):
            raise ValidationError("Mark each woman as came or did not come.", code="bad_status")
        for new in concerns:
            _check_concern(new)

        for status in ATTENDANCE_CHOICES:
            changed = [pk for pk, s in attendance.items() if s == status]
            Booking.objects.filter(pk__in=changed).exclude(status=status).update(status=status)
        if walk.status != Walk.Status.COMPLETED:
            Walk.objects.filter(pk=walk.pk).update(status=Walk.Status.COMPLETED)

        saved = [
            log_concern(borough=walk.borough, concern=new, by=by, walk=walk) for new in concerns
        ]

        attended = [pk for pk, s in attendance.items() if s == Booking.Status.ATTENDED]
        no_show = [pk for pk, s in attendance.items() if s == Booking.Status.NO_SHOW]
        # Corrected to "did not come": a survey not yet sent is withdrawn (one sent cannot be;
        # its link stops working because the survey is only for women who came).
        Notification.objects.filter(
            booking__in=no_show, kind=Notification.Kind.FEEDBACK, sent_at=None
        ).delete()
        queued = 0
        if feedback_open(walk):
            already = set(
                Notification.objects.filter(
                    booking__in=attended, kind=Notification.Kind.FEEDBACK
                ).values_list("booking_id", flat=True)
            )
            for pk in attended:
                if pk not in already:
                    queue_notification(kind=Notification.Kind.FEEDBACK, booking=bookings[pk])
                    queued += 1
    return DebriefResult(concerns=saved, surveys_queued=queued, reopened=state == "reopened")


# --- Actions and "you said, we did" ---------------------------------------------------------


def record_action(
    *,
    concern: Concern,
    note: str,
    status: str,
    partner: str,
    by: AbstractBaseUser,
) -> ConcernAction:
    """Add what was done to a concern's history and move its status. When it becomes
    actioned, the women who walked there and asked to hear get "you said, we did", once."""
    note = note.strip()
    if not note:
        raise ValidationError("Say what was done.", code="no_note")
    if len(note) > NOTE_MAX:
        raise ValidationError("The note is too long.", code="note_too_long")
    if status not in ConcernStatus.values:
        raise ValidationError("Choose a status.", code="bad_status")
    if partner and partner not in Partner.values:
        raise ValidationError("Choose a partner from the list.", code="bad_partner")
    if status == ConcernStatus.REFERRED and not partner:
        raise ValidationError("Say which partner it was referred to.", code="partner_required")
    with transaction.atomic():
        concern = Concern.objects.select_for_update().get(pk=concern.pk)
        scope = bcu_scope(by)
        if scope is not None and scope.pk != concern.bcu_id:
            raise PermissionDenied("This concern is in another BCU.")
        was = concern.status
        action = ConcernAction.objects.create(
            concern=concern, note=note, status=status, partner=partner, by=by
        )
        concern.status = status
        if partner:
            concern.partner = partner
        concern.save(update_fields=["status", "partner"])
        if status == ConcernStatus.ACTIONED and was != ConcernStatus.ACTIONED:
            for booking in wants_updates_about(concern):
                queue_notification(
                    kind=Notification.Kind.YOU_SAID_WE_DID,
                    booking=booking,
                    key=f"action:{action.pk}",
                )
    return action


def wants_updates_about(concern: Concern):
    """The women who came on the concern's walk and asked to hear what is done."""
    if concern.walk_id is None:
        return Booking.objects.none()
    return Booking.objects.filter(
        walk_id=concern.walk_id,
        status=Booking.Status.ATTENDED,
        anonymised_at=None,
        feedback__wants_updates=True,
    )


# --- The survey -----------------------------------------------------------------------------


def booking_for_feedback(token: str, now: datetime | None = None) -> Booking | None:
    """The booking a survey link opens: she came, the walk ended under 30 days ago, her data
    is still held. Anything else (a typo, a forged or old link) is None, and says no more."""
    if not token or len(token) > 128:
        return None
    cutoff = (now or timezone.now()) - timedelta(days=FEEDBACK_DAYS_AFTER_WALK)
    return (
        Booking.objects.filter(
            manage_token_hash=hash_token(token),
            status=Booking.Status.ATTENDED,
            anonymised_at=None,
            walk__ends_at__gt=cutoff,
        )
        .select_related("walk", "walk__borough")
        .first()
    )


@dataclass(frozen=True)
class SurveyAnswers:
    felt_safe_before: int
    felt_safe_after: int
    confidence_in_police_before: int
    confidence_in_police_after: int
    comments: str = ""
    wants_updates: bool = False


def submit_feedback(*, booking: Booking, answers: SurveyAnswers) -> Feedback:
    """Her one answer to the survey. A second answer is refused, not merged."""
    scores = [
        answers.felt_safe_before,
        answers.felt_safe_after,
        answers.confidence_in_police_before,
        answers.confidence_in_police_after,
    ]
    if any(score not in range(1, 6) for score in scores):
        raise ValidationError("Choose an answer from 1 to 5.", code="bad_score")
    if len(answers.comments) > 2000:
        raise ValidationError("Your comments are too long.", code="comments_too_long")
    if booking.status != Booking.Status.ATTENDED:
        raise ValidationError("The survey is for women who came on the walk.", code="not_attended")
    if Feedback.objects.filter(booking=booking).exists():
        raise ValidationError("We already have your answers.", code="already_answered")
    try:
        with transaction.atomic():
            return Feedback.objects.create(
                booking=booking,
                felt_safe_before=answers.felt_safe_before,
                felt_safe_after=answers.felt_safe_after,
                confidence_in_police_before=answers.confidence_in_police_before,
                confidence_in_police_after=answers.confidence_in_police_after,
                comments=answers.comments.strip(),
                wants_updates=answers.wants_updates,
            )
    except IntegrityError as error:
        # The one-to-one on booking: a second answer, perhaps from a double tap.
        raise ValidationError("We already have your answers.", code="already_answered") from error


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
