"""The police side: BCUs and boroughs, officers, walks and who walks them."""

import math
import operator
import uuid
from datetime import datetime, timedelta
from functools import reduce

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import models
from django.db.models import Count, Exists, F, FloatField, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Cast, Coalesce, Power, Sqrt
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

# --- Who sees which rows ---------------------------------------------------------------------
#
# Staff see the rows of their BCU. Two things decide it, each in one place:
# - where a row belongs: each scoped model declares the lookup from itself to its BCU once, as
#   `bcu_path` ("bcu", "walk__bcu"...; a tuple when a row can belong by either of two routes);
# - where a person works: bcu_scope(user), below the models.
# BCUScopedQuerySet.visible_to(user) puts the two together for querysets, is_visible_to(obj,
# user) for a row already loaded. The admin, the staff pages, the debrief, the actions and the
# reports all ask these, so no screen re-derives "which BCU may she see".


class BCUScopedQuerySet(models.QuerySet):
    """The queryset of a model whose rows belong to a BCU (the model's `bcu_path`)."""

    def in_bcu(self, bcu):
        """Rows of one BCU; None means all of London."""
        return self if bcu is None else self.filter(bcu_q(self.model, bcu))

    def visible_to(self, user):
        """The rows `user` may see: her BCU's, all of London's, or none (no officer record).
        One query at most per request for the scope (bcu_scope keeps it), none per row."""
        return rows_visible_to(self, user)


def bcu_paths(model) -> tuple[str, ...]:
    """The lookups from `model` to its BCU as declared by the model; () when it has none."""
    declared = getattr(model, "bcu_path", None)
    if declared is None and model._meta.label == settings.AUTH_USER_MODEL:
        declared = "officer__bcu"  # a login account works where its officer record says
    if declared is None:
        return ()
    return (declared,) if isinstance(declared, str) else tuple(declared)


def bcu_q(model, bcu) -> Q:
    """The condition "this row belongs to `bcu`" (a BCU or its id), by the model's declared
    path(s)."""
    bcu_id = getattr(bcu, "pk", bcu)
    return reduce(operator.or_, (Q(**{path: bcu_id}) for path in bcu_paths(model)))


def rows_visible_to(queryset, user):
    """The rows of any queryset `user` may see: all of them when its model is not scoped by
    BCU. BCUScopedQuerySet.visible_to is this; it also serves querysets of models this app
    does not own (login accounts in the admin's choices)."""
    if not bcu_paths(queryset.model):
        return queryset
    try:
        scope = bcu_scope(user)
    except PermissionDenied:
        return queryset.none()
    return queryset if scope is None else queryset.filter(bcu_q(queryset.model, scope))


def bcu_id_of(obj) -> int | None:
    """The id of the BCU a loaded row belongs to, following its declared path(s) (None when a
    link is missing). May read a related row, as following the relation would."""
    for path in bcu_paths(type(obj)):
        *hops, last = path.split("__")
        if not hops and last == "pk":
            return obj.pk
        row = obj
        try:
            for hop in hops:
                row = getattr(row, hop)
                if row is None:
                    break
            else:
                return getattr(row, f"{last}_id")
        except ObjectDoesNotExist:
            continue
    return None


def is_visible_to(obj, user) -> bool:
    """visible_to for one row already loaded: may `user` see `obj`? No query for the scope
    once bcu_scope has been asked in this request."""
    if not bcu_paths(type(obj)):
        return True
    try:
        scope = bcu_scope(user)
    except PermissionDenied:
        return False
    return scope is None or bcu_id_of(obj) == scope.pk


class BCU(models.Model):
    """A Borough Command Unit: the Met's local policing area, one to four boroughs."""

    bcu_path = "pk"

    code = models.CharField(max_length=8, unique=True, help_text="The Met's code, such as AS.")
    name = models.CharField(max_length=100, unique=True)

    objects = BCUScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "BCU"
        verbose_name_plural = "BCUs"

    def __str__(self) -> str:
        return self.name


