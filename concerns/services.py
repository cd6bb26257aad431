"""Every write after the walk: the debrief, concerns, actions, the survey, "you said, we did"."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings import links
from bookings.models import Booking, Notification
from bookings.services import complete_walk, lock_walk, queue_notification
from patrols.models import Borough, Walk
from patrols.services import is_walk_team

from .messages import action_key
from .models import (
    WALK_INS_MAX,
    Concern,
    ConcernAction,
    ConcernStatus,
    Debrief,
    Feedback,
    Partner,
)

logger = logging.getLogger(__name__)

# Greater London's bounding box, with a little margin: a position outside it is a typo or a
# phone that has not found itself yet, never a place the Met walks.
LONDON_LAT = (Decimal("51.28"), Decimal("51.70"))
LONDON_LNG = (Decimal("-0.52"), Decimal("0.34"))
DESCRIPTION_MAX = 2000
NOTE_MAX = 2000
# How long after the walk her survey link works (its link's own validity, bookings/links.py).
FEEDBACK_DAYS_AFTER_WALK = links.LINK_DAYS_AFTER_WALK[links.SURVEY]

Attendance = dict[int, str]  # booking id -> Booking.Status.ATTENDED or NO_SHOW
ATTENDANCE_CHOICES = (Booking.Status.ATTENDED, Booking.Status.NO_SHOW)
# The bookings a debrief marks: everyone who held a place on the walk.
ON_THE_LIST = (Booking.Status.CONFIRMED, Booking.Status.ATTENDED, Booking.Status.NO_SHOW)


def in_london(lat: Decimal, lng: Decimal) -> bool:
    return LONDON_LAT[0] <= lat <= LONDON_LAT[1] and LONDON_LNG[0] <= lng <= LONDON_LNG[1]


# --- The debrief ----------------------------------------------------------------------------


def can_debrief(*, user: AbstractBaseUser, walk: Walk) -> bool:
    """The walk's team (patrols.services.is_walk_team): its officers and their inspectors."""
    return is_walk_team(user=user, walk=walk)


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
    times_unsafe: tuple[str, ...]  # one or more of Concern.TimeOfDay
    description: str
    lat: Decimal | None = None
    lng: Decimal | None = None


def _check_concern(new: NewConcern) -> None:
    if new.category not in Concern.Category.values:
        raise ValidationError("Choose a category.", code="bad_category")
    times = new.times_unsafe
    if not times or isinstance(times, str) or not set(times) <= set(Concern.TimeOfDay.values):
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
            times_unsafe=Concern.times_mask(concern.times_unsafe),
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
    walk_ins: int = 0,
) -> DebriefResult:
    """Save the register, the number of women who joined without booking (`walk_ins`, on the
    walk's `Debrief`) and the concerns together or not at all, mark the walk completed and
    queue the survey for the women who came. Run again the same day it adds concerns and
    corrects the register and the walk-ins; a survey already queued is never queued twice."""
    if not 0 <= walk_ins <= WALK_INS_MAX:
        raise ValidationError(
            f"The women who joined without booking must be from 0 to {WALK_INS_MAX}.",
            code="bad_walk_ins",
        )
    with transaction.atomic():
        # The walk row is the lock: two officers debriefing at once take turns.
        walk = lock_walk(walk)
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
            complete_walk(walk=walk)
        Debrief.objects.update_or_create(
            walk=walk, defaults={"walk_ins": walk_ins, "updated_at": timezone.now()}
        )

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


def _check_action(*, note: str, status: str, partner: str) -> str:
    """The action's shape, whoever records it; returns the note as kept."""
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
    return note


def _add_action(
    concern: Concern, *, note: str, status: str, partner: str, by: AbstractBaseUser | None
) -> ConcernAction:
    """Write the action on a concern its caller has locked, move the concern's status, and
    when it becomes actioned tell the women who walked there and asked to hear, once."""
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
                key=action_key(action),
            )
    return action


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
    note = _check_action(note=note, status=status, partner=partner)
    with transaction.atomic():
        concern = Concern.objects.select_for_update().visible_to(by).filter(pk=concern.pk).first()
        if concern is None:
            raise PermissionDenied("This concern is in another BCU.")
        return _add_action(concern, note=note, status=status, partner=partner, by=by)


def record_partner_action(
    *, concern: Concern, note: str, status: str, partner: str
) -> ConcernAction:
    """A partner's answer to a referral, as an action with no staff member behind it: the
    partner has no account, and the private link it answered through (partners/services.py)
    is the authority. Otherwise as record_action, women told included."""
    note = _check_action(note=note, status=status, partner=partner)
    with transaction.atomic():
        concern = Concern.objects.select_for_update().get(pk=concern.pk)
        return _add_action(concern, note=note, status=status, partner=partner, by=None)


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
    is still held. Anything else (a typo, a forged or old link, her manage link) is None, and
    says no more."""
    return (
        Booking.objects.filter(
            links.opens(token, links.SURVEY, now), status=Booking.Status.ATTENDED
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
