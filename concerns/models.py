"""After the walk: the concerns women raised, what was done about them, and the survey."""

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from simple_history.models import HistoricalRecords

from bookings.models import Booking
from patrols.models import BCU, BCUScopedQuerySet, Borough, Walk


class Partner(models.TextChoices):
    COUNCIL_LIGHTING = "council_lighting", "Council street lighting"
    PARKS = "parks", "Parks and open spaces"
    HIGHWAYS = "highways", "Highways"
    TFL = "tfl", "Transport for London"
    HOUSING = "housing", "Housing provider"
    POLICE_PATROLS = "police_patrols", "Police patrols"
    LICENSING = "licensing", "Licensing"
    OTHER = "other", "Other partner"


class ConcernStatus(models.TextChoices):
    OPEN = "open", "Open"
    REFERRED = "referred", "Referred to a partner"
    ACTIONED = "actioned", "Actioned"
    CLOSED = "closed", "Closed"
    NO_ACTION = "no_action", "No action possible"


def _actions_done():
    """A concern's actions that did something (status "actioned"), the latest first."""
    return ConcernAction.objects.filter(
        concern=OuterRef("pk"), status=ConcernStatus.ACTIONED
    ).order_by("-at", "-pk")


class ConcernQuerySet(BCUScopedQuerySet):
    def acted_on(self):
        """Concerns something was done about: those "you said, we did" shows and counts."""
        return self.filter(Exists(_actions_done()))

    def actioned(self):
        """The concerns `acted_on`, with the latest such action's `action_note`,
        `action_partner` and `actioned_at`: "you said, we did"."""
        done = _actions_done()
        return self.acted_on().annotate(
            action_note=Subquery(done.values("note")[:1]),
            action_partner=Subquery(done.values("partner")[:1]),
            actioned_at=Subquery(done.values("at")[:1]),
        )


class TimeOfDay(models.TextChoices):
    """When a place feels unsafe (Concern.TimeOfDay); a concern holds one or more."""

    DAYTIME = "daytime", "Daytime"
    EVENING = "evening", "Evening"
    AFTER_DARK = "after_dark", "After dark"
    LATE_NIGHT = "late_night", "Late at night"


# The bit of each time of day in Concern.times_unsafe. Append new times; never renumber.
TIME_BITS = {
    TimeOfDay.DAYTIME: 1,
    TimeOfDay.EVENING: 2,
    TimeOfDay.AFTER_DARK: 4,
    TimeOfDay.LATE_NIGHT: 8,
}
ALL_TIMES = sum(TIME_BITS.values())