class Borough(models.Model):
    bcu_path = "bcu"

    bcu = models.ForeignKey(BCU, on_delete=models.PROTECT, related_name="boroughs")
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    objects = BCUScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# How far back "who has walked least lately" looks, from the walk being staffed.
RECENT_WALKS_WINDOW = timedelta(days=28)


class OfficerQuerySet(BCUScopedQuerySet):
    def with_availability(self, walk: "Walk"):
        """Annotate each officer, for the walk's times: `is_away` (a period she cannot walk
        overlaps it), `away` (that period's reason) and `elsewhere` (rostered on another walk
        that overlaps it). The same two tests as check_free, in SQL: one query for a list."""
        away = Unavailability.objects.filter(officer=OuterRef("pk")).overlapping(
            walk.starts_at, walk.ends_at
        )
        elsewhere = (
            RosterAssignment.objects.filter(officer=OuterRef("pk"))
            .overlapping(walk.starts_at, walk.ends_at)
            .exclude(walk_id=walk.pk)
        )
        return self.annotate(
            away=Subquery(away.order_by("starts_at").values("reason")[:1]),
            is_away=Exists(away),
            elsewhere=Exists(elsewhere),
        )

    def free_first(self, walk: "Walk"):
        """Officers ordered for the walk's roster: those free at its time first, then those on
        another walk then, then those unable to walk then, each by name. The roster service
        (check_free) still refuses the busy ones: this only puts them last and says why."""
        return self.with_availability(walk).order_by("is_away", "elsewhere", "name", "pk")

    def suggested_for(self, walk: "Walk"):
        """The officers to suggest for a walk: active, of its BCU, free at its time (check_free's
        two tests), not on it already; those who walked least in the RECENT_WALKS_WINDOW before
        it first (`recent_walks`: walks she was rostered on that were not called off), then by
        name. One query, however many officers."""
        recent = (
            RosterAssignment.objects.filter(
                officer=OuterRef("pk"),
                starts_at__gte=walk.starts_at - RECENT_WALKS_WINDOW,
                starts_at__lt=walk.starts_at,
            )
            .exclude(walk__status=Walk.Status.CANCELLED)
            .order_by()
            .values("officer")
            .annotate(n=Count("*"))
            .values("n")
        )
        return (
            self.filter(is_active=True, bcu_id=walk.bcu_id)
            .exclude(assignments__walk_id=walk.pk)
            .with_availability(walk)
            .filter(is_away=False, elsewhere=False)
            .annotate(recent_walks=Coalesce(Subquery(recent, output_field=IntegerField()), 0))
            .order_by("recent_walks", "name", "pk")
        )


class Officer(models.Model):
    bcu_path = "bcu"

    class Rank(models.TextChoices):
        PC = "PC", "Police Constable"
        PS = "PS", "Police Sergeant"
        INSPECTOR = "Insp", "Inspector"
        CHIEF_INSPECTOR = "CI", "Chief Inspector"
        SUPERINTENDENT = "Supt", "Superintendent"
        CHIEF_SUPERINTENDENT = "ChSupt", "Chief Superintendent"
        COMMANDER = "Cdr", "Commander"
        STAFF = "Staff", "Police staff"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="officer",
    )
    collar_number = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=100)
    rank = models.CharField(max_length=8, choices=Rank.choices, default=Rank.PC)
    bcu = models.ForeignKey(
        BCU,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="officers",
        help_text="Empty for pan-London staff (a commander who sees all of London).",
    )
    is_active = models.BooleanField(default=True)
    # Her calendar feed (patrols/calendar.py): the nonce its secret is made from, and a hash of
    # that secret, the only way the feed finds her. Both empty until she asks for a link;
    # resetting the link makes a new nonce, so the old address opens nothing.
    calendar_nonce = models.CharField(max_length=32, blank=True, default="", editable=False)
    calendar_token_hash = models.CharField(
        max_length=64, null=True, blank=True, unique=True, editable=False
    )

    objects = OfficerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.get_rank_display()} {self.name} ({self.collar_number})"


# One degree of latitude (and of longitude at the equator), in km.
KM_PER_DEGREE = 111.195


