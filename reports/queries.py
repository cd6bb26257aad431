"""The commander reports: every figure on /reports/ and every row of /reports/concerns.csv.

Plain functions of a `ReportFilters`, each one database query that aggregates (no Python loop
over concerns, bookings or walks), so the page costs the same number of queries at any size.
The page, the CSV and the tests all call these functions.

Dates are Europe/London calendar days: `from` 1 March to `to` 31 March means from local
midnight on 1 March up to (not including) local midnight on 1 April, whatever the clocks do.
"""

from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

from django import forms
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Avg,
    BooleanField,
    Case,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Round, RowNumber, TruncDate, TruncMonth
from django.utils import timezone

from bookings.models import Booking, WalkRequest
from concerns.models import (
    ActionDay,
    Concern,
    ConcernDay,
    ConcernStatus,
    Feedback,
    FirstActionDay,
    Partner,
    PlaceDay,
)
from concerns.rollup import bucket_bounds, local_midnight, london_day
from partners.models import Referral, overdue_q
from patrols.models import BCU, Borough, Walk, bcu_q, bcu_scope
from walkandtalk.text import PlainTextForm

LONDON = ZoneInfo("Europe/London")
DEFAULT_DAYS = 90
MAX_DAYS = 5 * 366  # the month chart stays readable; older data is one more report away
EARLIEST = date(2020, 1, 1)  # the scheme began in 2021; guards date arithmetic from year 1
OPEN_TOO_LONG = timedelta(days=30)
ONE_DAY = timedelta(days=1)
TOP_LOCATIONS = 10
# The CSV's coordinates, to 3 decimal places: about 110 m north-south and 70 m east-west in
# London. Enough to map a hotspot to its street, too coarse to point at a doorway, since a
# concern "outside my flat" would otherwise lead to her home once the file leaves the building.
CSV_COORDINATE_PLACES = 3
CSV_CHUNK_ROWS = 2000
MAP_POINTS = 2000  # rounded positions on the map, at most

CATEGORY_GROUPS = [
    ("environmental", "Environmental", Concern.ENVIRONMENTAL),
    ("behavioural", "Behavioural", Concern.BEHAVIOURAL),
    ("other", "Other", (Concern.Category.OTHER,)),
]
GROUP_OF_CATEGORY = {c: key for key, _, categories in CATEGORY_GROUPS for c in categories}
ACTION_STATUSES = list(ConcernStatus)
NO_PARTNER_LABEL = "No partner (police only)"
# The ids of the hints under the filter form (templates/concerns/reports.html).
HINTS = {"from": "report-dates-hint", "to": "report-dates-hint", "category": "report-category-hint"}


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


@dataclass(frozen=True)
class ReportFilters:
    """What a report covers. `bcu` is already narrowed to the reader's scope by the form."""

    start: date
    end: date  # inclusive
    bcu: BCU | None = None
    borough: Borough | None = None
    category: str = ""
    now: datetime = field(default_factory=timezone.now)

    @property
    def days(self) -> int:
        """How many days the period covers, both ends included."""
        return (self.end - self.start).days + 1

    def previous_period(self) -> "ReportFilters":
        """The period of the same length just before this one, every other filter (place,
        category, the moment of reading) the same: what each headline figure is compared
        with. 1 September to 30 November (91 days) gives 1 June to 31 August."""
        length = timedelta(days=self.days)
        return replace(self, start=self.start - length, end=self.start - timedelta(days=1))

    @property
    def since(self) -> datetime:
        return local_midnight(self.start)

    @property
    def until(self) -> datetime:
        return local_midnight(self.end + timedelta(days=1))

    def place(self, model, borough: str = "borough") -> Q:
        """Rows of `model` in the chosen borough (`borough` names the lookup to it) or BCU
        (by the path the model declares, as the admin scopes it)."""
        if self.borough is not None:
            return Q(**{borough: self.borough})
        if self.bcu is not None:
            return bcu_q(model, self.bcu)
        return Q()


class Median(Aggregate):
    """PostgreSQL's PERCENTILE_CONT(0.5): the median, of numbers or of intervals. SQLite (the
    embedded demo) has no such aggregate: `aggregate_with_median` finds it another way there."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False


# Seconds a report's or the CSV's statement may take: as long as gunicorn lets a request run.
REPORT_STATEMENT_TIMEOUT = 300


@contextmanager
def snapshot():
    """A report's queries in one read-only transaction. On PostgreSQL it is REPEATABLE READ, so
    every figure on the page comes from the same moment (a concern logged halfway through
    cannot make the totals disagree), and without JIT compilation, which costs more than it
    saves on these short aggregates (see docs/benchmarks.md)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                if outermost:  # must come before any other statement of the transaction
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                # One statement for the transaction's settings. work_mem: room to group a
                # quarter of a million concerns by their first action in memory rather than in
                # a sort spilled to disk. statement_timeout: a report over years of London's
                # concerns may take longer than a web request may.
                cursor.execute(
                    "SELECT set_config('jit', 'off', true), "
                    "set_config('work_mem', '32MB', true), "
                    "set_config('statement_timeout', %s, true)",
                    [str(REPORT_STATEMENT_TIMEOUT * 1000)],
                )
        yield


