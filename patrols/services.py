"""The roster: who walks which walk. A walk itself is created, moved, cancelled and completed by
the walk lifecycle in bookings.services, which calls these to keep the roster in step."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .models import Officer, RosterAssignment, Unavailability, Walk, is_visible_to

LONDON = ZoneInfo("Europe/London")
INSPECTORS = "Inspectors"  # the group of the inspectors who plan their BCU's walks
EXCLUSION_CONSTRAINT = "roster_officer_no_overlapping_walks"


def is_walk_team(*, user, walk: Walk) -> bool:
    """The officers rostered on the walk, and the inspectors of its BCU (or of all London):
    the people who walk it or answer for it. They read its briefing (what each woman asked
    for) and debrief it; an officer of the BCU who is not on the walk has no need to."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if not is_visible_to(walk, user):  # another BCU's walk, or no officer record
        return False
    if user.groups.filter(name=INSPECTORS).exists():
        return True
    return walk.roster.filter(officer__user=user, officer__is_active=True).exists()


def overlapping_assignments(*, officer: Officer, starts_at: datetime, ends_at: datetime):
    """Her assignments on other walks whose times overlap [starts_at, ends_at)."""
    return (
        RosterAssignment.objects.filter(officer=officer)
        .overlapping(starts_at, ends_at)
        .select_related("walk")
    )


def rostered_during(period: Unavailability):
    """Her assignments on scheduled walks that overlap a period she cannot walk: recorded
    after she was rostered, so someone must find another officer for them."""
    return (
        overlapping_assignments(
            officer=period.officer, starts_at=period.starts_at, ends_at=period.ends_at
        )
        .filter(walk__status=Walk.Status.SCHEDULED)
        .order_by("starts_at")
    )


def check_can_walk(*, walk: Walk, officer: Officer) -> None:
    """The rules for putting one officer on one walk (the walk's times as they are now)."""
    if not officer.is_active:
        raise ValidationError(f"{officer.name} is not active.", code="officer_inactive")
    if officer.bcu_id != walk.bcu_id:
        raise ValidationError(
            f"{officer.name} works in another BCU: roster officers of {walk.bcu} only.",
            code="officer_other_bcu",
        )
    if walk.status == Walk.Status.CANCELLED:
        raise ValidationError("This walk is cancelled.", code="walk_cancelled")
    check_free(officer=officer, walk=walk)


def check_free(*, officer: Officer, walk: Walk) -> None:
    """She is free for the walk's times (as `walk` holds them, saved or not): never on two
    walks at once, so on no walk but this one whose times overlap, and not recorded as unable
    to walk then (leave, training, court). Refused naming the other walk or the period. The
    one check behind rostering (check_can_walk) and moving a walk (move_roster)."""
    away = (
        Unavailability.objects.filter(officer=officer)
        .overlapping(walk.starts_at, walk.ends_at)
        .order_by("starts_at")
        .first()
    )
    if away is not None:
        raise ValidationError(
            f"{officer.name} cannot walk at that time: {away.get_reason_display().lower()}, "
            f"{away.period()}.",
            code="officer_unavailable",
        )
    clash = (
        overlapping_assignments(officer=officer, starts_at=walk.starts_at, ends_at=walk.ends_at)
        .exclude(walk_id=walk.pk)
        .first()
    )
    if clash is not None:
        raise ValidationError(
            f"{officer.name} is already on another walk at that time: {clash.walk}.",
            code="officer_overlap",
        )


def _save_assignment(assignment: RosterAssignment) -> None:
    """Save in a savepoint, so the database's own refusal becomes a ValidationError."""
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError as error:
        if EXCLUSION_CONSTRAINT in str(error):
            raise ValidationError(
                f"{assignment.officer.name} is already on another walk at that time.",
                code="officer_overlap",
            ) from error
        if "officer_once_per_walk" in str(error):
            raise ValidationError(
                f"{assignment.officer.name} is already on this walk.", code="officer_twice"
            ) from error
        raise


@transaction.atomic
def roster_officer(
    *, walk: Walk, officer: Officer, role: str = RosterAssignment.Role.OFFICER
) -> RosterAssignment:
    """Put an officer on a walk: only in her BCU, only while active, never on two walks at once.
    The officer's row is locked so two inspectors cannot double-book her at the same moment."""
    officer = Officer.objects.select_for_update(no_key=True).get(pk=officer.pk)
    walk = Walk.objects.select_related("bcu").get(pk=walk.pk)
    if RosterAssignment.objects.filter(walk=walk, officer=officer).exists():
        raise ValidationError(f"{officer.name} is already on this walk.", code="officer_twice")
    check_can_walk(walk=walk, officer=officer)
    assignment = RosterAssignment(
        walk=walk, officer=officer, role=role, starts_at=walk.starts_at, ends_at=walk.ends_at
    )
    _save_assignment(assignment)
    return assignment


@transaction.atomic
def change_assignment(
    *, assignment: RosterAssignment, officer: Officer | None = None, role: str | None = None
) -> RosterAssignment:
    """Change who fills a place on a walk's roster, or her role on it."""
    assignment = RosterAssignment.objects.select_for_update().get(pk=assignment.pk)
    if officer is not None and officer.pk != assignment.officer_id:
        walk = assignment.walk
        assignment.delete()
        return roster_officer(walk=walk, officer=officer, role=role or assignment.role)
    if role is not None and role != assignment.role:
        assignment.role = role
        assignment.save(update_fields=["role"])
    return assignment


@transaction.atomic
def unroster_officer(*, assignment: RosterAssignment) -> None:
    RosterAssignment.objects.filter(pk=assignment.pk).delete()


@transaction.atomic
def unroster_walk(*, walk: Walk) -> int:
    """Take every officer off a walk that will not take place, so each is free for another walk
    at that time. Returns how many were taken off."""
    deleted, _ = RosterAssignment.objects.filter(walk_id=walk.pk).delete()
    return deleted


@transaction.atomic
def move_roster(*, walk: Walk) -> None:
    """The roster follows its walk to new times: each assignment's copy of the times (which
    PostgreSQL's exclusion constraint reads) becomes the walk's, as `walk` holds them now.

    The rule is roster_officer's: never on two walks at once. An officer who would be is not
    moved; the whole move is refused, naming her and the other walk, and nothing changes. Her
    row is locked first, as roster_officer locks it, so no inspector can roster her elsewhere at
    the new time while the walk moves."""
    assignments = list(
        RosterAssignment.objects.filter(walk_id=walk.pk).select_related("officer").order_by("pk")
    )
    if not assignments:
        return
    officer_ids = sorted(assignment.officer_id for assignment in assignments)
    list(Officer.objects.select_for_update(no_key=True).filter(pk__in=officer_ids).order_by("pk"))
    for assignment in assignments:
        check_free(officer=assignment.officer, walk=walk)
    try:
        with transaction.atomic():
            RosterAssignment.objects.filter(walk_id=walk.pk).update(
                starts_at=walk.starts_at, ends_at=walk.ends_at
            )
    except IntegrityError as error:
        if EXCLUSION_CONSTRAINT in str(error):
            raise ValidationError(
                "An officer on this walk would be on two walks at once.", code="officer_overlap"
            ) from error
        raise


def same_local_time_weeks_later(moment: datetime, weeks: int) -> datetime:
    """The same wall-clock time in London `weeks` later: 18:30 stays 18:30 across the clock
    change, which is a different number of hours away."""
    local = moment.astimezone(LONDON).replace(tzinfo=None)
    return (local + timedelta(weeks=weeks)).replace(tzinfo=LONDON)