class WalkQuerySet(BCUScopedQuerySet):
    def upcoming(self, now: datetime | None = None):
        return self.filter(starts_at__gt=now or timezone.now())

    def past(self, now: datetime | None = None):
        return self.filter(starts_at__lte=now or timezone.now())

    def welfare_overdue(self, now: datetime):
        """Walks started (WalkCheckIn) and not marked safe WELFARE_CHECK_AFTER after their
        planned end: their team must be alerted (bookings/welfare.py)."""
        return self.filter(
            check_in__started_at__isnull=False,
            check_in__finished_at=None,
            ends_at__lte=now - settings.WELFARE_CHECK_AFTER,
        )

    def bookable(self):
        """Scheduled group walks: the ones the public list offers (combine with upcoming())."""
        return self.filter(status=Walk.Status.SCHEDULED, kind=Walk.Kind.GROUP)

    def with_counts(self):
        """Annotate `booked` (confirmed places), `waitlisted` and `officer_count`.

        Each is a subquery per walk, not a join grouped over every walk: PostgreSQL counts only
        the rows it returns (the 20 of a page, not all 1,000 upcoming walks), and a paginator's
        COUNT leaves them out altogether (docs/benchmarks.md, Pages)."""
        return self.annotate(
            booked=_count_of("bookings", status__in=["confirmed", "attended"]),
            waitlisted=_count_of("bookings", status="waitlisted"),
            officer_count=_count_of("roster"),
        )

    def nearest_to(self, lat: float, lng: float):
        """Annotate `distance_km` from (lat, lng) to each walk's meeting point (None when the
        walk has no position) and order nearest first, walks without a position last, then
        soonest. Computed by PostgreSQL, so a page of the list is the right page: an
        equirectangular approximation, within a few metres across London."""
        scale = math.cos(math.radians(lat))
        lat_km = (Cast("meeting_lat", FloatField()) - lat) * KM_PER_DEGREE
        lng_km = (Cast("meeting_lng", FloatField()) - lng) * (KM_PER_DEGREE * scale)
        distance = Sqrt(Power(lat_km, 2) + Power(lng_km, 2))
        return self.annotate(distance_km=distance).order_by(
            F("distance_km").asc(nulls_last=True), "starts_at", "pk"
        )