class Concern(models.Model):
    """A place or a behaviour that makes women feel unsafe. Never holds who said it."""

    class Category(models.TextChoices):
        # StreetSafe's categories, so the data can be compared.
        NO_CCTV = "no_cctv", "No CCTV"
        POORLY_LIT = "poorly_lit", "Poorly lit"
        ISOLATED = "isolated", "Isolated or empty"
        BLIND_SPOTS = "blind_spots", "Blind spots or poor layout"
        RESTRICTED_VISIBILITY = "restricted_visibility", "Restricted visibility"
        RUN_DOWN = "run_down", "Run-down area"
        DRUGS_ALCOHOL = "drugs_alcohol", "Signs of drug or alcohol use"
        HARASSMENT_ONE = "harassment_one", "Harassment by one person"
        HARASSMENT_GROUP = "harassment_group", "Harassment by a group"
        FOLLOWED = "followed", "Being followed"
        HARASSMENT_OTHER = "harassment_other", "Other harassment"
        OTHER = "other", "Other"

    ENVIRONMENTAL = (
        Category.NO_CCTV,
        Category.POORLY_LIT,
        Category.ISOLATED,
        Category.BLIND_SPOTS,
        Category.RESTRICTED_VISIBILITY,
        Category.RUN_DOWN,
        Category.DRUGS_ALCOHOL,
    )
    BEHAVIOURAL = (
        Category.HARASSMENT_ONE,
        Category.HARASSMENT_GROUP,
        Category.FOLLOWED,
        Category.HARASSMENT_OTHER,
    )

    TimeOfDay = TimeOfDay
    Status = ConcernStatus
    bcu_path = "bcu"

    walk = models.ForeignKey(
        Walk, on_delete=models.PROTECT, null=True, blank=True, related_name="concerns"
    )
    bcu = models.ForeignKey(
        BCU, on_delete=models.PROTECT, related_name="concerns", verbose_name="BCU"
    )
    borough = models.ForeignKey(Borough, on_delete=models.PROTECT, related_name="concerns")
    category = models.CharField(max_length=24, choices=Category.choices)
    location_text = models.CharField("location", max_length=200)
    lat = models.DecimalField(max_digits=8, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(max_digits=8, decimal_places=6, null=True, blank=True)
    # Every time of day she gave, as a bitmask (TIME_BITS): one small integer that SQLite
    # and PostgreSQL store, group and count alike. Read and write it through times_mask(),
    # times_of() and masks_with(), never by its numbers.
    times_unsafe = models.PositiveSmallIntegerField("when it feels unsafe")
    description = models.TextField(max_length=2000)
    status = models.CharField(
        max_length=12, choices=ConcernStatus.choices, default=ConcernStatus.OPEN
    )
    partner = models.CharField(max_length=20, choices=Partner.choices, blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    logged_at = models.DateTimeField(default=timezone.now)
    # When the first of its actions was taken (None until one is): a fact about its actions,
    # stored so the reports read it from the concern. Kept by concerns.rollup whenever an
    # action is saved or deleted; never set by hand. Left out of the audit history, which
    # has the actions themselves.
    first_action_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ConcernQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["first_action_at"])  # audit: who, what, when

    class Meta:
        ordering = ["-logged_at", "pk"]
        permissions = [("view_reports", "Can read the commander reports")]
        constraints = [
            models.CheckConstraint(
                condition=Q(times_unsafe__range=(1, ALL_TIMES)),
                name="concern_times_unsafe_at_least_one_known",
            ),
            models.CheckConstraint(
                condition=Q(lat__isnull=True, lng__isnull=True)
                | Q(
                    lat__isnull=False,
                    lng__isnull=False,
                    lat__range=(-90, 90),
                    lng__range=(-180, 180),
                ),
                name="concern_position_is_whole_and_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["bcu", "logged_at"]),
            models.Index(fields=["borough", "logged_at"]),
            models.Index(fields=["category", "logged_at"]),
            models.Index(fields=["status", "logged_at"]),
            # The commander reports read a period of concerns many times over: with these
            # columns in the index they never touch the table (docs/benchmarks.md, Reports).
            # PostgreSQL only; elsewhere it is a plain index on logged_at.
            models.Index(
                fields=["logged_at"],
                include=[
                    "id",
                    "bcu",
                    "borough",
                    "category",
                    "times_unsafe",
                    "status",
                    "location_text",
                    "first_action_at",
                ],
                name="concern_report_covering",
            ),
            # The report's map of one BCU or borough reads its concerns that have a position
            # (reports.queries.concern_positions): from these alone, never the table, and
            # never the concerns without one.
            *[
                models.Index(
                    fields=[place, "logged_at"],
                    include=["category", "lat", "lng"],
                    condition=Q(lat__isnull=False, lng__isnull=False),
                    name=f"concern_positions_by_{place}",
                )
                for place in ("bcu", "borough")
            ],
            # The median time to the first action reads the concerns of one bucket of that
            # time (concerns.rollup) in a period: by this index, never the whole period.
            models.Index(
                models.ExpressionWrapper(
                    models.F("first_action_at") - models.F("logged_at"),
                    output_field=models.DurationField(),
                ),
                models.F("logged_at"),
                name="concern_time_to_first_action",
                condition=Q(first_action_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} at {self.location_text}"

    @classmethod
    def times_mask(cls, times) -> int:
        """The stored value of some times of day (codes of TimeOfDay)."""
        return sum(TIME_BITS[cls.TimeOfDay(time)] for time in set(times))

    @classmethod
    def times_of(cls, mask: int) -> list[str]:
        """The times of day (codes) in a stored value, from daytime to late at night."""
        return [time for time in cls.TimeOfDay.values if mask & TIME_BITS[time]]

    @classmethod
    def masks_with(cls, time: str) -> list[int]:
        """Every stored value that includes `time`: `times_unsafe__in=` finds its concerns."""
        return [mask for mask in range(1, ALL_TIMES + 1) if mask & TIME_BITS[time]]

    @classmethod
    def times_labels(cls, mask: int) -> list[str]:
        labels = dict(cls.TimeOfDay.choices)
        return [labels[time] for time in cls.times_of(mask)]

    @classmethod
    def history_display_times_unsafe(cls, mask: int) -> str:
        """ "Evening, after dark": the answers in a stored value (the admin's History page)."""
        return ", ".join(cls.times_labels(mask)).capitalize()

    def get_times_unsafe_display(self) -> str:
        """ "Evening, after dark": her answers, for a page."""
        return self.history_display_times_unsafe(self.times_unsafe)


class ConcernAction(models.Model):
    """What was done about a concern, by whom, and who it was referred to."""

    bcu_path = "concern__bcu"

    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="actions")
    note = models.TextField(max_length=2000)
    status = models.CharField(max_length=12, choices=ConcernStatus.choices)
    partner = models.CharField(max_length=20, choices=Partner.choices, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    objects = BCUScopedQuerySet.as_manager()
    history = HistoricalRecords()  # audit

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["concern", "at"])]

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.note[:40]}"


# More women than a walk's group ever is: a bigger number of walk-ins is a typo.
WALK_INS_MAX = 50


class Debrief(models.Model):
    """What the debrief records about the walk as a whole, beside each woman's attendance (on
    her booking) and the concerns: the women who joined without booking. A number only: nobody
    who walked in is named."""

    bcu_path = "walk__bcu"

    walk = models.OneToOneField(Walk, on_delete=models.CASCADE, related_name="debrief")
    walk_ins = models.PositiveSmallIntegerField(
        "women who joined without booking",
        default=0,
        help_text="A number only: nobody who walked in is named.",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = BCUScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(walk_ins__lte=WALK_INS_MAX), name="debrief_walk_ins_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"Debrief of {self.walk}"


SCALE = [(n, str(n)) for n in range(1, 6)]


class Feedback(models.Model):
    """The short survey after a walk, so the scheme can show whether it works."""

    # Her own words, and what they become once anonymised (read by privacy/services.py); the
    # scores stay for the reports, as they never said who she is.
    PERSONAL_DATA = {"comments": ""}

    bcu_path = "booking__walk__bcu"

    booking = models.OneToOneField(Booking, on_delete=models.CASCADE, related_name="feedback")
    felt_safe_before = models.PositiveSmallIntegerField(choices=SCALE)
    felt_safe_after = models.PositiveSmallIntegerField(choices=SCALE)
    confidence_in_police_before = models.PositiveSmallIntegerField(choices=SCALE)
    confidence_in_police_after = models.PositiveSmallIntegerField(choices=SCALE)
    comments = models.TextField(blank=True, max_length=2000)
    wants_updates = models.BooleanField(
        default=False, help_text="She wants to hear what is done about her walk's concerns."
    )
    submitted_at = models.DateTimeField(default=timezone.now)

    objects = BCUScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(felt_safe_before__range=(1, 5))
                & Q(felt_safe_after__range=(1, 5))
                & Q(confidence_in_police_before__range=(1, 5))
                & Q(confidence_in_police_after__range=(1, 5)),
                name="feedback_scores_one_to_five",
            ),
        ]

    def __str__(self) -> str:
        return f"Feedback on {self.booking}"