def aggregate_with_median(rows: QuerySet, expression, **aggregates) -> dict:
    """`rows.aggregate(**aggregates)`, plus "median": the median duration of `expression` over
    the rows where it is not null (None if there are none), halfway between the middle two of
    an even number. On PostgreSQL it is PERCENTILE_CONT, in the same query. Elsewhere (SQLite,
    the embedded demo) that query also counts the durations, and a second one reads only the
    middle one or two, ordered by the duration with OFFSET and LIMIT: never every row."""
    duration = ExpressionWrapper(expression, output_field=DurationField())
    if connection.vendor == "postgresql":
        return rows.aggregate(**aggregates, median=Median(duration))
    row = rows.aggregate(**aggregates, durations=Count(duration))
    n = row.pop("durations")
    if not n:
        return {**row, "median": None}
    middle = list(
        rows.annotate(duration=duration)
        .filter(duration__isnull=False)
        .order_by("duration")
        .values_list("duration", flat=True)[(n - 1) // 2 : n // 2 + 1]
    )
    return {**row, "median": sum(middle, timedelta()) / len(middle)}


def medians_by(rows: QuerySet, expression, buckets: dict[str, Q]) -> dict[str, dict]:
    """For each of `buckets` (a key and the condition on `rows` that puts a row in it, such as
    a month): how many rows have a duration `expression` ("count") and its median ("median",
    None if there are none), halfway between the middle two of an even number, as
    `aggregate_with_median` finds it. One query on any database, whatever the number of
    buckets: on PostgreSQL one PERCENTILE_CONT per bucket (FILTER); elsewhere (SQLite) the
    rows are numbered within their bucket by duration, and only the middle one or two of each
    bucket are read. `rows` must not be grouped (values().annotate()): the numbering's
    partition would join the GROUP BY."""
    duration = ExpressionWrapper(expression, output_field=DurationField())
    found = {key: {"count": 0, "median": None} for key in buckets}
    if not buckets:
        return found
    keys = list(buckets)
    if connection.vendor == "postgresql":
        row = rows.aggregate(
            **{f"count_{n}": Count(duration, filter=buckets[key]) for n, key in enumerate(keys)},
            **{f"median_{n}": Median(duration, filter=buckets[key]) for n, key in enumerate(keys)},
        )
        for n, key in enumerate(keys):
            found[key] = {"count": row[f"count_{n}"], "median": row[f"median_{n}"]}
        return found
    bucket = Case(
        *[When(condition, then=Value(key)) for key, condition in buckets.items()],
        output_field=CharField(),
    )
    middle = (
        rows.annotate(duration=duration, bucket=bucket)
        .filter(duration__isnull=False, bucket__isnull=False)
        .annotate(
            rank=Window(RowNumber(), partition_by=F("bucket"), order_by=F("duration").asc()),
            size=Window(Count("*"), partition_by=F("bucket")),
        )
        # The middle of n rows: rank (n + 1) / 2 when n is odd, n / 2 and n / 2 + 1 when even.
        .filter(rank__gte=F("size") / 2.0, rank__lte=F("size") / 2.0 + 1)
        .values_list("bucket", "size", "duration")
    )
    values: dict[str, list[timedelta]] = {}
    for key, size, value in middle:
        found[key]["count"] = size
        values.setdefault(key, []).append(value)
    for key, middle_values in values.items():
        found[key]["median"] = sum(middle_values, timedelta()) / len(middle_values)
    return found


def grouped_with_medians(rows: QuerySet, group: list[str], aggregates: dict, **durations):
    """`rows.values(*group).annotate(**aggregates)`, each row with the median of each
    duration expression in `durations` over its rows where that is not null (None if none).
    On PostgreSQL one grouped query, PERCENTILE_CONT beside the counts, as
    aggregate_with_median. Elsewhere (SQLite, the embedded demo) one more query per duration
    reads the durations in order and takes each group's middle one or two: fine for the few
    rows it is used on (referrals), not for concerns."""
    wrapped = {
        name: ExpressionWrapper(expression, output_field=DurationField())
        for name, expression in durations.items()
    }
    grouped = rows.order_by().values(*group)
    if connection.vendor == "postgresql":
        medians = {name: Median(expression) for name, expression in wrapped.items()}
        return list(grouped.annotate(**aggregates, **medians))
    found = list(grouped.annotate(**aggregates))
    for name, expression in wrapped.items():
        by_group: dict = {}
        in_order = (
            rows.annotate(_duration=expression)
            .filter(_duration__isnull=False)
            .order_by(*group, "_duration")
            .values_list(*group, "_duration")
        )
        for *key, duration in in_order:
            by_group.setdefault(tuple(key), []).append(duration)
        for row in found:
            values = by_group.get(tuple(row[field] for field in group), [])
            middle = values[(len(values) - 1) // 2 : len(values) // 2 + 1]
            row[name] = sum(middle, timedelta()) / len(middle) if middle else None
    return found


def _share(part: int, whole: int) -> float | None:
    return None if not whole else part / whole


# --- The rows each figure is built from -------------------------------------------------------


def concern_filter(f: ReportFilters, model=Concern) -> Q:
    """The report's concerns as a condition, on Concern itself or on ConcernAction through its
    concern: logged in the period, in the place, of the category."""
    prefix = "" if model is Concern else "concern__"
    q = Q(**{f"{prefix}logged_at__gte": f.since, f"{prefix}logged_at__lt": f.until})
    q &= f.place(model, borough=f"{prefix}borough")
    if f.category:
        q &= Q(**{f"{prefix}category": f.category})
    return q


def concerns(f: ReportFilters) -> QuerySet[Concern]:
    """The concerns a report covers."""
    return Concern.objects.filter(concern_filter(f)).order_by()


def walks(f: ReportFilters) -> QuerySet[Walk]:
    """Walks that started in the period, in the place (the category does not apply)."""
    return (
        Walk.objects.filter(starts_at__gte=f.since, starts_at__lt=f.until)
        .filter(f.place(Walk))
        .order_by()
    )


# --- Headline figures -------------------------------------------------------------------------


def walk_figures(f: ReportFilters) -> dict:
    """Walks held (started, not cancelled), walks the police cancelled, and who walked on them.
    `walked`, the women who walked, is the one count of them: each place taken and kept
    (`attended`) and each woman who joined without booking (`walk_ins`, from the debrief). A
    woman who walked twice counts twice (her email is forgotten after the retention period, so
    nothing else could count her once). The attendance rate is of the places whose attendance
    an officer recorded; walk-ins had no place, so they are not in it.

    One query: each walk's bookings are counted and its walk-ins read in a subquery grouped by
    walk, so a walk's walk-ins are added once however many bookings it has."""
    held = Q(starts_at__lt=f.now) & ~Q(status=Walk.Status.CANCELLED)
    per_walk = walks(f).annotate(
        was_held=ExpressionWrapper(held, output_field=BooleanField()),
        came=Count("bookings", filter=Q(bookings__status=Booking.Status.ATTENDED)),
        missed=Count("bookings", filter=Q(bookings__status=Booking.Status.NO_SHOW)),
        joined=Max("debrief__walk_ins"),  # a walk has at most one debrief
    )

    def total(of: str):
        return Coalesce(Sum(of, filter=Q(was_held=True)), 0)

    row = per_walk.aggregate(
        held=Count("pk", filter=Q(was_held=True)),
        cancelled=Count("pk", filter=Q(status=Walk.Status.CANCELLED)),
        attended=total("came"),
        walk_ins=total("joined"),
        no_shows=total("missed"),
    )
    row["walked"] = row["attended"] + row["walk_ins"]
    row["attendance_rate"] = _share(row["attended"], row["attended"] + row["no_shows"])
    return row


def request_figures(f: ReportFilters) -> dict:
    """Route requests made in the period and how fast an inspector answered (scheduled the
    walk or declined): the median time from the request to the decision, of those decided."""
    rows = WalkRequest.objects.filter(created_at__gte=f.since, created_at__lt=f.until).filter(
        f.place(WalkRequest)
    )
    row = aggregate_with_median(
        rows,
        F("decided_at") - F("created_at"),
        received=Count("pk"),
        scheduled=Count("pk", filter=Q(status=WalkRequest.Status.SCHEDULED)),
        declined=Count("pk", filter=Q(status=WalkRequest.Status.DECLINED)),
        waiting=Count("pk", filter=Q(status=WalkRequest.Status.OPEN)),
    )
    row["median_time_to_answer"] = row.pop("median", None)
    return row


def days(f: ReportFilters, model=ConcernDay) -> QuerySet:
    """The rows counted by day (concerns.rollup: ConcernDay by default, or ActionDay or
    PlaceDay, keyed alike) that the report covers: its days, place and category."""
    q = Q(day__gte=f.start, day__lte=f.end) & f.place(model)
    if f.category:
        q &= Q(category=f.category)
    return model.objects.filter(q).order_by()


def _sum(of: str, condition: Q | None = None):
    return Coalesce(Sum(of, filter=condition), 0)


def concern_counts(f: ReportFilters) -> dict:
    """Every count of the report's concerns by a fixed set of values, in one query: logged,
    open for more than 30 days, and by category group, category, time of day and status.
    A concern counts under each time of day it gave, so those counts add up to more than the
    concerns logged when some gave several. Each is a sum of the report's ConcernDay rows
    (`days`), one row per day, borough and category, so its cost follows the days, not the
    concerns. "Open for more than 30 days" takes whole days from those rows and, for the one
    day that 30 days ago falls in, counts the concerns themselves (a subquery on the (status,
    logged_at) index). The functions below take the result as `counts`, so the page reads
    the rows once; called alone, each makes it for itself."""
    stale_since = f.now - OPEN_TOO_LONG
    edge_day = london_day(stale_since)
    edge = concerns(f).filter(
        status=ConcernStatus.OPEN,
        logged_at__gte=local_midnight(edge_day),
        logged_at__lt=stale_since,
    )
    edge_count = Subquery(
        edge.annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField())).values("n")
    )
    fields = {
        "logged": _sum("concerns"),
        "open_over_30_days": _sum(ConcernStatus.OPEN, Q(day__lt=edge_day))
        + Coalesce(edge_count, 0),
    }
    for key, _, categories in CATEGORY_GROUPS:
        fields[f"group_{key}"] = _sum("concerns", Q(category__in=categories))
    for category in Concern.Category.values:
        fields[f"category_{category}"] = _sum("concerns", Q(category=category))
    for status in ConcernStatus.values:
        fields[f"status_{status}"] = _sum(status)
    for when in Concern.TimeOfDay.values:
        fields[f"times_unsafe_{when}"] = _sum(when)
    return days(f).aggregate(**fields)


