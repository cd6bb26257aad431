"""The commanders' reports: /reports/ and /reports/concerns.csv."""

import csv
import io

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from concerns.models import ConcernStatus, Partner
from walkandtalk.text import neutralise

from . import charts, compare
from . import queries as reports
from .map import ATTRIBUTION as MAP_ATTRIBUTION
from .map import borough_map

# Cells a spreadsheet would run as a formula: a quote in front makes them text (OWASP's advice).
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_FLUSH_BYTES = 64 * 1024


def _report_errors(form) -> list[tuple[str, str]]:
    return [
        (form[name].auto_id if name in form.fields else "", message)
        for name, errors in form.errors.items()
        for message in errors
    ]


def _report_query(f: reports.ReportFilters, borough: dict | None = None) -> str:
    """The filters as a query string, so a shared link or the CSV gives the same report; with
    `borough` (a row of `concerns_by_borough`), the same report narrowed to that borough."""
    params = {"from": f.start.isoformat(), "to": f.end.isoformat()}
    if f.bcu is not None:
        params["bcu"] = f.bcu.code
    if borough is not None:
        params["borough"] = borough["slug"]
    elif f.borough is not None:
        params["borough"] = f.borough.slug
    if f.category:
        params["category"] = f.category
    return urlencode(params)


def _report_place(f: reports.ReportFilters) -> str:
    if f.borough is not None:
        return f"{f.borough.name} ({f.borough.bcu.name})"
    return f.bcu.name if f.bcu is not None else "All of London"


def _count(n: int | None) -> str:
    return "No data" if n is None else f"{n:,}"


def _percent(share: float | None) -> str:
    return "No data" if share is None else f"{round(share * 100)}%"


def _duration(value) -> str:
    if value is None:
        return "No data"
    hours = value.total_seconds() / 3600
    return f"{hours:.0f} hours" if hours < 48 else f"{hours / 24:.1f} days"


def _item(label: str, value: str, note: str = "", change: str = "") -> dict:
    return {"label": label, "value": value, "note": note, "change": change}


def _headline_sections(figures: dict, previous: dict, days: int) -> list[dict]:
    """The headline figures as they read on the page: label, value, what it counts, and how it
    compares with the same figure in `previous` (the previous period, `days` long)."""
    walks, requests, found = figures["walks"], figures["requests"], figures["concerns"]
    actions, survey = figures["actions"], figures["survey"]
    answered = requests["scheduled"] + requests["declined"]

    def count(section: str, key: str) -> str:
        return compare.count_change(figures[section][key], previous[section][key], days)

    def share(section: str, key: str) -> str:
        return compare.share_change(figures[section][key], previous[section][key], days)

    def duration(section: str, key: str) -> str:
        now, before = figures[section][key], previous[section][key]
        return compare.duration_change(now, before, days, _duration)

    return [
        {
            "title": "Walks",
            "items": [
                _item(
                    "Walks held",
                    _count(walks["held"]),
                    "Walks that started and were not cancelled.",
                    count("walks", "held"),
                ),
                _item(
                    "Women who walked",
                    _count(walks["walked"]),
                    f"Places taken and kept ({walks['attended']:,}), and women who joined "
                    f"without booking ({walks['walk_ins']:,}).",
                    count("walks", "walked"),
                ),
                _item(
                    "Attendance rate",
                    _percent(walks["attendance_rate"]),
                    "Of the places where an officer recorded who came.",
                    share("walks", "attendance_rate"),
                ),
                _item(
                    "No-shows",
                    _count(walks["no_shows"]),
                    "Booked, but did not come.",
                    count("walks", "no_shows"),
                ),
                _item(
                    "Walks cancelled by the police",
                    _count(walks["cancelled"]),
                    "",
                    count("walks", "cancelled"),
                ),
            ],
        },
        {
            "title": "Route requests",
            "items": [
                _item(
                    "Requests received",
                    _count(requests["received"]),
                    "",
                    count("requests", "received"),
                ),
                _item(
                    "Median time to answer",
                    _duration(requests["median_time_to_answer"]),
                    f"{answered:,} answered; {requests['waiting']:,} still waiting.",
                    duration("requests", "median_time_to_answer"),
                ),
            ],
        },
        {
            "title": "Concerns",
            "items": [
                _item(
                    "Concerns logged",
                    _count(found["logged"]),
                    "",
                    count("concerns", "logged"),
                ),
                _item(
                    "With an action",
                    _percent(actions["share"]),
                    f"{actions['with_action']:,} of {found['logged']:,} concerns.",
                    share("actions", "share"),
                ),
                _item(
                    "Median time to first action",
                    _duration(actions["median_time_to_first_action"]),
                    "From being logged to the first action.",
                    duration("actions", "median_time_to_first_action"),
                ),
                _item(
                    "Open for more than 30 days",
                    _count(found["open_over_30_days"]),
                    "Still open, with no action, 30 days after being logged.",
                    count("concerns", "open_over_30_days"),
                ),
            ],
        },
        {
            "title": "Survey after the walk",
            "items": [
                _item(
                    "Responses",
                    _count(survey["responses"]),
                    "",
                    count("survey", "responses"),
                ),
                _item(
                    "Felt safer after the walk",
                    _percent(survey["felt_safer_share"]),
                    f"{survey['felt_safer']:,} of {survey['responses']:,} who answered.",
                    share("survey", "felt_safer_share"),
                ),
                _item(
                    "Change in confidence in the police",
                    _mean(survey["confidence_change"]),
                    "Average change, on a scale of 1 to 5, from before the walk to after.",
                    compare.mean_change(
                        survey["confidence_change"],
                        previous["survey"]["confidence_change"],
                        days,
                    ),
                ),
            ],
        },
    ]


