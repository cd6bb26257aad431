"""The staff pages outside the admin: an officer's own walks, and the debrief after each."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from bookings.models import Booking
from concerns.services import (
    can_debrief,
    complete_debrief,
    debrief_bookings,
    debrief_closes_at,
    debrief_state,
)
from patrols.models import Officer, RosterAssignment, Walk, bcu_scope
from walkandtalk.forms import ErrorSummary, error_links

from .forms import MAX_CONCERNS_PER_DEBRIEF, AttendanceForm, ConcernForm, ConcernFormSet

RECENT_DAYS = 7


@never_cache
@login_required
def staff_home(request):
    """Her upcoming walks: when, where, who with, how many booked. Names and phone numbers of
    the women booked appear only on the day of the walk, when she may need to find them."""
    officer = Officer.objects.filter(user=request.user, is_active=True).first()
    if officer is None:
        return render(request, "patrols/staff_no_officer.html", status=403)
    now = timezone.now()
    mine = RosterAssignment.objects.filter(officer=officer).values("walk_id")
    # Only walks she may open: an officer who has moved BCU no longer sees her old BCU's.
    visible = Walk.objects.visible_to(request.user)
    roster = Prefetch(
        "roster",
        queryset=RosterAssignment.objects.select_related("officer").order_by(
            "role", "officer__name"
        ),
    )
    walks = list(
        visible.filter(pk__in=mine, status=Walk.Status.SCHEDULED, ends_at__gt=now)
        .with_counts()
        .select_related("borough")
        .prefetch_related(roster)
        .order_by("starts_at")
    )
    today = timezone.localdate(now)
    todays = [walk for walk in walks if timezone.localdate(walk.starts_at) == today]
    if todays:
        people = Booking.objects.filter(walk__in=todays).confirmed().order_by("full_name")
        by_walk = {}
        for booking in people:
            by_walk.setdefault(booking.walk_id, []).append(booking)
        for walk in todays:
            walk.todays_bookings = by_walk.get(walk.pk, [])
    for walk in walks:
        walk.is_today = walk in todays
        walk.fellow_officers = [a for a in walk.roster.all() if a.officer_id != officer.pk]
    recent = (
        visible.filter(
            pk__in=mine,
            status__in=[Walk.Status.SCHEDULED, Walk.Status.COMPLETED],
            ends_at__lte=now,
            ends_at__gt=now - timedelta(days=RECENT_DAYS),
        )
        .select_related("borough")
        .order_by("-starts_at")
    )
    return render(
        request,
        "patrols/staff_home.html",
        {"officer": officer, "walks": walks, "recent": recent, "today": today},
    )


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
        "error_summary": ErrorSummary(links),
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
    bcu_scope(request.user)  # staff with no officer record: 403 (not 404, as for another BCU)
    walks = Walk.objects.visible_to(request.user).select_related("bcu", "borough")
    walk = get_object_or_404(walks, code=code)
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
            return redirect("staff:debrief", code=walk.code)
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
