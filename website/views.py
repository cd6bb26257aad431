"""The public pages: find a walk, book a place, manage it, ask for a walk on your route."""

from datetime import datetime, time
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django.views.defaults import page_not_found

from bookings import services
from bookings.emails import calendar_download, route_booking
from bookings.models import Booking, Channel, WalkRequest
from bookings.templatetags.walk_time import short_day
from concerns.models import Concern, Feedback, Partner
from concerns.services import booking_for_feedback, submit_feedback
from partners.messages import map_url
from partners.models import Referral
from partners.services import answer_referral
from patrols.daylight import daylight
from patrols.models import Walk
from reports import map as london_map
from reports import queries as reports
from walkandtalk.ratelimit import rate_limit
from walkandtalk.sms import texts_enabled

from . import pagecache
from .forms import (
    BookingForm,
    FeedbackForm,
    LostLinkForm,
    PartnerAnswerForm,
    ReminderChannelForm,
    WalkFilterForm,
    WalkRequestForm,
)

REMINDER_LABELS = {"reminder_24h": "the day before", "reminder_2h": "2 hours before"}
WALKS_PER_PAGE = 20
# How long the page after a form keeps showing what was just done, in this browser only: long
# enough to read and note the reference, short enough on a shared device.
OUTCOME_SECONDS = 30 * 60


def no_store(view):
    """Pages showing someone's booking: never kept by the browser or any cache (shared
    devices), and the address (which holds the token) never sent on as a referrer. A bad or
    expired token gets the same 404 as any missing page, with the same headers."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404 as error:
            response = page_not_found(request, error)
        add_never_cache_headers(response)
        response["Referrer-Policy"] = "no-referrer"
        return response

    return wrapped


def outcome_cookie(name: str) -> str:
    """The cookie that keeps one form's outcome: host-only (__Host-) wherever cookies are
    Secure, as the session and CSRF cookies are."""
    return f"__Host-{name}" if settings.SESSION_COOKIE_SECURE else name


def remember_outcome(response, name: str, value: dict) -> None:
    """Keep what was just done for the page after the redirect, in this browser only, signed
    with the time, in a cookie that ends when the browser closes. Signed is not secret: the
    value holds only what the page may show anyone who typed the form (a walk, an outcome that
    any newcomer would have had), never a booking's or request's id, reference or address.
    Not the session: that was a session row read and written on every booking."""
    response.set_cookie(
        outcome_cookie(name),
        signing.dumps(value, salt=f"bookings.{name}"),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def recall_outcome(request, name: str) -> dict | None:
    """What was just done, while it is fresh (OUTCOME_SECONDS); None when there is none, it has
    expired or it was tampered with."""
    try:
        return signing.loads(
            request.COOKIES.get(outcome_cookie(name), ""),
            salt=f"bookings.{name}",
            max_age=OUTCOME_SECONDS,
        )
    except signing.BadSignature:
        return None


def forget_stale_outcome(request, response, name: str, outcome: dict | None) -> None:
    """An outcome cookie that no longer gives anything (expired) is removed."""
    if outcome is None and outcome_cookie(name) in request.COOKIES:
        response.delete_cookie(outcome_cookie(name), samesite="Lax")


def public_walks():
    """Group walks: route walks are one woman's and never appear on the public pages."""
    return Walk.objects.filter(kind=Walk.Kind.GROUP).select_related("borough", "bcu")


@require_http_methods(["GET", "HEAD"])
def walk_list(request):
    """The list of walks open for booking, soonest first, filtered by `borough`, `bcu` and
    `from` (a day); with `near` (her position, LAT,LNG) nearest first. Only those and `page`
    are read: any other parameter neither changes the page nor reaches its links.

    A page with `near` holds her position: it is rendered for her alone, never kept by the page
    cache (whose keys would hold the position) nor by any other cache, and its address is not
    sent on as a referrer. The position is not written anywhere."""
    params = {name: request.GET.get(name, "") for name in ("borough", "bcu", "from", "page")}
    near = request.GET.get("near", "")
    if near:
        page, _ = _walk_list_page(**params, near=near)
        response = render(request, "bookings/walk_list.html", page, status=page["status"])
        add_never_cache_headers(response)
        response["Referrer-Policy"] = "no-referrer"
        return response
    return pagecache.respond(
        request,
        "bookings/walk_list.html",
        ("walk_list", *params.values()),
        lambda: _walk_list_page(**params),
    )


