"""Facts about concerns kept for the commander reports, so a report reads them rather than
computing them again from every concern and action: each concern's first action's time
(`Concern.first_action_at`), the concerns counted by day (`ConcernDay`), the times to their
first action counted by day (`FirstActionDay`), the actions counted by their concern's day
and by partner (`ActionDay`), and the places named counted by day (`PlaceDay`).

**Kept in the same transaction as the write, by one owner.** Every save or delete of a concern
or an action, through any path (log_concern, the debrief, record_action, the admin's edit and
delete, the shell, a test's factory), reaches this module through the model signals registered
here, inside the transaction of that write: a report never reads counts that disagree with the
concerns, and there is no sweep, lag or "figures up to N minutes old" to explain. Bulk writes
that send no signals (bulk_create, update(), raw SQL: seed_demo's volume, the benchmarks' data)
call `rebuild()` afterwards. Privacy's erasure and purge never change a concern (concerns hold
no one's identity), so they have nothing to tell the counts.

**A day is recounted, not incremented.** A write recounts the rows of the London day and
borough of the concern it touched (`refresh`) from the concerns themselves: tens of concerns
at a million a year, through the (borough, logged_at) index, and an idempotent result
whatever happened before, so a missed or doubled signal cannot leave a count drifting. Two
writers on the same day take turns on a transaction-level advisory lock (PostgreSQL; SQLite
writes one at a time anyway), so the second recounts after the first has committed and counts
both.

**What is counted.** The ConcernDay rows are keyed by what a report filters on (day, BCU,
borough, category) and hold what it sums (in all, by status, by time of day): every count on
the page is a sum of these rows, and "open for more than 30 days" adds, for its one partial
day, a count of the concerns themselves.

**Actions and places.** An action is counted under its concern's day, borough and category
(what the report filters actions on), by its partner, with one column per status it set:
writing an action already recounts its concern's cell, and so does moving a concern, which
takes its actions along. A place is counted under its words as the report merges them (the
database's own lower(trim()), so they merge exactly as they always have) with the first of
their spellings (MIN, the label the report shows): a period's count is the sum of its days'
and its label the least of theirs. Category is a key of both (a few more rows, since a
place's or a partner's concerns mostly share one category), so a report of one category
reads them too. A place named on many days costs a row a day; one named once costs a row,
as much as its concern: the saving is in the places named again and again, the ones the
report lists.

**Medians, exactly.** A median is not a sum, and the page shows the median time to the first
action to the hour (or to a tenth of a day), so an approximate one from a histogram would
sometimes read differently from the concerns'. FirstActionDay keeps, per day and borough, a
histogram of that time in fixed buckets (`bucket_of`: by the hour for the first week, then by
the day, so a day and borough have a few dozen rows at most), each with its count and its
shortest and longest time. Those are sums, minimums and maximums, so a period's histogram is
one grouped query over its rows; it says which bucket holds the middle one or two concerns
and where in it. When that bucket holds only one duration, or the middle one is its shortest
or longest, the median is known exactly from the rows; otherwise a second query reads only
the concerns of that bucket in the period, through the (time to first action, logged_at)
index, to find the exact middle. The same answer as PERCENTILE_CONT over every concern,
without reading every concern. A report narrowed to one category (not a key here: it would
multiply the rows twelvefold) reads the concerns of that category instead, a small share.
"""

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from django.apps import apps as django_apps
from django.db import connection, transaction
from django.db.models import Count, Exists, Min, OuterRef, Q, Subquery
from django.db.models.functions import Lower, Trim, TruncDate
from django.db.models.signals import post_delete, post_init, post_save
from django.utils import timezone

from .models import (
    ActionDay,
    Concern,
    ConcernAction,
    ConcernDay,
    ConcernStatus,
    FirstActionDay,
    PlaceDay,
)

LONDON = ZoneInfo("Europe/London")
# The first key of the advisory locks taken here (the second is the day): any number no other
# part of the project uses.
DAY_LOCK = 7_401
BATCH = 2000


def local_midnight(day: date) -> datetime:
    """The first moment of a London calendar day, whatever the clocks do."""
    return datetime.combine(day, time.min, tzinfo=LONDON)


def london_day(moment: datetime) -> date:
    return timezone.localtime(moment, LONDON).date()


