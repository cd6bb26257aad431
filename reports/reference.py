"""The report's figures computed from the concerns and actions themselves, as they were before
the page read them from the counts by day (concerns.rollup: `ConcernDay`, `FirstActionDay`,
`ActionDay`, `PlaceDay`): the reference that the rollups are checked against
(tests/concerns/test_rollup.py) and timed against (the reports benchmark,
bench/report_bench.py). The page never calls this module.

Each function returns exactly what its namesake in reports.queries returns."""

from django.db.models import Case, CharField, Count, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from concerns.models import Concern, ConcernAction, ConcernStatus

from . import queries
from .queries import (
    ACTION_STATUSES,
    CATEGORY_GROUPS,
    GROUP_OF_CATEGORY,
    OPEN_TOO_LONG,
    TOP_LOCATIONS,
    ReportFilters,
    _month_rows,
    _next_month,
    concern_filter,
    concerns,
    local_midnight,
    months,
)


def counted_in(f: ReportFilters):
    """A place's concerns, counted one by one."""
    return concerns(f), Count("*")


def concern_counts(f: ReportFilters) -> dict:
    """`queries.concern_counts` from the concerns: grouped first by (category, the times of
    day given, status), at most 900 groups from one pass over the covering index, each count
    then a sum over those groups."""
    stale = Q(status=ConcernStatus.OPEN, logged_at__lt=f.now - OPEN_TOO_LONG)
    groups = (
        concerns(f)
        .values("category", "times_unsafe", "status")
        # Counting logged_at (never null) rather than the id keeps to the covering index.
        .annotate(n=Count("*"), stale=Count("logged_at", filter=stale))
    )

    def total(condition: Q | None = None, of: str = "n"):
        return Coalesce(Sum(of, filter=condition), 0)

    fields = {"logged": total(), "open_over_30_days": total(of="stale")}
    for key, _, categories in CATEGORY_GROUPS:
        fields[f"group_{key}"] = total(Q(category__in=categories))
    for name, choices in [("category", Concern.Category.values), ("status", ConcernStatus.values)]:
        for value in choices:
            fields[f"{name}_{value}"] = total(Q(**{name: value}))
    for when in Concern.TimeOfDay.values:
        fields[f"times_unsafe_{when}"] = total(Q(times_unsafe__in=Concern.masks_with(when)))
    return groups.aggregate(**fields)


def concerns_by_month(f: ReportFilters) -> list[dict]:
    """`queries.concerns_by_month` from the concerns, counted by category and month (the
    first month whose end is after the concern)."""
    month_of = Case(
        *[
            When(logged_at__lt=local_midnight(_next_month(m)), then=Value(m.isoformat()[:7]))
            for m in months(f)
        ],
        output_field=CharField(),
    )
    counts: dict[tuple[str, str], int] = {}
    for month, category, n in (
        concerns(f).values_list(month_of, "category").annotate(n=Count("*")).order_by()
    ):
        key = (month, GROUP_OF_CATEGORY.get(category, "other"))
        counts[key] = counts.get(key, 0) + n
    return _month_rows(f, counts)


def concerns_by_borough(f: ReportFilters) -> list[dict]:
    return queries.concerns_by_borough(f, counted_in)


def concerns_by_area(f: ReportFilters, boroughs: list[dict] | None = None) -> list[dict]:
    return queries.concerns_by_area(f, boroughs, counted_in)


def headline(f: ReportFilters, counts: dict) -> dict:
    """`queries.headline`, its concern counts given and its action figures from the concerns."""
    return queries.headline(f, counts, queries.action_figures_from_concerns(f))


def action_figures(f: ReportFilters) -> dict:
    return queries.action_figures_from_concerns(f)


def action_time_by_month(f: ReportFilters) -> list[dict]:
    return queries.action_time_by_month_from_concerns(f)


def top_locations(f: ReportFilters, limit: int = TOP_LOCATIONS) -> list[dict]:
    """`queries.top_locations` from the concerns, in two steps: the concerns are counted by
    their exact words first (a cheap hash of the text, from the covering index), and only
    those distinct texts are then lowered, trimmed and merged."""
    exact = (
        concerns(f)
        .values(place_borough=F("borough_id"), place_label=F("location_text"))
        .annotate(n=Count("*"))
    )
    return queries.merged_places(exact, "LOWER(TRIM(places.place_label))", limit)


def actions_by_partner(f: ReportFilters) -> list[dict]:
    """`queries.actions_by_partner` from the actions on the report's concerns."""
    statuses = {s.value: Count("pk", filter=Q(status=s)) for s in ACTION_STATUSES}
    rows = list(
        ConcernAction.objects.filter(concern_filter(f, ConcernAction))
        .values("partner")
        .annotate(count=Count("*"), **statuses)
        .order_by("-count", "partner")
    )
    return queries.partner_rows(rows)


def report(f: ReportFilters) -> dict:
    """Every figure on the page, as reports.views.report reads them inside `snapshot()`, with
    the counts of concerns, actions and places made from the concerns and actions
    themselves."""
    counts = concern_counts(f)
    boroughs = concerns_by_borough(f)
    zoomed = queries.area_level(f) == "borough"
    return {
        "figures": queries.headline(f, counts),
        "previous": queries.headline(f.previous_period(), concern_counts(f.previous_period())),
        "categories": queries.concerns_by_category(f, counts),
        "by_time": queries.concerns_by_time_of_day(f, counts),
        "statuses": queries.concerns_by_status(f, counts),
        "boroughs": boroughs,
        "by_area": concerns_by_area(f, boroughs),
        "positions": queries.concern_positions(f) if zoomed else None,
        "by_month": concerns_by_month(f),
        "survey_by_month": queries.survey_by_month(f),
        "action_time_by_month": queries.action_time_by_month_from_concerns(f),
        "locations": top_locations(f),
        "partners": actions_by_partner(f),
        "referrals": queries.referrals_by_partner(f),
    }