def about_distance(km: float) -> str:
    """How far, as a card says it: "about 1.2 km away", "about 2 km away", "about 300 m
    away". Her position is rounded to about 1 km, so no finer."""
    if km < 0.1:
        return "less than 100 m away"
    if km < 0.95:
        return f"about {round(km * 10) * 100} m away"
    return f"about {f'{km:.1f}'.removesuffix('.0')} km away"


def _walk_list_page(*, borough: str, bcu: str, page: str, near: str = "", **params):
    form = WalkFilterForm({"borough": borough, "bcu": bcu, "from": params["from"], "near": near})
    walks = public_walks().upcoming().bookable().with_counts().order_by("starts_at", "pk")
    borough, bcu = form.selected()
    day, position = form.from_day(), form.position()
    if borough:
        walks = walks.filter(borough=borough)
    if bcu:
        walks = walks.filter(bcu=bcu)
    if day:
        walks = walks.filter(starts_at__gte=london_midnight(day))
    if position:
        walks = walks.nearest_to(*position)
    page = Paginator(walks, WALKS_PER_PAGE).get_page(page)
    if position:
        page.object_list = list(page.object_list)
        for walk in page.object_list:
            walk.distance = about_distance(walk.distance_km) if walk.distance_km is not None else ""
    filters = {
        "borough": borough.slug if borough else "",
        "bcu": bcu.code if bcu else "",
        "from": day.isoformat() if day else "",
        "near": f"{position[0]:.2f},{position[1]:.2f}" if position else "",
    }
    context = {
        "form": form,
        "page": page,
        "borough": borough,
        "bcu": bcu,
        "day": day,
        "position": position,
        "neighbours": form.neighbours(borough),
        "mismatch": borough and bcu and borough.bcu_id != bcu.pk,
        "query": urlencode({name: value for name, value in filters.items() if value}),
        "soonest_query": urlencode(
            {name: value for name, value in filters.items() if value and name != "near"}
        ),
    }
    title = "Find a walk" + (f" in {borough.name}" if borough else "")
    if form.errors:
        title = f"Error: {title}"
    content = render_to_string("bookings/includes/walk_list_content.html", context)
    # The list changes by itself when its first walk starts: that walk leaves the list.
    changes_at = min((walk.starts_at for walk in page), default=None)
    return {"status": 400 if form.errors else 200, "title": title, "content": content}, changes_at


def london_midnight(day):
    """The start of a day in London (the site's time zone), for `from`."""
    return timezone.make_aware(datetime.combine(day, time.min))


@require_http_methods(["GET", "HEAD"])
def walk_detail(request, code):
    return pagecache.respond(
        request, "bookings/walk_detail.html", ("walk_detail", code), lambda: _walk_detail_page(code)
    )


def _walk_detail_page(code: str):
    walk = get_object_or_404(public_walks().with_counts(), code=code)
    now = timezone.now()
    context = {"walk": walk, "daylight": daylight(walk), "ended": walk.ends_at <= now}
    content = render_to_string("bookings/includes/walk_detail_content.html", context)
    # The page changes by itself when the walk starts (booking closes) and when it ends.
    changes_at = next((moment for moment in (walk.starts_at, walk.ends_at) if moment > now), None)
    title = f"{walk.title}, {short_day(walk.starts_at)}"
    return {"status": 200, "title": title, "content": content}, changes_at


@require_http_methods(["GET", "HEAD", "POST"])
@rate_limit("book")
def book(request, code):
    posted = request.method == "POST"
    # A post that books needs neither the counts (book_place counts under the walk's lock) nor
    # the borough and BCU: the walk's own row (the page shown again after a refused post reads
    # them afresh below). The counts' three subqueries alone cost 3 ms of CPU to build.
    walks = public_walks().select_related(None) if posted else public_walks().with_counts()
    walk = get_object_or_404(walks, code=code)
    if not walk.is_bookable():
        status = 409 if posted else 200
        return render(request, "bookings/book_closed.html", {"walk": walk}, status=status)
    form = BookingForm(request.POST if posted else None)
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            try:
                booking = services.book_place(walk=walk, **form.booking_fields())
            except ValidationError as error:
                form.add_error(None, error)
                status = 409
            else:
                response = redirect("website:booked", code=walk.code)
                outcome = {"walk": str(walk.code), "status": booking.screen_status}
                if form.cleaned_data["reminder_channel"] == Channel.SMS:
                    # What she chose on this form (not what a booking made earlier holds).
                    outcome["texts"] = True
                remember_outcome(response, "booked", outcome)
                return response
        walk = public_walks().with_counts().get(pk=walk.pk)
    return render(request, "bookings/book.html", {"walk": walk, "form": form}, status=status)