def _mean(value: float | None) -> str:
    return "No data" if value is None else f"{value:+.1f}"


def _trends(by_month: list[dict], survey: list[dict], action_time: list[dict]) -> list[dict]:
    """The four trends over the months, each a chart and the table of its figures."""
    groups = [(key, label) for key, label, _ in reports.CATEGORY_GROUPS]

    def days_of(value) -> float | None:
        return None if value is None else round(value.total_seconds() / 86400, 1)

    for row in action_time:
        row["days"] = days_of(row["median_time_to_first_action"])
    for row in survey:
        share = row["felt_safer_share"]
        row["percent"] = None if share is None else round(share * 100)
        change = row["confidence_change"]
        row["change"] = None if change is None else round(change, 1)
    return [
        {
            "id": "month",
            "title": "Concerns by month",
            "note": "By the month the concern was logged, in its category group.",
            "stacked": True,
            "chart": charts.stacked_column_chart(by_month, groups),
            "table": {
                "caption": "Concerns logged in each month, by category group",
                "columns": [label for _, label in groups] + ["All"],
                "rows": [
                    {
                        "label": row["label"],
                        "cells": [g["count"] for g in row["groups"]] + [row["count"]],
                    }
                    for row in by_month
                ],
            },
        },
        {
            "id": "safer-month",
            "title": "Felt safer after the walk, by month",
            "note": "By the month of the walk: the share of those who answered the survey who "
            "felt safer after the walk than before.",
            "chart": charts.column_chart(
                survey,
                label="short",
                sublabel="year",
                value="percent",
                text=lambda n: f"{n:.0f}%",
                top=100,
            ),
            "empty_text": "Nothing to chart: no survey answers in these months.",
            "table": {
                "caption": "Women who felt safer after the walk, by the month of the walk",
                "columns": ["Answers", "Felt safer", "Share"],
                "rows": [
                    {
                        "label": row["label"],
                        "cells": [
                            row["responses"],
                            row["felt_safer"],
                            _percent(row["felt_safer_share"]),
                        ],
                    }
                    for row in survey
                ],
            },
        },
        {
            "id": "confidence-month",
            "title": "Change in confidence in the police, by month",
            "note": "By the month of the walk: the average change, on a scale of 1 to 5, from "
            "before the walk to after. Below the line, confidence fell.",
            "chart": charts.column_chart(
                survey, label="short", sublabel="year", value="change", text=_mean
            ),
            "empty_text": "Nothing to chart: no change, or no survey answers, in these months.",
            "table": {
                "caption": "Average change in confidence in the police, by the month of the walk",
                "columns": ["Answers", "Average change"],
                "rows": [
                    {
                        "label": row["label"],
                        "cells": [row["responses"], _mean(row["confidence_change"])],
                    }
                    for row in survey
                ],
            },
        },
        {
            "id": "action-time-month",
            "title": "Median time to first action, by month",
            "note": "By the month the concern was logged, of those acted on so far (the chart "
            "gives days): concerns from recent months that are still waiting are not in the "
            "median yet.",
            "chart": charts.column_chart(
                action_time,
                label="short",
                sublabel="year",
                value="days",
                text=lambda n: f"{n:.1f}",
            ),
            "empty_text": "Nothing to chart: none of these concerns has an action yet.",
            "table": {
                "caption": "Median time from being logged to the first action, by the month "
                "the concern was logged",
                "columns": ["Concerns acted on", "Median time"],
                "rows": [
                    {
                        "label": row["label"],
                        "cells": [
                            row["with_action"],
                            _duration(row["median_time_to_first_action"]),
                        ],
                    }
                    for row in action_time
                ],
            },
        },
    ]


def _referral_rows(rows: list[dict]) -> list[dict]:
    """Referrals by partner, with their medians as the page words durations."""
    for row in rows:
        row["to_answer"] = _duration(row["median_to_answer"])
        row["to_fix"] = _duration(row["median_to_fix"])
    return rows


