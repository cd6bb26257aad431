"""Every write on the police side: who walks which walk, and weekly repeats of walks."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .models import Officer, RosterAssignment, Walk

LONDON = ZoneInfo("Europe/London")
EXCLUSION_CONSTRAINT = "roster_officer_no_overlapping_walks"
MAX_REPEAT_WEEKS = 26


def overlapping_assignments(*, officer: Officer, starts_at: datetime, ends_at: datetime):
    """Her assignments on other walks whose times overlap [starts_at, ends_at)."""
    return RosterAssignment.objects.filter(
        officer=officer, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).select_related("walk")


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
    officer = Officer.objects.select_for_update().get(pk=officer.pk)
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


def same_local_time_weeks_later(moment: datetime, weeks: int) -> datetime:
    """The same wall-clock time in London `weeks` later: 18:30 stays 18:30 across the clock
    change, which is a different number of hours away."""
    local = moment.astimezone(LONDON).replace(tzinfo=None)
    return (local + timedelta(weeks=weeks)).replace(tzinfo=LONDON)


@transaction.atomic
def repeat_walk_weekly(*, walk: Walk, weeks: int) -> list[Walk]:
    """Copy a walk forward 1..weeks weeks at the same local time, with its roster where the
    officers are free. A week that already has the same walk is skipped, so repeating twice
    does not double the walks."""
    if not 1 <= weeks <= MAX_REPEAT_WEEKS:
        raise ValidationError(
            f"Repeat for between 1 and {MAX_REPEAT_WEEKS} weeks.", code="repeat_weeks"
        )
    if walk.kind != Walk.Kind.GROUP:
        raise ValidationError(
            "Only group walks repeat; a walk on her route is for one woman.", code="repeat_route"
        )
    roster = list(walk.roster.select_related("officer"))
    copies = []
    for week in range(1, weeks + 1):
        starts_at = same_local_time_weeks_later(walk.starts_at, week)
        duplicate = Walk.objects.filter(
            borough=walk.borough_id,
            starts_at=starts_at,
            meeting_point=walk.meeting_point,
            kind=walk.kind,
        ).exclude(status=Walk.Status.CANCELLED)
        if duplicate.exists():
            continue
        copy = Walk.objects.create(
            bcu_id=walk.bcu_id,
            borough_id=walk.borough_id,
            title=walk.title,
            meeting_point=walk.meeting_point,
            meeting_lat=walk.meeting_lat,
            meeting_lng=walk.meeting_lng,
            route_notes=walk.route_notes,
            starts_at=starts_at,
            ends_at=starts_at + walk.duration,
            capacity=walk.capacity,
            kind=walk.kind,
        )
        for assignment in roster:
            try:
                with transaction.atomic():
                    roster_officer(walk=copy, officer=assignment.officer, role=assignment.role)
            except ValidationError:
                pass  # she is busy or has left: the copy shows as understaffed instead
        copies.append(copy)
    return copies
