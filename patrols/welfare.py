"""The welfare check of a walk: its officers say when it started and that it finished with
everyone safe. A walk started and not marked safe in time raises an alert to its team; that
alert is the outbox's (bookings/welfare.py), which patrols does not import.

Officers tap the buttons on /staff/ from WELFARE_OPENS_BEFORE the walk's start until the end
of its London day; her inspector may mark it safe in the admin at any time. Tapping twice
changes nothing: the first time and person are kept."""

from datetime import datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Officer, Walk, WalkCheckIn
from .services import INSPECTORS, LONDON, is_walk_team

WELFARE_OPENS_BEFORE = timedelta(minutes=30)


def welfare_window(walk: Walk) -> tuple[datetime, datetime]:
    """When its officers may tap "started" and "finished": from WELFARE_OPENS_BEFORE its start
    until the London midnight that ends the day it ends on."""
    last_day = timezone.localdate(walk.ends_at, LONDON)
    closes = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=LONDON)
    return walk.starts_at - WELFARE_OPENS_BEFORE, closes


def is_welfare_open(walk: Walk, now: datetime) -> bool:
    opens, closes = welfare_window(walk)
    return walk.status != Walk.Status.CANCELLED and opens <= now < closes


def rostered_officer(*, user, walk: Walk) -> Officer | None:
    """Her active officer record, when she is rostered on the walk; else None."""
    return Officer.objects.filter(
        user=user, user__is_active=True, is_active=True, assignments__walk_id=walk.pk
    ).first()


def _check_open(walk: Walk, now: datetime) -> None:
    if not is_welfare_open(walk, now):
        raise ValidationError(
            "The walk's welfare check is open from 30 minutes before it starts until the end "
            "of its day.",
            code="welfare_closed",
        )


@transaction.atomic
def start_walk(*, walk: Walk, user, now: datetime | None = None) -> WalkCheckIn:
    """An officer rostered on the walk says it has started. The first tap counts: another (hers
    or a colleague's) returns the same record. PermissionDenied for anyone not on the walk."""
    now = now or timezone.now()
    officer = rostered_officer(user=user, walk=walk)
    if officer is None:
        raise PermissionDenied("Only an officer on this walk can say it has started.")
    _check_open(walk, now)
    try:
        with transaction.atomic():  # two taps at once: the second finds the first's row
            check_in, _ = WalkCheckIn.objects.get_or_create(
                walk=walk, defaults={"started_at": now, "started_by": officer}
            )
    except IntegrityError:
        check_in = WalkCheckIn.objects.get(walk=walk)
    return check_in


def can_mark_safe_any_time(user) -> bool:
    """Her inspector (or a superuser) may mark a walk safe after its day has ended too."""
    return user.is_superuser or user.groups.filter(name=INSPECTORS).exists()


@transaction.atomic
def finish_walk(*, walk: Walk, user, now: datetime | None = None) -> WalkCheckIn:
    """The walk is over and everyone is safe: said by an officer on it (on /staff/), or by
    her inspector (in the admin, "mark safe"). Once marked, a welfare alert not yet sent is
    not sent (bookings/welfare.py asks is_overdue before sending). The first mark counts.
    The row is locked so a mark and the sweep's check see one answer."""
    now = now or timezone.now()
    if not is_walk_team(user=user, walk=walk):
        raise PermissionDenied("Only the walk's officers and their inspector can mark it safe.")
    check_in = WalkCheckIn.objects.select_for_update().filter(walk=walk).first()
    if check_in is None:
        raise ValidationError(
            "No one has said this walk started, so there is nothing to mark safe.",
            code="walk_not_started",
        )
    if check_in.finished_at is not None:
        return check_in
    if not can_mark_safe_any_time(user):
        _check_open(walk, now)
    check_in.finished_at = max(now, check_in.started_at)
    check_in.finished_by = user
    check_in.save(update_fields=["finished_at", "finished_by"])
    return check_in