@require_http_methods(["GET", "HEAD"])
@no_store
def booked(request, code):
    """What happens next, after her booking form. Only facts of the walk and the outcome a
    newcomer would have had: whoever typed an address that had booked before must not learn it,
    so no reference, name or address is shown (the email she receives says more)."""
    walk = get_object_or_404(public_walks(), code=code)
    outcome = recall_outcome(request, "booked")
    now = timezone.now()
    context = {
        "walk": walk,
        "outcome": outcome if outcome and outcome.get("walk") == str(walk.code) else None,
        # From the walk's time alone, as a new booking's would be: the page must not differ
        # for someone who had booked before.
        "reminders": [
            REMINDER_LABELS[kind]
            for kind, before in services.REMINDERS
            if walk.starts_at - before > now
        ],
    }
    response = render(request, "bookings/booked.html", context)
    forget_stale_outcome(request, response, "booked", outcome)
    return response


def private_link_page(view):
    """A page opened by the secret in her link: never kept, rate limited, and with no CSRF
    check. The token in the address is the only authority the page has (nothing comes from a
    cookie), so a forged request would need the token, which is the credential itself; and
    under Referrer-Policy: no-referrer browsers send "Origin: null" with the form, which
    Django's CSRF check would refuse."""
    return csrf_exempt(
        require_http_methods(["GET", "HEAD", "POST"])(no_store(rate_limit("manage")(view)))
    )


@private_link_page
def manage(request, token):
    booking = (
        Booking.objects.by_manage_token(token)
        .with_waitlist_position()
        .select_related("walk__borough", "walk__bcu")
        .first()
    )
    if booking is None:
        raise Http404
    status = 200
    error = None
    walk = booking.walk
    can_cancel = booking.is_active and not walk.has_started()
    if request.method != "POST" and request.GET.get("action") == "cancel" and can_cancel:
        # The button on her page asks first (a GET: a mail scanner opening it changes nothing);
        # this page's own form posts action=cancel to her page, which cancels.
        context = {"booking": booking, "walk": walk, "token": token}
        return render(request, "bookings/manage_cancel.html", context)
    channel_form = None
    if booking.is_active and not walk.has_started() and texts_enabled():
        initial = {"reminder_channel": booking.reminder_channel}
        if booking.reminder_channel == Channel.SMS:
            initial["phone"] = booking.phone
        channel_form = ReminderChannelForm(initial=initial)
    if request.method == "POST" and request.POST.get("action") == "reminders" and channel_form:
        channel_form = ReminderChannelForm(request.POST)
        status = 400
        if channel_form.is_valid():
            try:
                booking = services.change_reminder_channel(
                    booking=booking,
                    channel=channel_form.cleaned_data["reminder_channel"],
                    phone=channel_form.cleaned_data["phone"],
                )
            except ValidationError as refused:
                channel_form.add_error(None, refused)
                status = 409
            else:
                how = "by text message" if booking.reminder_channel == Channel.SMS else "by email"
                messages.success(request, f"Done: we will send your reminders {how}.")
                return redirect(request.path)
    elif request.method == "POST":
        if request.POST.get("action") != "cancel":
            error, status = "Choose what you would like to do with your booking", 400
        else:
            try:
                services.cancel_booking(booking=booking)
            except ValidationError as refused:
                error, status = refused.messages[0], 409
            else:
                messages.success(
                    request, "Your booking is cancelled. We have sent you an email to confirm."
                )
                return redirect(request.path)
    context = {
        "booking": booking,
        "walk": walk,
        "error": error,
        "can_cancel": can_cancel,
        "token": token,
        "channel_form": channel_form,
        "waitlist_place": ordinal(booking.waitlist_position) if booking.waitlist_position else "",
        "has_calendar": has_calendar(booking),
        "other_walks": other_walks_nearby(walk)
        if booking.status == Booking.Status.CANCELLED
        else [],
        # What the inspector told the women with a place (bookings.services.message_walk):
        # the one place a discreet email that could not carry the words sends her to read them.
        "walk_messages": list(walk.messages.order_by("-created_at", "-pk"))
        if booking.status == Booking.Status.CONFIRMED
        else [],
    }
    return render(request, "bookings/manage.html", context, status=status)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def has_calendar(booking: Booking) -> bool:
    """Whether her page offers her walk for her calendar: a place on a walk still to happen."""
    return (
        booking.status == Booking.Status.CONFIRMED and booking.walk.status == Walk.Status.SCHEDULED
    )