class ConcernDay(models.Model):
    """The concerns logged on one day (London time) in one borough (of one BCU) in one
    category, counted: in all, by where they stand now (one column per status) and by each
    time of day they gave (a concern that gave several counts in each). The commander reports
    sum these rows for a period instead of counting its concerns; concerns.rollup keeps them
    (see there for why and how). Counts only: never a position, a place's words or a date
    finer than the day."""

    bcu_path = "bcu"

    day = models.DateField()
    bcu = models.ForeignKey(BCU, on_delete=models.CASCADE, related_name="+", verbose_name="BCU")
    borough = models.ForeignKey(Borough, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=24, choices=Concern.Category.choices)
    concerns = models.PositiveIntegerField(default=0)
    # One column per ConcernStatus value and per TimeOfDay value, named after it
    # (tests/concerns/test_rollup.py checks that every one has its column).
    open = models.PositiveIntegerField(default=0)
    referred = models.PositiveIntegerField(default=0)
    actioned = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    no_action = models.PositiveIntegerField(default=0)
    daytime = models.PositiveIntegerField(default=0)
    evening = models.PositiveIntegerField(default=0)
    after_dark = models.PositiveIntegerField(default=0)
    late_night = models.PositiveIntegerField(default=0)

    objects = BCUScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "bcu", "borough", "category"], name="concern_day_one_row_per_cell"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.concerns} concerns on {self.day}"