Cell = tuple[date, int]  # a London day and a borough's id

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
HOURLY_UNTIL = timedelta(days=7)
DAILY_UNTIL = timedelta(days=400)
# Bucket 0: an action recorded as before the concern; 1 to 168: each hour of the first
# week; then each day up to 400 days; the last, anything longer.
FIRST_DAILY = 1 + HOURLY_UNTIL // HOUR
LAST_BUCKET = FIRST_DAILY + (DAILY_UNTIL - HOURLY_UNTIL) // DAY


def bucket_of(duration: timedelta) -> int:
    """The histogram bucket of a time from being logged to the first action."""
    if duration < timedelta(0):
        return 0
    if duration < HOURLY_UNTIL:
        return 1 + duration // HOUR
    if duration < DAILY_UNTIL:
        return FIRST_DAILY + (duration - HOURLY_UNTIL) // DAY
    return LAST_BUCKET


def bucket_bounds(bucket: int) -> tuple[timedelta | None, timedelta | None]:
    """The times a bucket holds: from the first (included) to the second (excluded); None
    where it is open."""
    if bucket == 0:
        return None, timedelta(0)
    if bucket < FIRST_DAILY:
        return (bucket - 1) * HOUR, bucket * HOUR
    if bucket < LAST_BUCKET:
        start = HOURLY_UNTIL + (bucket - FIRST_DAILY) * DAY
        return start, start + DAY
    return DAILY_UNTIL, None


def logged_in(cells: Iterable[Cell], prefix: str = "") -> Q:
    """Concerns logged on one of these London days in its borough (`prefix`: the path to the
    concern, "concern__" from an action)."""
    q = Q(pk__in=[])
    for day, borough in cells:
        q |= Q(
            **{
                f"{prefix}borough_id": borough,
                f"{prefix}logged_at__gte": local_midnight(day),
                f"{prefix}logged_at__lt": local_midnight(day + timedelta(days=1)),
            }
        )
    return q


def _model(name: str, apps=None):
    """A model of this app as it is now, or as a migration's `apps` has it."""
    return (apps or django_apps).get_model("concerns", name)


def day_counts(condition: Q | None = None, apps=None) -> Iterator[ConcernDay]:
    """The ConcernDay rows of the concerns meeting `condition` (all of them if None), unsaved,
    from one grouped query read a chunk at a time."""
    concern_model, day_model = _model("Concern", apps), _model("ConcernDay", apps)
    statuses = {s: Count("pk", filter=Q(status=s)) for s in ConcernStatus.values}
    times = {
        t: Count("pk", filter=Q(times_unsafe__in=Concern.masks_with(t)))
        for t in Concern.TimeOfDay.values
    }
    rows = concern_model.objects.order_by()
    if condition is not None:
        rows = rows.filter(condition)
    grouped = (
        rows.annotate(day=TruncDate("logged_at", tzinfo=LONDON))
        .values("day", "bcu", "borough", "category")
        .annotate(counted=Count("pk"), **statuses, **times)
    )
    for row in grouped.iterator(chunk_size=BATCH):
        yield day_model(
            day=row.pop("day"),
            bcu_id=row.pop("bcu"),
            borough_id=row.pop("borough"),
            category=row.pop("category"),
            concerns=row.pop("counted"),
            **row,
        )


def first_action_counts(condition: Q | None = None, apps=None) -> Iterator[FirstActionDay]:
    """The FirstActionDay rows of the concerns meeting `condition` (all if None) that have
    an action, unsaved: their times are read a chunk at a time and bucketed here."""
    concern_model, row_model = _model("Concern", apps), _model("FirstActionDay", apps)
    rows = concern_model.objects.filter(first_action_at__isnull=False).order_by()
    if condition is not None:
        rows = rows.filter(condition)
    cells: dict[tuple, list] = {}
    for logged_at, first_at, bcu, borough in rows.values_list(
        "logged_at", "first_action_at", "bcu", "borough"
    ).iterator(chunk_size=BATCH):
        duration = first_at - logged_at
        key = (london_day(logged_at), bcu, borough, bucket_of(duration))
        cell = cells.get(key)
        if cell is None:
            cells[key] = [1, duration, duration]
        else:
            cell[0] += 1
            cell[1] = min(cell[1], duration)
            cell[2] = max(cell[2], duration)
    for (day, bcu, borough, bucket), (n, shortest, longest) in cells.items():
        yield row_model(
            day=day,
            bcu_id=bcu,
            borough_id=borough,
            bucket=bucket,
            concerns=n,
            shortest=shortest,
            longest=longest,
        )


