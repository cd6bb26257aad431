"""Pages after the walk: the officers' debrief, the survey, "you said, we did"; the reports."""

import csv
import io
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from django.views.defaults import page_not_found

from bookings.models import Booking
from patrols.models import BCU, Walk, bcu_scope
from walkandtalk.text import neutralise

from . import charts, reports
from .forms import (
    MAX_CONCERNS_PER_DEBRIEF,
    AttendanceForm,
    ConcernForm,
    ConcernFormSet,
    FeedbackForm,
    error_links,
)
from .models import Concern, ConcernStatus, Feedback, Partner
from .services import (
    booking_for_feedback,
    can_debrief,
    complete_debrief,
    debrief_bookings,
    debrief_closes_at,
    debrief_state,
    submit_feedback,
)

# --- After the walk (issue 6): debrief, survey, "you said, we did" --------------------------


def no_referrer(view):
    """Pages opened by a secret link: the browser must not pass the link on to anyone."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404 as exception:
            response = page_not_found(request, exception)
        response["Referrer-Policy"] = "no-referrer"
        return response

    return wrapped


def _debrief_page(request, walk, state, attendance_form, formset, *, errors=(), status=200):
    links = list(errors) + error_links(attendance_form)
    for n, form in enumerate(formset.forms, start=1):
        links += error_links(form, prefix=f"Concern {n}: ")
    links += [("", message) for message in formset.non_form_errors()]
    context = {
        "walk": walk,
        "state": state,
        "closes_at": debrief_closes_at(walk),
        "attendance_form": attendance_form,
        "formset": formset,
        "error_links": links,
        "logged": walk.concerns.order_by("logged_at", "pk"),
        "can_add_more": len(formset.forms) < MAX_CONCERNS_PER_DEBRIEF,
    }
    return render(request, "concerns/debrief.html", context, status=status)


def _with_another_concern(data, bookings):
    """The page again with what she typed and one more blank concern: "add another" works
    without JavaScript. Nothing is checked or saved yet, so nothing shows as an error."""
    try:
        total = int(data.get("concerns-TOTAL_FORMS", 1))
    except ValueError:
        total = 1
    total = max(0, min(total, MAX_CONCERNS_PER_DEBRIEF))
    initial = [
        {name: data.get(f"concerns-{i}-{name}", "") for name in ConcernForm.base_fields}
        for i in range(total)
    ]
    if total < MAX_CONCERNS_PER_DEBRIEF:
        initial.append({})
    marked = {key: value for key, value in data.items() if key.startswith("booking_")}
    return (
        AttendanceForm(bookings=bookings, initial=marked),
        ConcernFormSet(prefix="concerns", initial=initial),
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def debrief(request, code):
    """After the walk, on a phone: who came, and the concerns raised."""
    scope = bcu_scope(request.user)  # staff with no officer record: 403
    walk = get_object_or_404(Walk.objects.in_bcu(scope).select_related("bcu", "borough"), code=code)
    if not can_debrief(user=request.user, walk=walk):
        raise PermissionDenied("Only the walk's officers and their inspector can debrief it.")
    state = debrief_state(walk)
    if state not in ("open", "reopened"):
        context = {"walk": walk, "state": state, "logged": walk.concerns.order_by("logged_at")}
        return render(
            request,
            "concerns/debrief_unavailable.html",
            context,
            status=200 if request.method == "GET" else 409,
        )
    bookings = list(debrief_bookings(walk))
    if request.method == "GET":
        attendance_form = AttendanceForm(bookings=bookings)
        formset = ConcernFormSet(prefix="concerns", initial=[{}])
        return _debrief_page(request, walk, state, attendance_form, formset)

    if "add_concern" in request.POST:
        attendance_form, formset = _with_another_concern(request.POST, bookings)
        return _debrief_page(request, walk, state, attendance_form, formset)

    attendance_form = AttendanceForm(request.POST, bookings=bookings)
    formset = ConcernFormSet(request.POST, prefix="concerns")
    errors = []
    if attendance_form.is_valid() & formset.is_valid():  # both, so every error shows at once
        try:
            result = complete_debrief(
                walk=walk,
                attendance=attendance_form.attendance(),
                concerns=formset.new_concerns(),
                by=request.user,
            )
        except ValidationError as error:
            errors = [("", message) for message in error.messages]
        else:
            messages.success(request, _debrief_saved(attendance_form.attendance(), result))
            return redirect("concerns:debrief", code=walk.code)
    return _debrief_page(request, walk, state, attendance_form, formset, errors=errors, status=400)


def _debrief_saved(attendance, result) -> str:
    came = sum(1 for status in attendance.values() if status == Booking.Status.ATTENDED)
    concerns = len(result.concerns)
    surveys = result.surveys_queued
    parts = [
        "Debrief saved.",
        f"{came} of {len(attendance)} came." if attendance else "",
        f"{concerns} new concern{pluralize(concerns)} logged.",
        f"The survey will be emailed to {surveys} wom{pluralize(surveys, 'an,en')}."
        if surveys
        else "",
    ]
    return " ".join(part for part in parts if part)


# No CSRF check, as on the manage page: the secret in the address is the only authority this
# page has (nothing comes from a cookie), so a forged request would need the secret itself. And
# under Referrer-Policy: no-referrer browsers send "Origin: null", which the check would refuse.
@csrf_exempt
@never_cache
@no_referrer
@require_http_methods(["GET", "POST"])
def feedback(request, token):
    """The short survey after the walk, opened from the link in her email."""
    booking = booking_for_feedback(token)
    if booking is None:
        raise Http404("No such survey.")
    if Feedback.objects.filter(booking=booking).exists():
        status = 200 if request.method == "GET" else 409
        return render(request, "concerns/feedback_done.html", {"walk": booking.walk}, status=status)
    if request.method == "POST":
        form = FeedbackForm(request.POST)
        if form.is_valid():
            try:
                submit_feedback(booking=booking, answers=form.answers())
            except ValidationError as error:
                if error.code == "already_answered":
                    context = {"walk": booking.walk}
                    return render(request, "concerns/feedback_done.html", context, status=409)
                form.add_error(None, error)
            else:
                return redirect("concerns:feedback", token=token)
        status = 400
    else:
        form, status = FeedbackForm(), 200
    context = {"form": form, "walk": booking.walk, "error_links": error_links(form)}
    return render(request, "concerns/feedback.html", context, status=status)


YOU_SAID_PER_PAGE = 25


def you_said_we_did(request):
    """Public: what was done about the concerns women raised, BCU by BCU. Nothing on this
    page identifies anyone: no names, no exact positions, no free text from the street."""
    bcus = list(BCU.objects.order_by("name"))
    selected = next((b for b in bcus if b.code == request.GET.get("bcu")), None)
    concerns = (
        Concern.objects.actioned()
        .in_bcu(selected)
        .select_related("bcu", "borough")
        .only(
            "category", "location_text", "times_unsafe", "bcu__code", "bcu__name", "borough__name"
        )
        .order_by("bcu__name", "-actioned_at", "pk")
    )
    page = Paginator(concerns, YOU_SAID_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    partners = dict(Partner.choices)
    for concern in page.object_list:
        concern.partner_label = partners.get(concern.action_partner, "")
    context = {"bcus": bcus, "selected": selected, "page": page}
    return render(request, "concerns/you_said_we_did.html", context)


# --- end of issue 6 -------------------------------------------------------------------------


# --- Commander reports (issue 7): /reports/ and /reports/concerns.csv ----------------------

# Cells a spreadsheet would run as a formula: a quote in front makes them text (OWASP's advice).
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_FLUSH_BYTES = 64 * 1024


def _report_errors(form) -> list[tuple[str, str]]:
    return [
        (form[name].auto_id if name in form.fields else "", message)
        for name, errors in form.errors.items()
        for message in errors
    ]


def _report_query(f: reports.ReportFilters) -> str:
    """The filters as a query string, so a shared link or the CSV gives the same report."""
    params = {"from": f.start.isoformat(), "to": f.end.isoformat()}
    if f.bcu is not None:
        params["bcu"] = f.bcu.code
    if f.borough is not None:
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


def _headline_sections(figures: dict) -> list[dict]:
    """The headline figures as they read on the page: label, value, and what it counts."""
    walks, requests, found = figures["walks"], figures["requests"], figures["concerns"]
    actions, survey = figures["actions"], figures["survey"]
    median = reports.median_supported()
    unavailable = "Not available on this database (needs PostgreSQL)."
    answered = requests["scheduled"] + requests["declined"]
    return [
        {
            "title": "Walks",
            "items": [
                ("Walks held", _count(walks["held"]), "Walks that started and were not cancelled."),
                ("Women who walked", _count(walks["attended"]), "Places taken and kept."),
                (
                    "Attendance rate",
                    _percent(walks["attendance_rate"]),
                    "Of the places where an officer recorded who came.",
                ),
                ("No-shows", _count(walks["no_shows"]), "Booked, but did not come."),
                ("Walks cancelled by the police", _count(walks["cancelled"]), ""),
            ],
        },
        {
            "title": "Route requests",
            "items": [
                ("Requests received", _count(requests["received"]), ""),
                (
                    "Median time to answer",
                    _duration(requests["median_time_to_answer"]) if median else "Not available",
                    f"{answered:,} answered; {requests['waiting']:,} still waiting."
                    if median
                    else unavailable,
                ),
            ],
        },
        {
            "title": "Concerns",
            "items": [
                ("Concerns logged", _count(found["logged"]), ""),
                (
                    "With an action",
                    _percent(actions["share"]),
                    f"{actions['with_action']:,} of {found['logged']:,} concerns.",
                ),
                (
                    "Median time to first action",
                    _duration(actions["median_time_to_first_action"])
                    if median
                    else "Not available",
                    "From being logged to the first action." if median else unavailable,
                ),
                (
                    "Open for more than 30 days",
                    _count(found["open_over_30_days"]),
                    "Still open, with no action, 30 days after being logged.",
                ),
            ],
        },
        {
            "title": "Survey after the walk",
            "items": [
                ("Responses", _count(survey["responses"]), ""),
                (
                    "Felt safer after the walk",
                    _percent(survey["felt_safer_share"]),
                    f"{survey['felt_safer']:,} of {survey['responses']:,} who answered.",
                ),
                (
                    "Change in confidence in the police",
                    "No data"
                    if survey["confidence_change"] is None
                    else f"{survey['confidence_change']:+.1f}",
                    "Average change, on a scale of 1 to 5, from before the walk to after.",
                ),
            ],
        },
    ]


@login_required
@permission_required("concerns.view_reports", raise_exception=True)
@never_cache
@require_GET
def report(request):
    """Commanders' report: walks, requests, concerns and the survey, for their BCU or London."""
    form = reports.ReportFilterForm(request.GET, scope=bcu_scope(request.user))
    if not form.is_valid():
        context = {"form": form, "error_links": _report_errors(form)}
        return render(request, "concerns/reports.html", context, status=400)
    f = form.filters()
    with reports.snapshot():
        counts = reports.concern_counts(f)  # read once, shared by the figures below
        figures = reports.headline(f, counts)
        categories = reports.concerns_by_category(f, counts)
        by_time = reports.concerns_by_time_of_day(f, counts)
        statuses = reports.concerns_by_status(f, counts)
        by_area = reports.concerns_by_area(f)
        by_month = reports.concerns_by_month(f)
        locations = reports.top_locations(f)
        partners = reports.actions_by_partner(f)
    in_categories = [row for group in categories for row in group["categories"]]
    context = {
        "form": form,
        "filters": f,
        "place": _report_place(f),
        "category_label": dict(reports.Concern.Category.choices).get(f.category, ""),
        "days": (f.end - f.start).days + 1,
        "query": _report_query(f),
        "sections": _headline_sections(figures),
        "logged": figures["concerns"]["logged"],
        "categories": categories,
        "category_chart": charts.bar_chart(in_categories, group="group"),
        "area_level": reports.area_level(f),
        "by_area": by_area,
        "area_chart": charts.bar_chart(by_area),
        "by_time": by_time,
        "time_chart": charts.bar_chart(by_time),
        "by_month": by_month,
        "month_chart": charts.column_chart(by_month, label="short", sublabel="year"),
        "locations": locations,
        "location_chart": charts.bar_chart(locations),
        "partners": partners,
        "partner_chart": charts.bar_chart(partners),
        "statuses": statuses,
        "status_chart": charts.bar_chart(statuses),
        "action_statuses": reports.ACTION_STATUSES,
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
    times = dict(reports.Concern.TimeOfDay.choices)
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
                times.get(when, when),
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
    form = reports.ReportFilterForm(request.GET, scope=bcu_scope(request.user))
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


# --- end of issue 7 -------------------------------------------------------------------------