@login_required
@permission_required("concerns.view_reports", raise_exception=True)
@never_cache
@require_GET
def report(request):
    """Commanders' report: walks, requests, concerns and the survey, for their BCU or London."""
    form = reports.ReportFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        context = {"form": form, "error_links": _report_errors(form)}
        return render(request, "concerns/reports.html", context, status=400)
    f = form.filters()
    with reports.snapshot():
        counts = reports.concern_counts(f)  # read once, shared by the figures below
        times = reports.first_action_report(f)  # the time to act: now, before, by month
        figures = reports.headline(f, counts, times["now"])
        previous = reports.headline(f.previous_period(), actions=times["previous"])
        categories = reports.concerns_by_category(f, counts)
        by_time = reports.concerns_by_time_of_day(f, counts)
        statuses = reports.concerns_by_status(f, counts)
        boroughs = reports.concerns_by_borough(f)  # the map's, and by borough the table's
        by_area = reports.concerns_by_area(f, boroughs)
        zoomed = reports.area_level(f) == "borough"
        positions = reports.concern_positions(f) if zoomed else None
        by_month = reports.concerns_by_month(f)
        survey_by_month = reports.survey_by_month(f)
        action_time_by_month = times["months"]
        locations = reports.top_locations(f)
        partners = reports.actions_by_partner(f)
        referrals = _referral_rows(reports.referrals_by_partner(f))
    in_categories = [row for group in categories for row in group["categories"]]
    context = {
        "form": form,
        "filters": f,
        "place": _report_place(f),
        "category_label": dict(reports.Concern.Category.choices).get(f.category, ""),
        "days": f.days,
        "previous": f.previous_period(),
        "query": _report_query(f),
        "sections": _headline_sections(figures, previous, f.days),
        "logged": figures["concerns"]["logged"],
        "categories": categories,
        "category_chart": charts.bar_chart(in_categories, group="group"),
        "area_level": reports.area_level(f),
        "by_area": by_area,
        "area_chart": charts.bar_chart(by_area),
        "map": borough_map(
            boroughs,
            link=lambda row: "?" + _report_query(f, borough=row),
            positions=positions,
            points_limit=reports.MAP_POINTS,
        ),
        "map_attribution": MAP_ATTRIBUTION,
        "by_time": by_time,
        "time_chart": charts.bar_chart(by_time),
        "by_month": by_month,
        "trends": _trends(by_month, survey_by_month, action_time_by_month),
        "locations": locations,
        "location_chart": charts.bar_chart(locations),
        "partners": partners,
        "partner_chart": charts.bar_chart(partners),
        "statuses": statuses,
        "status_chart": charts.bar_chart(statuses),
        "action_statuses": reports.ACTION_STATUSES,
        "referrals": referrals,
        "reminder_days": settings.PARTNER_REMINDER_DAYS,
        "generated_at": timezone.localtime(f.now),
    }
    return render(request, "concerns/reports.html", context)


def _csv_cell(value):
    # Also rows stored before forms refused control and invisible characters.
    value = neutralise(value)
    if isinstance(value, str) and value.startswith(CSV_FORMULA_STARTS):
        return "'" + value
    return value


def _csv_stream(f: reports.ReportFilters):
    """CSV text in chunks of about 64 KB, from rows read a chunk at a time by the database's
    cursor: memory stays flat however many concerns there are. A byte-order mark first, so
    Excel reads the file as UTF-8."""
    categories = dict(reports.Concern.Category.choices)
    groups = {key: label for key, label, _ in reports.CATEGORY_GROUPS}
    statuses = dict(ConcernStatus.choices)
    partners = dict(Partner.choices)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(reports.CSV_HEADER)
    with reports.snapshot():
        for row in reports.csv_rows(f):
            (pk, logged_on, bcu_code, bcu, borough, category, location, lat, lng, when, said,
             status, partner, first_action_on) = row  # fmt: skip
            cells = (
                pk,
                logged_on,
                bcu_code,
                bcu,
                borough,
                groups[reports.GROUP_OF_CATEGORY[category]],
                categories.get(category, category),
                location,
                lat,
                lng,
                "; ".join(reports.Concern.times_labels(when)),
                said,
                statuses.get(status, status),
                partners.get(partner, partner),
                first_action_on,
            )
            writer.writerow([_csv_cell(cell) for cell in cells])
            if buffer.tell() >= CSV_FLUSH_BYTES:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


def _csv_filename(f: reports.ReportFilters) -> str:
    place = f.borough.slug if f.borough else f.bcu.code.lower() if f.bcu else "london"
    category = f"-{f.category.replace('_', '-')}" if f.category else ""
    return f"walk-and-talk-concerns-{place}{category}-{f.start:%Y-%m-%d}-to-{f.end:%Y-%m-%d}.csv"


@login_required
@permission_required("concerns.view_reports", raise_exception=True)
@never_cache
@require_GET
def report_csv(request):
    """The report's concerns as CSV, with the page's filters. No personal data: not who logged
    a concern, nothing about the women on the walk, and positions rounded to about 100 m."""
    form = reports.ReportFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        problems = "\n".join(f"- {message}" for _, message in _report_errors(form))
        return HttpResponse(
            f"These report filters cannot be used:\n{problems}\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    f = form.filters()
    response = StreamingHttpResponse(_csv_stream(f), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_csv_filename(f)}"'
    return response
