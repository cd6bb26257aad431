"""Pages after the walk: the officers' debrief, the survey, "you said, we did"; the reports."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django.views.defaults import page_not_found

from bookings.models import Booking
from patrols.models import BCU, Walk, bcu_scope

from .forms import (
    MAX_CONCERNS_PER_DEBRIEF,
    AttendanceForm,
    ConcernForm,
    ConcernFormSet,
    FeedbackForm,
    error_links,
)
from .models import Concern, Feedback, Partner
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
        .only("category", "location_text", "times_unsafe", "bcu__name", "borough__name")
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
