"""The staff pages outside the admin: an officer's own walks, and the debrief after each."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings.ics import officer_feed
from bookings.models import Booking
from concerns.models import Debrief
from concerns.services import (
    can_debrief,
    complete_debrief,
    debrief_bookings,
    debrief_closes_at,
    debrief_state,
)
from patrols.calendar import calendar_token, officer_for_calendar_token, reset_calendar_token
from patrols.daylight import daylight
from patrols.models import Officer, RosterAssignment, Walk, bcu_scope
from patrols.services import LONDON, is_walk_team
from patrols.welfare import finish_walk, is_welfare_open, start_walk
from walkandtalk.forms import ErrorSummary, error_links

from .forms import (
    MAX_CONCERNS_PER_DEBRIEF,
    AttendanceForm,
    ConcernForm,
    ConcernFormSet,
    TimesUnsafeField,
    WalkInsForm,
)

RECENT_DAYS = 7
# Her calendar feed keeps the walks of the last this many days, as well as those to come.
FEED_PAST_DAYS = 30


# What an officer reads of a booking: never her email address, not even loaded.
BRIEFING_FIELDS = ("walk", "full_name", "phone", "accessibility_needs", "topics", "created_at")
ROSTER_ORDER = Prefetch(
    "roster",
    queryset=RosterAssignment.objects.select_related("officer").order_by("role", "officer__name"),
)


def _what_they_told_us(walks) -> dict[int, list[Booking]]:
    """The women with a place on each walk, by walk id, in one query: what each asked for (her
    needs, what she would like to talk about) and, for the page to show only on the day of the
    walk (Walk.is_on_the_day), her name and phone number."""
    by_walk: dict[int, list[Booking]] = {}
    people = (
        Booking.objects.filter(walk__in=walks)
        .confirmed()
        .only(*BRIEFING_FIELDS)
        .order_by("full_name", "pk")
    )
    for booking in people:
        by_walk.setdefault(booking.walk_id, []).append(booking)
    return by_walk


@never_cache
@login_required
def staff_home(request):
    """Her upcoming walks: when, where, who with, how many booked, and what the women booked
    asked for (needs, topics). Their names and phone numbers appear only on the day of the walk,
    when she may need to find them."""
    officer = Officer.objects.filter(user=request.user, is_active=True).first()
    if officer is None:
        return render(request, "patrols/staff_no_officer.html", status=403)
    now = timezone.now()
    today = timezone.localdate(now)
    mine = RosterAssignment.objects.filter(officer=officer).values("walk_id")
    # Only walks she may open: an officer who has moved BCU no longer sees her old BCU's.
    visible = Walk.objects.visible_to(request.user)
    # A walk stays here after its planned end while it is started and not yet marked safe, on
    # its day: the "finished, all safe" button is on its card.
    not_yet_safe = Q(
        check_in__isnull=False,
        check_in__finished_at=None,
        ends_at__gte=datetime.combine(today, time.min, tzinfo=LONDON),
    )
    walks = list(
        visible.filter(pk__in=mine, status=Walk.Status.SCHEDULED)
        .filter(Q(ends_at__gt=now) | not_yet_safe)
        .with_counts()
        .select_related("borough", "check_in__started_by")
        .prefetch_related(ROSTER_ORDER)
        .order_by("starts_at")
    )
    told = _what_they_told_us(walks)
    for walk in walks:
        walk.is_today = walk.is_on_the_day(now)
        walk.told_us = told.get(walk.pk, [])
        walk.fellow_officers = [a for a in walk.roster.all() if a.officer_id != officer.pk]
        walk.welfare = walk.welfare_check()
        walk.welfare_open = is_welfare_open(walk, now)
        walk.welfare_overdue = walk.is_welfare_overdue(now)
    shown = [walk.pk for walk in walks]
    recent = (
        visible.filter(
            pk__in=mine,
            status__in=[Walk.Status.SCHEDULED, Walk.Status.COMPLETED],
            ends_at__lte=now,
            ends_at__gt=now - timedelta(days=RECENT_DAYS),
        )
        .exclude(pk__in=shown)
        .select_related("borough")
        .order_by("-starts_at")
    )
    return render(
        request,
        "patrols/staff_home.html",
        {
            "officer": officer,
            "walks": walks,
            "recent": recent,
            "today": today,
            "calendar_url": calendar_url(officer),
        },
    )


def _welfare_post(request, code, service, said: str, when: str):
    """A welfare button (started, finished) on /staff/: the walk found in her scope (another
    BCU's walk is a 404), the service decides who may and when."""
    bcu_scope(request.user)  # staff with no officer record: 403
    walk = get_object_or_404(Walk.objects.visible_to(request.user), code=code)
    try:
        check_in = service(walk=walk, user=request.user, now=timezone.now())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        at = timezone.localtime(getattr(check_in, when))
        messages.success(request, f"{walk.title}: {said} at {at:%H:%M}.")
    return redirect(reverse("staff:home") + f"#walk-{walk.code}")


@login_required
@require_POST
def walk_started(request, code):
    """She taps "Walk started" (patrols.welfare.start_walk): the first tap counts."""
    return _welfare_post(request, code, start_walk, "walk started", "started_at")


@login_required
@require_POST
def walk_finished(request, code):
    """She taps "Walk finished, all safe" (patrols.welfare.finish_walk): any welfare alert not
    yet sent is not sent."""
    return _welfare_post(request, code, finish_walk, "finished, all safe", "finished_at")


def calendar_url(officer: Officer) -> str:
    """The full address of her calendar feed, "" until she has asked for one."""
    token = calendar_token(officer)
    if not token:
        return ""
    return settings.SITE_URL + reverse("staff:calendar_feed", args=[token])


@login_required
@require_POST
def calendar_reset(request):
    """Give her a calendar address (or a new one: the old address then opens nothing)."""
    officer = Officer.objects.filter(user=request.user, is_active=True).first()
    if officer is None:
        return render(request, "patrols/staff_no_officer.html", status=403)
    had_one = bool(officer.calendar_nonce)
    reset_calendar_token(officer=officer)
    messages.success(
        request,
        "Your calendar has a new address, below. The old one no longer works: subscribe again "
        "with the new one."
        if had_one
        else "Your calendar address is below. Add it to your phone's calendar.",
    )
    return redirect(reverse("staff:home") + "#calendar")


def _feed_description(walk) -> str:
    if walk.status == Walk.Status.CANCELLED:
        return "This walk has been cancelled."
    briefing_url = settings.SITE_URL + reverse("staff:briefing", args=[walk.code])
    return f"{walk.get_kind_display()}. The briefing (sign in first): {briefing_url}"


@never_cache
@require_GET
def calendar_feed(request, token):
    """Her walks for her phone's calendar to subscribe to: the address is the key (a calendar
    cannot sign in), made and checked by patrols/calendar.py. The walks she is rostered on,
    to come and of the last FEED_PAST_DAYS days, and those she was on when they were called
    off (the roster is cleared then; the history keeps who was on), marked cancelled. Her BCU's
    walks only, and nothing about the women booked."""
    officer = officer_for_calendar_token(token)
    if officer is None:
        raise Http404
    now = timezone.now()
    mine = RosterAssignment.objects.filter(officer=officer).values("walk_id")
    was_on = RosterAssignment.history.filter(officer_id=officer.pk, history_type="-").values(
        "walk_id"
    )
    walks = (
        Walk.objects.in_bcu(officer.bcu)
        .filter(ends_at__gt=now - timedelta(days=FEED_PAST_DAYS))
        .filter(Q(pk__in=mine) | Q(status=Walk.Status.CANCELLED, pk__in=was_on))
        .select_related("borough")
        .order_by("starts_at")
    )
    content = officer_feed(
        walks=walks, now=now, name="Walk and Talk: my walks", describe=_feed_description
    )
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="walks.ics"'
    return response


@never_cache
@login_required
def briefing(request, code):
    """The walk's briefing, to read on a phone or print: where and when, sunset, the officers,
    and what each woman asked for. Her name and phone number only on the day of the walk, as on
    /staff/. For the walk's team only (is_walk_team): its officers and their inspector."""
    bcu_scope(request.user)  # staff with no officer record: 403 (not 404, as for another BCU)
    walks = (
        Walk.objects.visible_to(request.user)
        .with_counts()
        .select_related("bcu", "borough")
        .prefetch_related(ROSTER_ORDER)
    )
    walk = get_object_or_404(walks, code=code)
    if not is_walk_team(user=request.user, walk=walk):
        raise PermissionDenied("Only the walk's officers and their inspector see its briefing.")
    context = {
        "walk": walk,
        "daylight": daylight(walk),
        "on_the_day": walk.is_on_the_day(),
        "women": _what_they_told_us([walk]).get(walk.pk, []),
    }
    return render(request, "patrols/staff_briefing.html", context)


def _debrief_page(request, walk, state, forms, *, errors=(), status=200):
    attendance_form, walk_ins_form, formset = forms
    links = list(errors) + error_links(attendance_form) + error_links(walk_ins_form)
    for n, form in enumerate(formset.forms, start=1):
        links += error_links(form, prefix=f"Concern {n}: ")
    links += [("", message) for message in formset.non_form_errors()]
    context = {
        "walk": walk,
        "state": state,
        "closes_at": debrief_closes_at(walk),
        "attendance_form": attendance_form,
        "walk_ins_form": walk_ins_form,
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

    def typed(n, name, field):  # every box ticked, or the one value
        key = f"concerns-{n}-{name}"
        return data.getlist(key) if isinstance(field, TimesUnsafeField) else data.get(key, "")

    initial = [
        {name: typed(n, name, field) for name, field in ConcernForm.base_fields.items()}
        for n in range(total)
    ]
    if total < MAX_CONCERNS_PER_DEBRIEF:
        initial.append({})
    marked = {key: value for key, value in data.items() if key.startswith("booking_")}
    return (
        AttendanceForm(bookings=bookings, initial=marked),
        WalkInsForm(initial={"walk_ins": data.get("walk_ins", "")}),
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
        walk_ins = Debrief.objects.filter(walk=walk).values_list("walk_ins", flat=True).first()
        forms = (
            AttendanceForm(bookings=bookings),
            WalkInsForm(initial={"walk_ins": walk_ins or 0}),
            ConcernFormSet(prefix="concerns", initial=[{}]),
        )
        return _debrief_page(request, walk, state, forms)

    if "add_concern" in request.POST:
        return _debrief_page(request, walk, state, _with_another_concern(request.POST, bookings))

    attendance_form = AttendanceForm(request.POST, bookings=bookings)
    walk_ins_form = WalkInsForm(request.POST)
    formset = ConcernFormSet(request.POST, prefix="concerns")
    forms = (attendance_form, walk_ins_form, formset)
    errors = []
    # Every form checked (&, not and), so every error shows at once.
    if attendance_form.is_valid() & walk_ins_form.is_valid() & formset.is_valid():
        try:
            result = complete_debrief(
                walk=walk,
                attendance=attendance_form.attendance(),
                walk_ins=walk_ins_form.cleaned_data["walk_ins"],
                concerns=formset.new_concerns(),
                by=request.user,
            )
        except ValidationError as error:
            errors = [("", message) for message in error.messages]
        else:
            walk_ins = walk_ins_form.cleaned_data["walk_ins"]
            messages.success(
                request, _debrief_saved(attendance_form.attendance(), walk_ins, result)
            )
            return redirect("staff:debrief", code=walk.code)
    return _debrief_page(request, walk, state, forms, errors=errors, status=400)


def _debrief_saved(attendance, walk_ins, result) -> str:
    came = sum(1 for status in attendance.values() if status == Booking.Status.ATTENDED)
    concerns = len(result.concerns)
    surveys = result.surveys_queued
    parts = [
        "Debrief saved.",
        f"{came} of {len(attendance)} came." if attendance else "",
        f"{walk_ins} joined without booking." if walk_ins else "",
        f"{concerns} new concern{pluralize(concerns)} logged.",
        f"The survey will be emailed to {surveys} wom{pluralize(surveys, 'an,en')}."
        if surveys
        else "",
    ]
    return " ".join(part for part in parts if part)