def action_counts(condition: Q | None = None, apps=None) -> Iterator[ActionDay]:
    """The ActionDay rows of the actions on the concerns meeting `condition` (a condition on
    the actions, through "concern__"; all of them if None), unsaved, from one grouped query
    read a chunk at a time."""
    action_model, row_model = _model("ConcernAction", apps), _model("ActionDay", apps)
    rows = action_model.objects.order_by()
    if condition is not None:
        rows = rows.filter(condition)
    statuses = {s: Count("pk", filter=Q(status=s)) for s in ConcernStatus.values}
    grouped = (
        rows.annotate(day=TruncDate("concern__logged_at", tzinfo=LONDON))
        .values("day", "concern__bcu", "concern__borough", "concern__category", "partner")
        .annotate(counted=Count("pk"), **statuses)
    )
    for row in grouped.iterator(chunk_size=BATCH):
        yield row_model(
            day=row.pop("day"),
            bcu_id=row.pop("concern__bcu"),
            borough_id=row.pop("concern__borough"),
            category=row.pop("concern__category"),
            partner=row.pop("partner"),
            actions=row.pop("counted"),
            **row,
        )


def place_counts(condition: Q | None = None, apps=None) -> Iterator[PlaceDay]:
    """The PlaceDay rows of the concerns meeting `condition` (all of them if None), unsaved,
    from one grouped query read a chunk at a time: the database lowers and trims the words, as
    the report always has, so the places merge exactly as they did."""
    concern_model, row_model = _model("Concern", apps), _model("PlaceDay", apps)
    rows = concern_model.objects.order_by()
    if condition is not None:
        rows = rows.filter(condition)
    grouped = (
        rows.annotate(day=TruncDate("logged_at", tzinfo=LONDON), place=Lower(Trim("location_text")))
        .values("day", "bcu", "borough", "category", "place")
        .annotate(label=Min("location_text"), counted=Count("pk"))
    )
    for row in grouped.iterator(chunk_size=BATCH):
        yield row_model(
            day=row["day"],
            bcu_id=row["bcu"],
            borough_id=row["borough"],
            category=row["category"],
            place=row["place"],
            label=row["label"],
            concerns=row["counted"],
        )