OTHER_WALKS = 5


def other_walks_nearby(walk: Walk) -> list[Walk]:
    """After a cancellation: the next few group walks in the same borough, public to anyone."""
    return list(
        public_walks()
        .filter(borough_id=walk.borough_id, status=Walk.Status.SCHEDULED)
        .filter(starts_at__gt=timezone.now())
        .exclude(pk=walk.pk)
        .order_by("starts_at", "pk")[:OTHER_WALKS]
    )


@require_http_methods(["GET", "HEAD"])
@no_store
def manage_calendar(request, token):
    """ "Add to calendar" on her page: her walk's .ics, opened by her manage link's token alone,
    while she has a place on a walk still to happen. A download, never kept by a cache."""
    booking = (
        Booking.objects.by_manage_token(token).select_related("walk__borough", "walk__bcu").first()
    )
    if booking is None or not has_calendar(booking):
        raise Http404
    response = HttpResponse(calendar_download(booking), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="walk.ics"'
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@rate_limit("lost_link")
def lost_link(request):
    form = LostLinkForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        services.resend_manage_links(email=form.cleaned_data["email"])
        return redirect("website:lost_link_sent")
    status = 400 if form.is_bound else 200
    return render(request, "bookings/lost_link.html", {"form": form}, status=status)


@require_http_methods(["GET", "HEAD"])
@no_store
def lost_link_sent(request):
    return render(request, "bookings/lost_link_sent.html")


@require_http_methods(["GET", "HEAD", "POST"])
@rate_limit("request")
def request_walk(request):
    form = WalkRequestForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        walk_request = services.request_walk(**form.request_fields())
        response = redirect("website:request_received")
        remember_outcome(response, "requested", {"borough": walk_request.borough.name})
        return response
    status = 400 if form.is_bound else 200
    return render(request, "bookings/request.html", {"form": form}, status=status)


@require_http_methods(["GET", "HEAD"])
@no_store
def request_received(request):
    outcome = recall_outcome(request, "requested")
    response = render(request, "bookings/request_received.html", {"outcome": outcome})
    forget_stale_outcome(request, response, "requested", outcome)
    return response


@private_link_page
def request_status(request, token):
    """Her route request, from the private link in her email: where it stands (waiting,
    scheduled with her walk's details and her booking's page, declined with the reason, or
    withdrawn), and a button to withdraw it while it may be. Nothing of anyone else."""
    walk_request = (
        WalkRequest.objects.by_token(token)
        .select_related("borough", "walk__borough", "walk__bcu")
        .first()
    )
    if walk_request is None:
        raise Http404
    Status = WalkRequest.Status
    error, status = None, 200
    if request.method == "POST":
        if request.POST.get("action") != "withdraw":
            error, status = "Choose what you would like to do with your request", 400
        else:
            try:
                services.withdraw_request(request=walk_request)
            except ValidationError as refused:
                error, status = refused.messages[0], 409
            else:
                messages.success(request, "Your request is withdrawn.")
                return redirect(request.path)
    walk = walk_request.walk if walk_request.status == Status.SCHEDULED else None
    place = route_booking(walk_request) if walk is not None else None
    # The button while there is something to withdraw (waiting, or a walk still on) and the
    # service would allow it.
    can_withdraw = (
        walk_request.status == Status.OPEN
        or (walk is not None and walk.status == Walk.Status.SCHEDULED)
    ) and services.withdrawal_refused(walk_request, walk) is None
    context = {
        "walk_request": walk_request,
        "walk": walk,
        "manage_path": reverse("website:manage", args=[place.manage_token()]) if place else "",
        "can_withdraw": can_withdraw,
        "error": error,
    }
    return render(request, "bookings/request_status.html", context, status=status)


# --- After the walk: her survey, and what was done about what women said ---


# No CSRF check, as on the manage page: the secret in the address is the only authority this
# page has (nothing comes from a cookie), so a forged request would need the secret itself. And
# under Referrer-Policy: no-referrer browsers send "Origin: null", which the check would refuse.
@csrf_exempt
@no_store
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
                return redirect("website:feedback", token=token)
        status = 400
    else:
        form, status = FeedbackForm(), 200
    context = {"form": form, "walk": booking.walk}
    return render(request, "concerns/feedback.html", context, status=status)


YOU_SAID_PER_PAGE = 25


def _acted_on_map(borough, bcu) -> london_map.BoroughMap:
    """The map of concerns acted on, as the report draws its map but with counts only: every
    borough of London, or zoomed to the chosen BCU (or the chosen borough's), each a link to
    this page narrowed to it. Never a mark for a concern: their positions are not public."""
    scope = borough.bcu if borough is not None else bcu
    return london_map.borough_map(
        reports.acted_on_by_borough(scope),
        link=lambda row: "?" + urlencode({"borough": row["slug"]}),
        positions=[] if scope is not None else None,
        counted=" acted on",
        none="None acted on yet",
        current=borough.slug if borough is not None else None,
    )


def you_said_we_did(request):
    """Public: what was done about the concerns women raised, the latest first across London,
    narrowed to a borough (`borough`, its slug) or a BCU (`bcu`, its code) as the walk list is,
    by the walk list's own filter form. The latest first, not BCU by BCU: a reader opening the
    page expects what has been done lately, and the first page then shows all of London rather
    than the BCU whose name comes first. A value not on the list is said so (400), and the page
    shows all of London. Nothing on this page identifies anyone: no names, no exact positions,
    no free text from the street."""
    form = WalkFilterForm({name: request.GET.get(name, "") for name in ("borough", "bcu")})
    borough, bcu = form.selected()
    concerns = Concern.objects.actioned().in_bcu(bcu)
    if borough:
        concerns = concerns.filter(borough=borough)
    concerns = (
        concerns.select_related("bcu", "borough")
        .only(
            "category", "location_text", "times_unsafe", "bcu__code", "bcu__name", "borough__name"
        )
        .order_by("-actioned_at", "-pk")
    )
    page = Paginator(concerns, YOU_SAID_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    partners = dict(Partner.choices)
    for concern in page.object_list:
        concern.partner_label = partners.get(concern.action_partner, "")
    filters = {"borough": borough.slug if borough else "", "bcu": bcu.code if bcu else ""}
    context = {
        "form": form,
        "borough": borough,
        "bcu": bcu,
        "area": borough or bcu,
        "page": page,
        "query": urlencode({name: value for name, value in filters.items() if value}),
        "map": _acted_on_map(borough, bcu),
        "map_attribution": london_map.ATTRIBUTION,
    }
    status = 400 if form.errors else 200
    return render(request, "concerns/you_said_we_did.html", context, status=status)


# --- A partner's answer to a referral ---


@private_link_page
def partner_referral(request, token):
    """A concern referred to a partner team, from the private link in its email (no account):
    what, where and when, and its answer: "we will fix it by", "fixed", or "not ours". A
    wrong token, an expired link and a closed concern are the same 404."""
    referral = (
        Referral.objects.by_token(token).select_related("partner", "concern__borough").first()
    )
    if referral is None:
        raise Http404
    form, status = None, 200
    if referral.is_answerable:
        form = PartnerAnswerForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form is None:
            status = 409  # already settled: the page says what they answered
        elif form.is_valid():
            try:
                answer_referral(referral=referral, **form.answer_fields())
            except ValidationError as refused:
                form.add_error(None, refused.messages[0])
            else:
                messages.success(request, "Thank you: your answer is recorded.")
                return redirect(request.path)
        if form is not None:
            status = 400 if form.errors else status
    concern = referral.concern
    context = {
        "referral": referral,
        "concern": concern,
        "map_url": map_url(concern),
        "form": form,
    }
    return render(request, "partners/referral.html", context, status=status)
