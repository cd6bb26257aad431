"""Every write about partners: referring a concern to one, and the partner's answer through
its private link. Each also writes an action on the concern through concerns' own services,
so the concern's history, its status and "you said, we did" have one owner."""

from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from bookings.models import Notification
from bookings.services import queue_bcu_notification
from concerns.models import Concern, ConcernStatus
from concerns.services import NOTE_MAX, record_action, record_partner_action

from .messages import referral_key
from .models import ANSWERABLE, CONCERN_SETTLED, DefaultPartner, Partner, Referral, reminder_delay

WILL_FIX, FIXED, NOT_OURS = "will_fix", "fixed", "not_ours"
ANSWERS = (WILL_FIX, FIXED, NOT_OURS)


def partners_for(concern: Concern):
    """The partners a concern may be referred to: active, serving its borough."""
    return Partner.objects.filter(is_active=True, boroughs=concern.borough_id).order_by("name")


def default_partner(concern: Concern) -> Partner | None:
    """The partner proposed for a concern: the default for its borough and category, if that
    partner still takes referrals there."""
    default = (
        DefaultPartner.objects.filter(borough_id=concern.borough_id, category=concern.category)
        .select_related("partner")
        .first()
    )
    if default is None or not partners_for(concern).filter(pk=default.partner_id).exists():
        return None
    return default.partner


def refer_concern(*, concern: Concern, partner: Partner, by: AbstractBaseUser) -> Referral:
    """Send a concern to a partner: the referral, an action on the concern ("referred"), the
    email with the partner's private link, and the reminder that goes if no answer comes
    within PARTNER_REMINDER_DAYS. Asked twice (a double click, two inspectors), the concern's
    lock makes the second find the first: one referral, one email."""
    now = timezone.now()
    with transaction.atomic():
        locked = Concern.objects.select_for_update().visible_to(by).filter(pk=concern.pk).first()
        if locked is None:
            raise PermissionDenied("This concern is in another BCU.")
        if locked.status in CONCERN_SETTLED:
            raise ValidationError("This concern is closed.", code="closed")
        partner = (
            partners_for(locked).visible_to(by).filter(pk=getattr(partner, "pk", None)).first()
        )
        if partner is None:
            raise ValidationError(
                f"Choose a partner that serves {locked.borough}.", code="wrong_partner"
            )
        current = Referral.objects.filter(concern=locked, status__in=ANSWERABLE).first()
        if current is not None:
            if current.partner_id == partner.pk:
                return current
            raise ValidationError(
                f"This concern is already with {current.partner}: wait for their answer.",
                code="already_referred",
            )
        referral = Referral.objects.create(
            concern=locked, partner=partner, referred_by=by, referred_at=now
        )
        record_action(
            concern=locked,
            note=f"Referred to {partner.name} (reference {referral.reference}).",
            status=ConcernStatus.REFERRED,
            partner=partner.kind,
            by=by,
        )
        queue_referral_emails(referral, referred_at=now)
    return referral


def queue_referral_emails(referral: Referral, *, referred_at: datetime) -> None:
    """The referral's email, and the reminder that goes if no answer comes within
    PARTNER_REMINDER_DAYS (dropped as stale once it is answered)."""
    _queue(referral, Notification.Kind.PARTNER_REFERRAL, due_at=referred_at)
    _queue(referral, Notification.Kind.PARTNER_REMINDER, due_at=referred_at + reminder_delay())


def _queue(referral: Referral, kind: str, *, due_at: datetime) -> None:
    """One outbox row to the referral's partner, through its BCU's row (bookings' outbox
    knows no partner): unique on (BCU, kind, key), so never two of one kind per referral."""
    queue_bcu_notification(
        bcu_id=referral.concern.bcu_id, kind=kind, key=referral_key(referral), due_at=due_at
    )


def _words(day: date) -> str:
    return date_format(day, "j F Y")


def answer_referral(
    *,
    referral: Referral,
    answer: str,
    fix_by: date | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Referral:
    """The partner's answer through its link: WILL_FIX by a day, FIXED, or NOT_OURS (with who
    is, in the note), each written as an action on the concern. Fixed, the concern is
    actioned and the women who asked to hear are told; not ours, it goes back to the
    inspector (the referral is "returned", the concern open again). Refused once the link
    has expired, the concern is closed, or the referral is settled."""
    now = now or timezone.now()
    note = note.strip()
    if answer not in ANSWERS:
        raise ValidationError("Choose an answer.", code="bad_answer")
    if len(note) > NOTE_MAX:
        raise ValidationError("The note is too long.", code="note_too_long")
    if answer == WILL_FIX and fix_by is None:
        raise ValidationError("Enter the date you will fix it by.", code="no_date")
    if answer == WILL_FIX and fix_by < timezone.localdate(now):
        raise ValidationError("The date must be today or later.", code="date_past")
    if answer == NOT_OURS and not note:
        raise ValidationError("Say who is responsible, if you know.", code="no_note")
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("partner", "concern")
            .get(pk=referral.pk)
        )
        if referral.expires_at() <= now:
            raise ValidationError("This link has expired.", code="expired")
        if referral.concern.status in CONCERN_SETTLED:
            raise ValidationError("This concern is closed.", code="closed")
        if not referral.is_answerable:
            raise ValidationError("You have already answered.", code="answered")
        team = referral.partner.name
        more = f" {note}" if note else ""
        if answer == WILL_FIX:
            status, fields = Referral.Status.WILL_FIX, {"fix_by": fix_by}
            words = f"{team} will fix it by {_words(fix_by)}.{more}"
            concern_status = ConcernStatus.REFERRED
        elif answer == FIXED:
            status, fields = Referral.Status.FIXED, {"fixed_at": now}
            words, concern_status = f"Fixed by {team}.{more}", ConcernStatus.ACTIONED
        else:
            status, fields = Referral.Status.RETURNED, {}
            words = f"{team} says it is not theirs to fix: {note}"
            concern_status = ConcernStatus.OPEN
        fields.update(status=status, note=note, answered_at=referral.answered_at or now)
        for name, value in fields.items():
            setattr(referral, name, value)
        referral.save(update_fields=list(fields))
        record_partner_action(
            concern=referral.concern,
            note=words,
            status=concern_status,
            partner=referral.partner.kind,
        )
    return referral