def _lock_days(days: list[date]) -> None:
    """Writers of the same day take turns until the end of their transactions."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for day in days:  # in order, so two writers of several days cannot deadlock
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [DAY_LOCK, day.toordinal()])


def refresh(cells: Iterable[Cell]) -> None:
    """Recount the ConcernDay, FirstActionDay, ActionDay and PlaceDay rows of these (London
    day, borough) cells from the concerns and their actions: the one function every write of
    a concern or an action reaches, inside its transaction."""
    cells = sorted(set(cells))
    if not cells:
        return
    with transaction.atomic():
        _lock_days(sorted({day for day, _ in cells}))
        stale = Q(pk__in=[])
        for day, borough in cells:
            stale |= Q(day=day, borough_id=borough)
        for model in (ConcernDay, FirstActionDay, ActionDay, PlaceDay):
            model.objects.filter(stale).delete()
        ConcernDay.objects.bulk_create(list(day_counts(logged_in(cells))))
        FirstActionDay.objects.bulk_create(list(first_action_counts(logged_in(cells))))
        ActionDay.objects.bulk_create(list(action_counts(logged_in(cells, "concern__"))))
        PlaceDay.objects.bulk_create(list(place_counts(logged_in(cells))))


def rebuild_days(apps=None) -> int:
    """Every ConcernDay row again from all the concerns (after bulk writes, and by the
    migration that added them, with its `apps`). Returns the number of rows."""
    return _rebuild_rows("ConcernDay", day_counts, apps)


def _earliest_action():
    return (
        ConcernAction.objects.filter(concern=OuterRef("pk"))
        .order_by()
        .values("concern")
        .annotate(first=Min("at"))
        .values("first")
    )


def refresh_first_action(concern_ids: Iterable[int]) -> None:
    """Set each of these concerns' `first_action_at` to its earliest action's time, or None
    when it has none left: one UPDATE, right after an action is added, moved or deleted."""
    ids = list(concern_ids)
    if ids:
        Concern.objects.filter(pk__in=ids).update(first_action_at=Subquery(_earliest_action()))


def rebuild_first_actions() -> int:
    """`first_action_at` of every concern from its actions: after bulk writes, and by the
    migration that added it. Returns the number of concerns with an action."""
    actions = ConcernAction.objects.filter(concern=OuterRef("pk"))
    Concern.objects.filter(first_action_at__isnull=False).exclude(Exists(actions)).update(
        first_action_at=None
    )
    return Concern.objects.filter(Exists(actions)).update(
        first_action_at=Subquery(_earliest_action())
    )


def rebuild_first_action_days(apps=None) -> int:
    """Every FirstActionDay row again from the concerns' stored first actions (after bulk
    writes, and by the migration that added them). Returns the number of rows."""
    return _rebuild_rows("FirstActionDay", first_action_counts, apps)


def _rebuild_rows(name: str, rows: Callable[..., Iterator], apps=None) -> int:
    """Every row of the model `name` again, from `rows` (one of the counts above) over all
    the concerns. Returns the number of rows."""
    row_model = _model(name, apps)
    made = 0
    with transaction.atomic():
        row_model.objects.all().delete()
        found = rows(apps=apps)
        while batch := list(islice(found, BATCH)):
            made += len(row_model.objects.bulk_create(batch))
    return made


def rebuild_action_days(apps=None) -> int:
    """Every ActionDay row again from all the actions (after bulk writes, and by the
    migration that added them). Returns the number of rows."""
    return _rebuild_rows("ActionDay", action_counts, apps)


def rebuild_place_days(apps=None) -> int:
    """Every PlaceDay row again from all the concerns (after bulk writes, and by the
    migration that added them). Returns the number of rows."""
    return _rebuild_rows("PlaceDay", place_counts, apps)


def rebuild() -> None:
    """Every stored report fact from the concerns and actions themselves."""
    with transaction.atomic():
        rebuild_first_actions()
        rebuild_days()
        rebuild_first_action_days()
        rebuild_action_days()
        rebuild_place_days()


# --- The signals: the one path every write of a concern or an action takes -----------------


def _cell(concern: Concern) -> Cell | None:
    logged_at, borough = concern.__dict__.get("logged_at"), concern.__dict__.get("borough_id")
    if logged_at is None or borough is None:
        return None
    return london_day(logged_at), borough


def concern_loaded(sender, instance: Concern, **kwargs) -> None:
    """Remember the day and borough of a concern as read, so that moving it to another
    recounts the one it left too."""
    instance._rollup_cell = _cell(instance)


def concern_changed(sender, instance: Concern, **kwargs) -> None:
    """A concern was saved or deleted: recount its day in its borough (and the one it left,
    if it moved)."""
    cells = {_cell(instance), getattr(instance, "_rollup_cell", None)} - {None}
    refresh(cells)
    instance._rollup_cell = _cell(instance)


def action_loaded(sender, instance: ConcernAction, **kwargs) -> None:
    """Remember the concern of an action as read, so that moving it to another concern
    recounts the one it left too."""
    instance._rollup_concern = instance.__dict__.get("concern_id")


def action_changed(sender, instance: ConcernAction, **kwargs) -> None:
    """An action was saved or deleted: its concern's first action may have changed, and with
    it the time to act counted for its day, and its partner's and status's counts (of the
    concern it left, too, if it moved). When the concern itself is being deleted (its
    actions go first) its own deletion recounts the day after."""
    ids = {instance.concern_id, getattr(instance, "_rollup_concern", None)} - {None}
    refresh_first_action(ids)
    concerns = Concern.objects.filter(pk__in=ids).values("logged_at", "borough_id")
    refresh((london_day(c["logged_at"]), c["borough_id"]) for c in concerns)
    instance._rollup_concern = instance.concern_id


def register() -> None:
    post_init.connect(concern_loaded, sender=Concern, dispatch_uid="rollup-concern-loaded")
    post_save.connect(concern_changed, sender=Concern, dispatch_uid="rollup-concern-saved")
    post_delete.connect(concern_changed, sender=Concern, dispatch_uid="rollup-concern-deleted")
    post_init.connect(action_loaded, sender=ConcernAction, dispatch_uid="rollup-action-loaded")
    post_save.connect(action_changed, sender=ConcernAction, dispatch_uid="rollup-action-saved")
    post_delete.connect(action_changed, sender=ConcernAction, dispatch_uid="rollup-action-deleted")