def _count_of(related_name: str, **filters):
    """How many rows of a walk's reverse relation match, as a subquery (0 when none). The model
    is found through the relation: patrols does not import bookings."""
    related = Walk._meta.get_field(related_name).related_model
    rows = (
        related.objects.filter(walk=OuterRef("pk"), **filters)
        .order_by()
        .values("walk")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


class Walk(models.Model):
    bcu_path = "bcu"

    class Kind(models.TextChoices):
        GROUP = "group", "Group walk"
        ROUTE = "route", "Walk on her route"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"
        COMPLETED = "completed", "Completed"

    # On a walk on her own route (kind ROUTE) only, her personal data, and what each field
    # holds once anonymised (read by privacy/services.py, from the walk and its history): the
    # inspector types the meeting point from her request ("outside her flat, 12 Acacia
    # Avenue"), and the notes are her route in her words. A group walk's meeting point is the
    # police's own, published on the site: it is not hers and is kept.
    PERSONAL_DATA = {
        "meeting_point": "Removed after the retention period",
        "meeting_lat": None,
        "meeting_lng": None,
        "route_notes": "",
    }

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    bcu = models.ForeignKey(BCU, on_delete=models.PROTECT, related_name="walks", verbose_name="BCU")
    borough = models.ForeignKey(Borough, on_delete=models.PROTECT, related_name="walks")
    title = models.CharField(max_length=120)
    meeting_point = models.CharField(max_length=200)
    meeting_lat = models.DecimalField(max_digits=8, decimal_places=6, null=True, blank=True)
    meeting_lng = models.DecimalField(max_digits=8, decimal_places=6, null=True, blank=True)
    route_notes = models.TextField(blank=True)
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    capacity = models.PositiveSmallIntegerField(default=8)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.GROUP)
    cancel_reason = models.TextField(blank=True)
    # How many times the walk's time or place has changed, or it was called off: the calendar
    # files in her emails count it into their SEQUENCE (bookings/ics.py), so a file written
    # after a change always replaces the one before. Raised only by the walk lifecycle
    # (bookings.services.change_walk, cancel_walk).
    sequence = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = WalkQuerySet.as_manager()
    # Audit: who changed what, when. A route walk's notes are her own words about her route:
    # not copied into history (the purge clears them from the walk itself).
    history = HistoricalRecords(excluded_fields=["route_notes"])

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="walk_ends_after_it_starts"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="walk_capacity_at_least_one"),
        ]
        indexes = [
            models.Index(fields=["bcu", "starts_at"]),
            models.Index(fields=["status", "starts_at"]),
        ]

    def __str__(self) -> str:
        local = timezone.localtime(self.starts_at)
        return f"{self.title}, {local:%a %d %b %Y %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("website:walk_detail", args=[self.code])

    @property
    def duration(self):
        return self.ends_at - self.starts_at

    def confirmed_count(self) -> int:
        if hasattr(self, "booked"):
            return self.booked
        return self.bookings.filter(status__in=["confirmed", "attended"]).count()

    def places_left(self) -> int:
        return max(self.capacity - self.confirmed_count(), 0)

    def has_started(self, now: datetime | None = None) -> bool:
        return self.starts_at <= (now or timezone.now())

    def is_on_the_day(self, now: datetime | None = None) -> bool:
        """Is it the day of the walk, London time? Only then do her officers see the names and
        phone numbers of the women booked (on /staff/ and the briefing), when they may need to
        find them or call; before, they see what each asked for, not who she is."""
        return timezone.localdate(self.starts_at) == timezone.localdate(now or timezone.now())

    def is_bookable(self, now: datetime | None = None) -> bool:
        return (
            self.status == self.Status.SCHEDULED
            and self.kind == self.Kind.GROUP
            and not self.has_started(now)
        )

    def welfare_check(self) -> "WalkCheckIn | None":
        """Its welfare check (started, marked safe), or None before anyone started it."""
        return getattr(self, "check_in", None)  # a missing one-to-one is an AttributeError

    def is_welfare_overdue(self, now: datetime | None = None) -> bool:
        """Started, not marked safe, WELFARE_CHECK_AFTER past its planned end (WalkCheckIn)."""
        check_in = self.welfare_check()
        return check_in is not None and check_in.is_overdue(now)

    def officers_needed(self) -> int:
        """How many more officers the walk needs (from with_counts() when annotated): none once
        it is cancelled or held, whatever its roster was."""
        if self.status != self.Status.SCHEDULED:
            return 0
        count = self.officer_count if hasattr(self, "officer_count") else self.roster.count()
        return max(settings.WALK_MIN_OFFICERS - count, 0)


class RosterAssignmentQuerySet(BCUScopedQuerySet):
    def overlapping(self, starts_at: datetime, ends_at: datetime):
        """Assignments whose times overlap [starts_at, ends_at): a walk that ends as another
        starts does not."""
        return self.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)


class RosterAssignment(models.Model):
    """An officer on a walk. starts_at/ends_at copy the walk's so PostgreSQL can refuse overlaps
    (an exclusion constraint sees one table); the roster service keeps them in step."""

    class Role(models.TextChoices):
        LEAD = "lead", "Lead officer"
        OFFICER = "officer", "Officer"

    bcu_path = "walk__bcu"

    walk = models.ForeignKey(Walk, on_delete=models.CASCADE, related_name="roster")
    officer = models.ForeignKey(Officer, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.OFFICER)
    starts_at = models.DateTimeField(editable=False)
    ends_at = models.DateTimeField(editable=False)

    objects = RosterAssignmentQuerySet.as_manager()
    history = HistoricalRecords()  # audit: who rostered or removed whom, when

    class Meta:
        ordering = ["walk__starts_at", "role", "officer__name"]
        constraints = [
            models.UniqueConstraint(fields=["walk", "officer"], name="officer_once_per_walk"),
        ]

    def __str__(self) -> str:
        return f"{self.officer} on {self.walk}"


_SCOPE = "_bcu_scope"  # where bcu_scope keeps its answer on the user object
_NOWHERE = object()  # that answer for staff with no active officer record