def concern_figures(f: ReportFilters, counts: dict | None = None) -> dict:
    """Concerns logged, and those still open (nobody has acted) more than 30 days after they
    were logged."""
    counts = counts or concern_counts(f)
    return {"logged": counts["logged"], "open_over_30_days": counts["open_over_30_days"]}


def acted_on(f: ReportFilters) -> QuerySet[Concern]:
    """The report's concerns that have an action: their first action's time is stored on them
    (`first_action_at`), so they are read from the covering index alone."""
    return concerns(f).filter(first_action_at__isnull=False)


TIME_TO_FIRST_ACTION = F("first_action_at") - F("logged_at")


Days = tuple[date, date]  # a first and a last day, both included


def first_action_times(f: ReportFilters, parts: dict[str, Days], total: str = "") -> dict:
    """For each part of a period (a key and its days; parts do not overlap), and for `total`
    (if given: every part but the first, added up): how many of the concerns in the report's
    place have an action ("count") and the median time from being logged to the first action
    ("median", None if none), halfway between the middle two of an even number: the same as
    PERCENTILE_CONT over the concerns, found from the histogram of those times by day
    (FirstActionDay; concerns.rollup explains it). One query over the histogram's rows; a
    second, over only the concerns of the buckets concerned, when a middle time lies inside a
    bucket of several different times. Not for a report of one category (see the callers)."""
    label = Case(
        *[When(day__gte=a, day__lte=b, then=Value(key)) for key, (a, b) in parts.items()],
        output_field=CharField(),
    )
    added = list(parts)[1:] if total else []
    first, last = _span(list(parts.values()))
    histograms: dict[str, dict[int, list]] = {key: {} for key in [*parts, *([total] * bool(total))]}
    for part, bucket, n, shortest, longest in (
        FirstActionDay.objects.filter(day__gte=first, day__lte=last)
        .filter(f.place(FirstActionDay))
        .annotate(part=label)
        .values_list("part", "bucket")
        .annotate(n=Sum("concerns"), shortest=Min("shortest"), longest=Max("longest"))
        .order_by()
    ):
        for key in [part, total] if part in added else [part]:
            row = histograms[key].setdefault(bucket, [0, shortest, longest])
            row[0] += n
            row[1], row[2] = min(row[1], shortest), max(row[2], longest)
    found, middles, inside = {}, {}, {}
    for key, buckets in histograms.items():
        n = sum(row[0] for row in buckets.values())
        found[key] = {"count": n, "median": None}
        middles[key] = []
        below = 0
        for bucket, (count, shortest, longest) in sorted(buckets.items()):
            for rank in sorted({(n - 1) // 2, n // 2} if n else set()):
                offset = rank - below
                if not 0 <= offset < count:
                    continue
                if shortest == longest or offset == 0:
                    middles[key].append(shortest)
                elif offset == count - 1:
                    middles[key].append(longest)
                else:
                    inside.setdefault((key, bucket), []).append(offset)
            below += count
    within = _span([parts[key] for key in added]) if total else None
    for key, values in _inside_buckets(f, parts, total, within, inside).items():
        middles[key].extend(values)
    for key, values in middles.items():
        if values:
            found[key]["median"] = sum(values, timedelta()) / len(values)
    return found


def _span(days: list[Days]) -> Days:
    return min(a for a, _ in days), max(b for _, b in days)


def _logged_within(days: Days) -> Q:
    return Q(
        logged_at__gte=local_midnight(days[0]), logged_at__lt=local_midnight(days[1] + ONE_DAY)
    )


def _inside_buckets(
    f: ReportFilters, parts: dict, total: str, within: Days | None, inside: dict
) -> dict[str, list]:
    """The times at these offsets (0 the shortest) among the concerns of each (key, bucket)
    in `inside` (a key is a part, or `total`: the parts `within` those days), in one query
    that reads only the concerns of those buckets, by the (time to first action, logged_at)
    index; the concerns are numbered by time within their part and bucket, and within the
    total and bucket. {key: [times]}."""
    if not inside:
        return {}
    duration = ExpressionWrapper(TIME_TO_FIRST_ACTION, output_field=DurationField())
    buckets = sorted({bucket for _, bucket in inside})
    in_bucket = []
    for bucket in buckets:
        shortest, longest = bucket_bounds(bucket)
        q = Q()
        if shortest is not None:
            q &= Q(duration__gte=shortest)
        if longest is not None:
            q &= Q(duration__lt=longest)
        in_bucket.append(When(q, then=Value(bucket)))
    keys = [key for key in parts if any(k == key for k, _ in inside)]
    part = Case(
        *[When(_logged_within(parts[key]), then=Value(key)) for key in keys],
        output_field=CharField(),
    )
    totalled = Case(
        When(_logged_within(within), then=Value(1)) if within else When(pk__in=[], then=1),
        default=Value(0),
        output_field=IntegerField(),
    )
    logged = reduce(or_, [_logged_within(parts[key]) for key in keys], Q(pk__in=[]))
    if within is not None and any(key == total for key, _ in inside):
        logged |= _logged_within(within)
    numbered = (
        Concern.objects.filter(first_action_at__isnull=False)
        .filter(f.place(Concern))
        .filter(logged)
        .annotate(duration=duration)
        .annotate(bucket=Case(*in_bucket, output_field=IntegerField()))
        .filter(bucket__isnull=False)
        .annotate(
            part=part,
            totalled=totalled,
            rank=Window(
                RowNumber(), partition_by=[F("part"), F("bucket")], order_by=F("duration").asc()
            ),
            rank_in_total=Window(
                RowNumber(), partition_by=[F("totalled"), F("bucket")], order_by=F("duration").asc()
            ),
        )
        .filter(
            Q(rank__in={o + 1 for (k, _), offsets in inside.items() if k != total for o in offsets})
            | Q(
                rank_in_total__in={
                    o + 1 for (k, _), offs in inside.items() if k == total for o in offs
                }
            )
        )
        .values_list("part", "totalled", "bucket", "rank", "rank_in_total", "duration")
    )
    found: dict[str, list] = {}
    for row_part, row_totalled, bucket, rank, rank_in_total, value in numbered:
        if rank - 1 in inside.get((row_part, bucket), ()):
            found.setdefault(row_part, []).append(value)
        if row_totalled and rank_in_total - 1 in inside.get((total, bucket), ()):
            found.setdefault(total, []).append(value)
    return found


def action_figures(f: ReportFilters) -> dict:
    """Of the report's concerns, how many have at least one action, and the median time from a
    concern being logged to its first action: from the histogram (`first_action_times`), or
    from the concerns themselves for one category."""
    if f.category:
        return action_figures_from_concerns(f)
    row = first_action_times(f, {"all": (f.start, f.end)})["all"]
    return {"with_action": row["count"], "median_time_to_first_action": row["median"]}


def action_figures_from_concerns(f: ReportFilters) -> dict:
    """`action_figures` from the concerns acted on: one query, PERCENTILE_CONT on PostgreSQL."""
    row = aggregate_with_median(acted_on(f), TIME_TO_FIRST_ACTION, with_action=Count("*"))
    row["median_time_to_first_action"] = row.pop("median", None)
    return row


def survey_figures(f: ReportFilters) -> dict:
    """The survey after the walk, from women on walks in the period: the share who felt safer
    afterwards than before, and the mean change in confidence in the police (on a 1 to 5
    scale, so +1.0 means one step up the scale on average)."""
    row = feedback(f).aggregate(**_survey_aggregates())
    row["felt_safer_share"] = _share(row["felt_safer"], row["responses"])
    return row


def feedback(f: ReportFilters) -> QuerySet[Feedback]:
    """Survey answers from women on walks that started in the period, in the place."""
    return (
        Feedback.objects.filter(
            booking__walk__starts_at__gte=f.since, booking__walk__starts_at__lt=f.until
        )
        .filter(f.place(Feedback, borough="booking__walk__borough"))
        .order_by()
    )


def _survey_aggregates(condition: Q | None = None, suffix: str = "") -> dict:
    """The survey's three aggregates, of the answers meeting `condition` (all if None)."""
    within = condition if condition is not None else Q()
    return {
        f"responses{suffix}": Count("pk", filter=condition),
        f"felt_safer{suffix}": Count(
            "pk", filter=within & Q(felt_safe_after__gt=F("felt_safe_before"))
        ),
        f"confidence_change{suffix}": Avg(
            F("confidence_in_police_after") - F("confidence_in_police_before"), filter=condition
        ),
    }


def headline(f: ReportFilters, counts: dict | None = None, actions: dict | None = None) -> dict:
    """Every headline figure, for the page's top section and for tests. `counts` and
    `actions` (as `concern_counts` and `action_figures` give them) are read here if not
    given."""
    figures = {
        "walks": walk_figures(f),
        "requests": request_figures(f),
        "concerns": concern_figures(f, counts),
        "actions": dict(actions) if actions is not None else action_figures(f),
        "survey": survey_figures(f),
    }
    figures["actions"]["share"] = _share(
        figures["actions"]["with_action"], figures["concerns"]["logged"]
    )
    return figures


# --- Breakdowns: lists of {"key", "label", "count", ...}, zero rows included where the set of
# --- keys is fixed (categories, times of day, statuses, BCUs, boroughs, months) ---------------


def concerns_by_category(f: ReportFilters, counts: dict | None = None) -> list[dict]:
    """Concerns in each group (environmental, behavioural, other) and in each of its
    categories, in StreetSafe's order, zeros included."""
    counts = counts or concern_counts(f)
    labels = dict(Concern.Category.choices)
    return [
        {
            "key": key,
            "label": label,
            "count": counts[f"group_{key}"],
            "categories": [
                {"key": c, "label": labels[c], "group": label, "count": counts[f"category_{c}"]}
                for c in categories
            ],
        }
        for key, label, categories in CATEGORY_GROUPS
    ]


def concerns_by_time_of_day(f: ReportFilters, counts: dict | None = None) -> list[dict]:
    """When women said the place feels unsafe, from daytime to late at night. A concern that
    gave several times counts under each."""
    counts = counts or concern_counts(f)
    return [
        {"key": value, "label": label, "count": counts[f"times_unsafe_{value}"]}
        for value, label in Concern.TimeOfDay.choices
    ]


def concerns_by_status(f: ReportFilters, counts: dict | None = None) -> list[dict]:
    """Where the report's concerns stand today."""
    counts = counts or concern_counts(f)
    return [
        {"key": value, "label": label, "count": counts[f"status_{value}"]}
        for value, label in ConcernStatus.choices
    ]


def area_level(f: ReportFilters) -> str:
    """London is broken down by BCU; one BCU (or one borough) by borough."""
    return "bcu" if f.bcu is None and f.borough is None else "borough"


def _counted(places: QuerySet, link: str, rows: QuerySet, total=None) -> QuerySet:
    """`places` (BCUs or boroughs) with the `rows` in each as `count`, zeros included: one
    subquery per place. `total` is what each place's rows add up to: their number (concerns,
    by default) or a sum (`Sum("concerns")` of ConcernDay rows)."""
    count = Subquery(
        rows.order_by()
        .filter(**{link: OuterRef("pk")})
        .values(link)
        .annotate(n=total if total is not None else Count("*"))
        .values("n"),
        output_field=IntegerField(),
    )
    return places.annotate(key=F("pk"), label=F("name"), count=Coalesce(count, Value(0)))


def rolled_up(f: ReportFilters) -> tuple[QuerySet, Sum]:
    """The rows a place's concerns are counted from, and how: the report's ConcernDay rows,
    summed. (reports.reference counts the concerns themselves instead.)"""
    return days(f), Sum("concerns")


def concerns_by_borough(f: ReportFilters, counted_in=rolled_up) -> list[dict]:
    """Concerns in each borough the map draws, in one query: every borough of London, or of
    the chosen BCU (the chosen borough's BCU, its neighbours there drawn around it). Each row
    has the borough's `slug` and `bcu_code` for its link, and `in_report`: False for those
    neighbours, whose concerns the report does not cover."""
    bcu = f.borough.bcu if f.borough is not None else f.bcu
    rows = list(
        _counted(Borough.objects.in_bcu(bcu), "borough", *counted_in(f))
        .values("key", "label", "count", "slug", bcu_code=F("bcu__code"))
        .order_by("name")
    )
    for row in rows:
        row["in_report"] = f.borough is None or row["key"] == f.borough.pk
    return rows


def acted_on_by_borough(bcu: BCU | None = None) -> list[dict]:
    """For the public map on "you said, we did": the concerns acted on (`acted_on`, as that
    page lists them, of any date) in every borough of London, or of one BCU, in one query;
    rows as `concerns_by_borough` gives them, for `map.borough_map`. Counts only: never a
    position."""
    rows = list(
        _counted(Borough.objects.in_bcu(bcu), "borough", Concern.objects.acted_on())
        .values("key", "label", "count", "slug", bcu_code=F("bcu__code"))
        .order_by("name")
    )
    for row in rows:
        row["in_report"] = True
    return rows


def concerns_by_area(
    f: ReportFilters, boroughs: list[dict] | None = None, counted_in=rolled_up
) -> list[dict]:
    """Concerns in each BCU, or in each borough of the chosen BCU (or the chosen borough),
    zeros included. By borough, these are the map's rows (`boroughs`, from
    `concerns_by_borough`, read here when not given) that the report covers."""
    if area_level(f) == "bcu":
        bcus = _counted(BCU.objects.all(), "bcu", *counted_in(f))
        return list(bcus.values("key", "label", "count").order_by("name"))
    if boroughs is None:
        boroughs = concerns_by_borough(f, counted_in)
    return [
        {"key": row["key"], "label": row["label"], "count": row["count"]}
        for row in boroughs
        if row["in_report"]
    ]


def concern_positions(f: ReportFilters, limit: int = MAP_POINTS) -> list[dict]:
    """The report's concerns that have a position, rounded as the CSV rounds them (about
    100 m), counted by rounded position and category group in one query: the map's points.
    The `limit` places with the most concerns, so a BCU over years stays a readable map."""
    group = Case(
        *[When(category__in=categories, then=Value(key)) for key, _, categories in CATEGORY_GROUPS],
        output_field=CharField(),
    )
    return list(
        concerns(f)
        .filter(lat__isnull=False, lng__isnull=False)
        .values(
            lat_approx=Round("lat", CSV_COORDINATE_PLACES),
            lng_approx=Round("lng", CSV_COORDINATE_PLACES),
            category_group=group,
        )
        .annotate(count=Count("*"))
        .order_by("-count", "lat_approx", "lng_approx", "category_group")[:limit]
    )


def months(f: ReportFilters) -> list[date]:
    """The first day of each calendar month the period touches: at most 61."""
    found, month = [], f.start.replace(day=1)
    while month <= f.end:
        found.append(month)
        month = _next_month(month)
    return found


def _next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def in_month(lookup: str, month: date) -> Q:
    """`lookup` (a timestamp) within the calendar month, London time: a range between two
    London midnights, worked out here. Comparing timestamps is several times cheaper per row
    than converting each one to London time to truncate it to its month."""
    return Q(
        **{
            f"{lookup}__gte": local_midnight(month),
            f"{lookup}__lt": local_midnight(_next_month(month)),
        }
    )


def _month_axis(f: ReportFilters) -> list[dict]:
    """The month axis shared by every chart over time: key, label, and the short label."""
    return [
        {
            "key": m.isoformat()[:7],
            "label": f"{m:%B %Y}",
            "short": f"{m:%b}",
            # The chart writes the year under the first month and under each January.
            "year": str(m.year) if n == 0 or m.month == 1 else "",
        }
        for n, m in enumerate(months(f))
    ]


def concerns_by_month(f: ReportFilters) -> list[dict]:
    """Concerns in each calendar month (London time) the period touches, zeros included, in
    all (`count`) and by category group (`groups`: key, label and count, in CATEGORY_GROUPS'
    order). One query: the report's ConcernDay rows summed by month and category, at most 12
    categories by 61 months; the groups and totals are sums of those few rows."""
    counts: dict[tuple[str, str], int] = {}
    for month, category, n in (
        days(f).values_list(TruncMonth("day"), "category").annotate(n=Sum("concerns")).order_by()
    ):
        key = (month.isoformat()[:7], GROUP_OF_CATEGORY.get(category, "other"))
        counts[key] = counts.get(key, 0) + n
    return _month_rows(f, counts)


def _month_rows(f: ReportFilters, counts: dict[tuple[str, str], int]) -> list[dict]:
    """The month axis with each month's concerns by category group, from `counts` ((month
    key, group key) to a number)."""
    rows = _month_axis(f)
    for row in rows:
        row["groups"] = [
            {"key": key, "label": label, "count": counts.get((row["key"], key), 0)}
            for key, label, _ in CATEGORY_GROUPS
        ]
        row["count"] = sum(group["count"] for group in row["groups"])
    return rows


def survey_by_month(f: ReportFilters) -> list[dict]:
    """The survey by the month of the walk, every month the period touches: responses, how
    many felt safer afterwards and their share, and the mean change in confidence in the
    police (None in a month with no answers). One query."""
    rows = _month_axis(f)
    found = feedback(f).aggregate(
        **{
            key: aggregate
            for n, m in enumerate(months(f))
            for key, aggregate in _survey_aggregates(
                in_month("booking__walk__starts_at", m), suffix=f"_{n}"
            ).items()
        }
    )
    for n, row in enumerate(rows):
        row["responses"] = found[f"responses_{n}"]
        row["felt_safer"] = found[f"felt_safer_{n}"]
        row["felt_safer_share"] = _share(row["felt_safer"], row["responses"])
        row["confidence_change"] = found[f"confidence_change_{n}"]
    return rows


def action_time_by_month(f: ReportFilters) -> list[dict]:
    """By the month each concern was logged: how many of them have been acted on
    (`with_action`), and the median time from being logged to the first action (None in a
    month with none): from the histogram (`first_action_times`), or from the concerns
    themselves for one category."""
    return first_action_report(f)["months"]


def first_action_report(f: ReportFilters) -> dict:
    """Every figure of the time to the first action on the page, together: the period's
    (`now`) and the previous period's (`previous`), as `action_figures` gives them, and the
    period's by month (`months`, as `action_time_by_month`). From the histogram by day, the
    previous period and each month one part of one query, the period the sum of its months
    (`first_action_times`): one query, two when a middle time lies inside a bucket. For one
    category, from the concerns themselves, three queries."""
    before = f.previous_period()
    if f.category:
        return {
            "now": action_figures_from_concerns(f),
            "previous": action_figures_from_concerns(before),
            "months": action_time_by_month_from_concerns(f),
        }
    rows = _month_axis(f)
    months_of = {
        row["key"]: (max(m, f.start), min(_next_month(m) - ONE_DAY, f.end))
        for row, m in zip(rows, months(f), strict=True)
    }
    found = first_action_times(f, {"previous": (before.start, before.end), **months_of}, "now")
    for row in rows:
        row["with_action"] = found[row["key"]]["count"]
        row["median_time_to_first_action"] = found[row["key"]]["median"]

    def figures(key: str) -> dict:
        return {
            "with_action": found[key]["count"],
            "median_time_to_first_action": found[key]["median"],
        }

    return {"now": figures("now"), "previous": figures("previous"), "months": rows}


def action_time_by_month_from_concerns(f: ReportFilters) -> list[dict]:
    """`action_time_by_month` from the concerns acted on: one query (`medians_by`), ungrouped
    rows, as `medians_by` needs on SQLite."""
    rows = _month_axis(f)
    found = medians_by(
        acted_on(f),
        TIME_TO_FIRST_ACTION,
        {row["key"]: in_month("logged_at", m) for row, m in zip(rows, months(f), strict=True)},
    )
    for row in rows:
        row["with_action"] = found[row["key"]]["count"]
        row["median_time_to_first_action"] = found[row["key"]]["median"]
    return rows


def top_locations(f: ReportFilters, limit: int = TOP_LOCATIONS) -> list[dict]:
    """The places named most often, within each borough (the same words in two boroughs are
    two places), ignoring case and surrounding spaces, each labelled with the first of its
    spellings in the period (in the database's order), the most named first, then by borough
    and label.

    From the report's PlaceDay rows (concerns.rollup), a row per day and place rather than
    per concern, in two steps: summed by borough and place first, and only those few sums
    then joined to the boroughs and merged by the borough's name (merged_places)."""
    summed = (
        days(f, PlaceDay)
        .values(place_borough=F("borough_id"), place_key=F("place"))
        .annotate(place_label=Min("label"), n=Sum("concerns"))
    )
    return merged_places(summed, "places.place_key", limit)


def merged_places(places: QuerySet, key: str, limit: int) -> list[dict]:
    """The most named of `places` (rows of place_borough, place_label and a count n), merged
    within each borough's name by `key` (SQL over `places`), each labelled with the least of
    its labels: the most named first, then by borough and label. Django cannot select from a
    subquery, hence the raw outer query around the ORM's own SQL."""
    sql, params = places.query.sql_with_params()
    borough = connection.ops.quote_name(Borough._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT MIN(places.place_label), boroughs.name, SUM(places.n) AS total
            FROM ({sql}) AS places
            JOIN {borough} AS boroughs ON boroughs.id = places.place_borough
            GROUP BY boroughs.name, {key}
            ORDER BY total DESC, boroughs.name, MIN(places.place_label)
            LIMIT %s
            """,  # noqa: S608 - `key` is this module's or reports.reference's; values are parameters
            [*params, limit],
        )
        return [
            {"label": label, "borough_name": name, "count": int(total)}
            for label, name, total in cursor.fetchall()
        ]


def actions_by_partner(f: ReportFilters) -> list[dict]:
    """Actions on the report's concerns, by the partner they involved, with how many of each
    partner's actions set each status (`by_status`, in ACTION_STATUSES' order, and by name):
    sums of the report's ActionDay rows (concerns.rollup), one query."""
    statuses = {s.value: Sum(s.value) for s in ACTION_STATUSES}
    rows = list(
        days(f, ActionDay)
        .values("partner")
        .annotate(count=Sum("actions"), **statuses)
        .order_by("-count", "partner")
    )
    return partner_rows(rows)


def partner_rows(rows: list[dict]) -> list[dict]:
    """The rows of `actions_by_partner` (partner, count, a count per status), labelled."""
    labels = dict(Partner.choices)
    # Labels for the handful of aggregated rows, at most one per partner.
    return [
        {
            **row,
            "key": row["partner"],
            "label": labels.get(row["partner"], NO_PARTNER_LABEL),
            "by_status": [row[s.value] for s in ACTION_STATUSES],
        }
        for row in rows
    ]


def referrals_by_partner(f: ReportFilters) -> list[dict]:
    """The report's concerns referred to partners (partners/), by partner: how many, how many
    answered, fixed, handed back and overdue now (ReferralQuerySet.overdue's condition), and
    the median time from the referral to the first answer and to the fix."""
    rows = Referral.objects.filter(concern_filter(f, Referral)).order_by()
    found = grouped_with_medians(
        rows,
        ["partner", "partner__name"],
        {
            "count": Count("pk"),
            "answered": Count("answered_at"),
            "fixed": Count("fixed_at"),
            "returned": Count("pk", filter=Q(status=Referral.Status.RETURNED)),
            "overdue": Count("pk", filter=overdue_q(f.now)),
        },
        median_to_answer=F("answered_at") - F("referred_at"),
        median_to_fix=F("fixed_at") - F("referred_at"),
    )
    found.sort(key=lambda row: (-row["count"], row["partner__name"]))
    return [{**row, "label": row["partner__name"]} for row in found]


# --- The CSV ----------------------------------------------------------------------------------

CSV_HEADER = [
    "Concern ID",
    "Logged on",
    "BCU code",
    "BCU",
    "Borough",
    "Category group",
    "Category",
    "Location",
    "Latitude (approx.)",
    "Longitude (approx.)",
    "When it feels unsafe",
    "What was said",
    "Status",
    "Partner",
    "First action on",
]


def csv_rows(f: ReportFilters):
    """The report's concerns, oldest first, as tuples in CSV_HEADER's order less the category
    group (codes, not labels: the caller labels them and adds the group; dates are London
    dates). Never who logged it, nor anything about who walked. A server-side cursor reads them
    a chunk at a time: flat memory at any size. Iterate inside `snapshot()`, so the cursor
    streams rows as PostgreSQL finds them; outside a transaction Django holds the cursor open
    WITH HOLD, which makes PostgreSQL compute every row before sending the first."""
    return (
        concerns(f)
        .annotate(
            logged_on=TruncDate("logged_at", tzinfo=LONDON),
            lat_approx=Round("lat", CSV_COORDINATE_PLACES),
            lng_approx=Round("lng", CSV_COORDINATE_PLACES),
            first_action_on=TruncDate("first_action_at", tzinfo=LONDON),
        )
        .order_by("logged_at", "pk")
        .values_list(
            "pk",
            "logged_on",
            "bcu__code",
            "bcu__name",
            "borough__name",
            "category",
            "location_text",
            "lat_approx",
            "lng_approx",
            "times_unsafe",
            "description",
            "status",
            "partner",
            "first_action_on",
        )
        .iterator(chunk_size=CSV_CHUNK_ROWS)
    )


# --- The filters, as a form: shape and scope are checked here ------------------------------


class ReportFilterForm(PlainTextForm, forms.Form):
    """The report's query parameters, the same for the page and the CSV. The reader is offered
    only the BCUs and boroughs she may see (`visible_to`), so `?bcu=` or `?borough=` naming
    another fails validation like any other bad value; one scoped to a BCU reads only it.
    Staff with no officer record have no report: PermissionDenied, from bcu_scope."""

    bcu = forms.ModelChoiceField(
        queryset=BCU.objects.none(),
        to_field_name="code",
        required=False,
        label="BCU",
        empty_label="All of London",
        error_messages={"invalid_choice": "Choose a BCU from the list."},
    )
    borough = forms.ModelChoiceField(
        queryset=Borough.objects.none(),
        to_field_name="slug",
        required=False,
        empty_label="All boroughs",
        error_messages={"invalid_choice": "Choose a borough from the list."},
    )
    category = forms.ChoiceField(
        required=False,
        choices=[("", "All categories")]
        + [
            (label, [(c.value, c.label) for c in cats])
            for _, label, cats in CATEGORY_GROUPS
            if len(cats) > 1
        ]
        + [(Concern.Category.OTHER.value, Concern.Category.OTHER.label)],
        error_messages={"invalid_choice": "Choose a category from the list."},
    )

    def __init__(self, data=None, *, user, today: date | None = None):
        # Her BCU, or None for all of London: the report is pinned to it when nothing narrower
        # is chosen.
        self.scope = bcu_scope(user)
        self.today = today or timezone.localdate()
        self.default_start = self.today - timedelta(days=DEFAULT_DAYS - 1)
        if data is not None:
            # A missing or empty date means the default period: the form shows it filled in.
            data = data.copy()
            if not data.get("from"):
                data["from"] = self.default_start.isoformat()
            if not data.get("to"):
                data["to"] = self.today.isoformat()
        super().__init__(data)
        # "from" is a Python keyword, so the two dates are added here rather than declared.
        self.fields = {
            "from": forms.DateField(
                label="From",
                input_formats=["%Y-%m-%d"],
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                error_messages={
                    "required": "Enter the first day of the period.",
                    "invalid": "Enter the first day as a real date, like 2026-03-01.",
                },
            ),
            "to": forms.DateField(
                label="To",
                input_formats=["%Y-%m-%d"],
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                error_messages={
                    "required": "Enter the last day of the period.",
                    "invalid": "Enter the last day as a real date, like 2026-03-31.",
                },
            ),
            **self.fields,
        }
        self.fields["bcu"].queryset = BCU.objects.visible_to(user)
        self.fields["borough"].queryset = Borough.objects.visible_to(user).select_related("bcu")
        if self.scope is not None:
            # Her own BCU is the only choice: no "All of London" she could not see anyway.
            self.fields["bcu"].empty_label = None
        for widget in (f.widget for f in self.fields.values()):
            widget.attrs["class"] = (
                "form-select" if isinstance(widget, forms.Select) else "form-control"
            )

    def full_clean(self):
        """After checking, tie each field to its hint and its error for screen readers."""
        super().full_clean()
        for name, form_field in self.fields.items():
            described_by = [HINTS[name]] if name in HINTS else []
            if name in self.errors:
                described_by.append(f"{self[name].auto_id}_error")
                form_field.widget.attrs["class"] += " is-invalid"
            if described_by:
                form_field.widget.attrs["aria-describedby"] = " ".join(described_by)

    def clean_from(self):
        return self._in_bounds(self.cleaned_data["from"], "first")

    def clean_to(self):
        return self._in_bounds(self.cleaned_data["to"], "last")

    def _in_bounds(self, day: date, which: str) -> date:
        latest = self.today + timedelta(days=366)
        if not EARLIEST <= day <= latest:
            raise forms.ValidationError(
                f"The {which} day must be between {_day(EARLIEST)} and {_day(latest)}.",
                code="out_of_range",
            )
        return day

    def clean(self):
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        if start and end:
            if end < start:
                self.add_error("to", "The last day must be the same as or after the first day.")
            elif (end - start).days >= MAX_DAYS:
                self.add_error("from", "Choose a period of 5 years or less.")
        bcu, borough = data.get("bcu"), data.get("borough")
        if self.scope is not None and bcu is None:
            data["bcu"] = bcu = self.scope
        if bcu is not None and borough is not None and borough.bcu_id != bcu.pk:
            self.add_error(
                "borough",
                f"{borough.name} is not in {bcu.name}. Choose one of its boroughs, or all.",
            )
        return data

    def filters(self, now: datetime | None = None) -> ReportFilters:
        """The validated filters; call after is_valid()."""
        data = self.cleaned_data
        return ReportFilters(
            start=data["from"],
            end=data["to"],
            bcu=data["bcu"],
            borough=data["borough"],
            category=data["category"],
            now=now or timezone.now(),
        )