class FirstActionDay(models.Model):
    """The concerns logged on one day (London time) in one borough whose first action came
    within one `bucket` of time after they were logged (concerns.rollup.bucket_of: by the
    hour for the first week, then by the day), counted, with the shortest and longest such
    time: what the median time to the first action is found from (concerns.rollup says how,
    exactly). Counts and durations only."""

    bcu_path = "bcu"

    day = models.DateField()
    bcu = models.ForeignKey(BCU, on_delete=models.CASCADE, related_name="+", verbose_name="BCU")
    borough = models.ForeignKey(Borough, on_delete=models.CASCADE, related_name="+")
    bucket = models.PositiveSmallIntegerField()
    concerns = models.PositiveIntegerField(default=0)
    shortest = models.DurationField()
    longest = models.DurationField()

    objects = BCUScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "borough", "bucket"], name="first_action_day_one_row_per_cell"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.concerns} concerns on {self.day}, bucket {self.bucket}"


class ActionDay(models.Model):
    """The actions on the concerns logged on one day (London time) in one borough (of one
    BCU) in one category, that involved one partner (blank: none, the police alone), counted:
    in all and by the status each set (one column per status). The report's actions by
    partner sum these rows; concerns.rollup keeps them with the concerns' own counts, since
    an action is counted under its concern's day. Counts only."""

    bcu_path = "bcu"

    day = models.DateField()
    bcu = models.ForeignKey(BCU, on_delete=models.CASCADE, related_name="+", verbose_name="BCU")
    borough = models.ForeignKey(Borough, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=24, choices=Concern.Category.choices)
    partner = models.CharField(max_length=20, choices=Partner.choices, blank=True)
    actions = models.PositiveIntegerField(default=0)
    # One column per ConcernStatus value, named after it (tests/concerns/test_rollup.py).
    open = models.PositiveIntegerField(default=0)
    referred = models.PositiveIntegerField(default=0)
    actioned = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    no_action = models.PositiveIntegerField(default=0)

    objects = BCUScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "bcu", "borough", "category", "partner"],
                name="action_day_one_row_per_cell",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actions} actions on concerns of {self.day}"


class PlaceDay(models.Model):
    """The concerns logged on one day (London time) in one borough (of one BCU) in one
    category about one place, counted: `place` is the place's words as the report merges
    them (lower case, no surrounding spaces, as the database itself lowers and trims them),
    and `label` the first of their spellings in the database's order (its MIN), which is the
    one the report shows. The report's most named places sum these rows (concerns.rollup
    keeps them); a place named on many days is one row a day, not one per concern."""

    bcu_path = "bcu"

    day = models.DateField()
    bcu = models.ForeignKey(BCU, on_delete=models.CASCADE, related_name="+", verbose_name="BCU")
    borough = models.ForeignKey(Borough, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=24, choices=Concern.Category.choices)
    # Text, not 200 characters: lowering some letters lengthens them.
    place = models.TextField()
    label = models.TextField()
    concerns = models.PositiveIntegerField(default=0)

    objects = BCUScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "bcu", "borough", "category", "place"],
                name="place_day_one_row_per_cell",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.concerns} concerns at {self.label} on {self.day}"