def bcu_scope(user) -> BCU | None:
    """The BCU a staff member works in, which scopes everything she sees: None means all of
    London (superusers, and pan-London staff such as a commander whose officer record has no
    BCU). Staff with no active officer record see nothing: PermissionDenied.

    The one place this is decided. The answer is kept on the user object, as Django keeps her
    permissions there, so a page that scopes many querysets asks the database once."""
    if not user.is_authenticated:
        raise PermissionDenied("Not signed in.")
    if not hasattr(user, _SCOPE):
        if user.is_superuser:
            scope = None
        else:
            officer = Officer.objects.filter(user=user, is_active=True).select_related("bcu")
            officer = officer.first()
            scope = _NOWHERE if officer is None else officer.bcu
        setattr(user, _SCOPE, scope)
    scope = getattr(user, _SCOPE)
    if scope is _NOWHERE:
        raise PermissionDenied("No active officer record for this account.")
    return scope


class UnavailabilityQuerySet(BCUScopedQuerySet):
    def overlapping(self, starts_at: datetime, ends_at: datetime):
        """Periods that overlap [starts_at, ends_at): one that ends as a walk starts does not.
        Plain comparisons, so PostgreSQL uses the (officer, starts_at) index."""
        return self.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)


class Unavailability(models.Model):
    """A period when an officer cannot walk (leave, training, court), recorded by her inspector.
    The roster refuses her for any walk that overlaps it (patrols.services.check_free). No free
    text: the reason is a choice, so nothing personal about her is written here."""

    bcu_path = "officer__bcu"

    class Reason(models.TextChoices):
        LEAVE = "leave", "Leave"
        TRAINING = "training", "Training"
        COURT = "court", "Court"
        OTHER = "other", "Other duties"

    officer = models.ForeignKey(Officer, on_delete=models.CASCADE, related_name="unavailability")
    starts_at = models.DateTimeField(help_text="London time.")
    ends_at = models.DateTimeField(help_text="London time.")
    reason = models.CharField(max_length=10, choices=Reason.choices, default=Reason.LEAVE)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = UnavailabilityQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        verbose_name = "time she cannot walk"
        verbose_name_plural = "times she cannot walk"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="unavailability_ends_after_it_starts",
                violation_error_message="The period must end after it starts.",
            ),
        ]
        indexes = [models.Index(fields=["officer", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}, {self.period()}"

    def period(self) -> str:
        """The period in London time, as an inspector reads it: "Mon 07 Dec 2026 09:00 to Fri
        11 Dec 2026 17:00"."""
        starts, ends = timezone.localtime(self.starts_at), timezone.localtime(self.ends_at)
        return f"{starts:%a %d %b %Y %H:%M} to {ends:%a %d %b %Y %H:%M}"


class WalkCheckIn(models.Model):
    """The welfare check of an evening walk: an officer on it taps "Walk started", and later
    "Walk finished, all safe" (or her inspector marks it safe). A walk started and not marked
    safe WELFARE_CHECK_AFTER after its planned end is overdue: its team is alerted
    (bookings/welfare.py). Written only by patrols.services.start_walk and finish_walk."""

    bcu_path = "walk__bcu"

    walk = models.OneToOneField(Walk, on_delete=models.CASCADE, related_name="check_in")
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(
        Officer, on_delete=models.PROTECT, related_name="walks_started", editable=False
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    # Whoever marked it safe: an officer on the walk, or her inspector in the admin.
    finished_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    objects = BCUScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "welfare check"
        constraints = [
            models.CheckConstraint(
                condition=Q(finished_at=None) | Q(finished_at__gte=F("started_at")),
                name="walk_check_in_finished_after_started",
            ),
        ]

    def __str__(self) -> str:
        return f"Welfare check of {self.walk}"

    def due_at(self) -> datetime:
        """When the walk is overdue if nobody has marked it safe."""
        return self.walk.ends_at + settings.WELFARE_CHECK_AFTER

    def is_overdue(self, now: datetime | None = None) -> bool:
        """Started, not marked safe, and WELFARE_CHECK_AFTER past its planned end."""
        return self.finished_at is None and (now or timezone.now()) >= self.due_at()
