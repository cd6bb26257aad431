"""What each outbox row says: one email per Notification kind, with a text and an HTML part.

Templates live in templates/emails/<kind>_subject.txt, <kind>.txt and <kind>.html. Messages are
written when they are sent, not when they are queued, so they carry the walk's details as they
are at that moment.

Discreet mode (a woman's inbox may be read by someone else): a neutral sender, subject and
calendar entry, and no "police" anywhere. Text typed by staff (walk titles, meeting points,
reasons, action notes) may say "police"; in discreet mode such text is left out and she is sent
to her booking page, which only her private link opens.
"""

import re
from datetime import datetime
from email.utils import make_msgid, parseaddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from walkandtalk.mail import build_email

from . import messages
from .ics import walk_calendar
from .links import site_url, walk_url
from .models import WALK_MESSAGE_KEY_PREFIX, Booking, Notification, WalkMessage, WalkRequest
from .services import REPEAT_BOOKING_KEY

LONDON = ZoneInfo("Europe/London")
POLICE = re.compile("police", re.IGNORECASE)
Kind = Notification.Kind

CALENDAR_REQUEST_KINDS = {
    Kind.BOOKING_CONFIRMED,
    Kind.PROMOTED,
    Kind.WALK_CHANGED,
    Kind.REQUEST_SCHEDULED,
}
CALENDAR_EVENT_KINDS = {Kind.BOOKING_CONFIRMED, Kind.PROMOTED, Kind.REQUEST_SCHEDULED}
CALENDAR_CANCEL_KINDS = {Kind.WALK_CANCELLED, Kind.BOOKING_CANCELLED}


class DiscreetLeak(Exception):
    """A discreet message would have said "police": it is not sent, and shows in the admin."""


def clock(moment: datetime) -> str:
    """GOV.UK style: 6:30pm, 7pm, midday, midnight."""
    if moment.minute == 0 and moment.hour in (0, 12):
        return "midnight" if moment.hour == 0 else "midday"
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}:{moment.minute:02d}{suffix}" if moment.minute else f"{hour}{suffix}"


def long_date(moment: datetime) -> str:
    """Tuesday 3 March 2026."""
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def day_word(moment: datetime, now: datetime) -> str:
    """'today', 'tomorrow' or 'on Tuesday 3 March 2026', as the calendar in London has it."""
    days = (moment.astimezone(LONDON).date() - now.astimezone(LONDON).date()).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"on {long_date(moment.astimezone(LONDON))}"


def neutral(text: str, discreet: bool) -> str:
    """Staff-typed text, or nothing when a discreet message cannot carry it."""
    if discreet and POLICE.search(text or ""):
        return ""
    return text or ""


def walk_context(walk, *, discreet: bool, now: datetime) -> dict:
    starts = walk.starts_at.astimezone(LONDON)
    ends = walk.ends_at.astimezone(LONDON)
    is_route = walk.kind == walk.Kind.ROUTE
    if is_route:
        # Made from her request: its title is written for staff ("her route"), and its notes
        # are her own route, which an email left open should not give away.
        title, route_notes = f"Walk on your route in {walk.borough.name}", ""
    else:
        title = neutral(walk.title, discreet) or f"Group walk in {walk.borough.name}"
        route_notes = neutral(walk.route_notes, discreet)
    return {
        "title": title,
        "borough": walk.borough.name,
        "date": long_date(starts),
        "time": clock(starts),
        "ends": clock(ends),
        "day_word": day_word(walk.starts_at, now),
        "short_date": f"{starts:%a} {starts.day} {starts:%b}",
        "meeting_point": neutral(walk.meeting_point, discreet),
        "route_notes": route_notes,
        "cancel_reason": neutral(walk.cancel_reason, discreet),
        "is_route": is_route,
        "url": walk_url(walk),
    }


def sender(discreet: bool) -> str:
    return settings.DISCREET_FROM_EMAIL if discreet else settings.DEFAULT_FROM_EMAIL


def base_context(recipient: Booking | WalkRequest, *, discreet: bool) -> dict:
    return {
        "discreet": discreet,
        "name": recipient.full_name,
        "reference": recipient.reference,
        "site_url": settings.SITE_URL,
        "walks_url": site_url("website:walk_list"),
        "request_url": site_url("website:request_walk"),
        "you_said_we_did_url": site_url("website:you_said_we_did"),
        "brand": "Walk bookings" if discreet else "Walk and Talk",
        "team": "The walk bookings team" if discreet else "The Met's Walk and Talk team",
    }


def route_booking(request: WalkRequest) -> Booking | None:
    """Her place on the route walk an inspector made from her request."""
    if request.walk_id is None:
        return None
    return request.walk.bookings.active().for_email(request.email).select_related("walk").first()


def walk_changes(notification: Notification, walk, *, discreet: bool) -> list[dict]:
    """What a WALK_CHANGED email tells her has changed: the walk as she last knew it (the row's
    `changed_from`, written by change_walk) against the walk as it is now, each {"label",
    "was", "now"}. Empty when the row does not say (queued before it could) or the walk is back
    as she knew it. A meeting point a discreet email cannot carry is named by neither ("was"
    and "now" empty: the email sends her to her booking page)."""
    was = notification.changed_from
    if not was:
        return []
    old_starts = datetime.fromisoformat(was["starts_at"]).astimezone(LONDON)
    old_ends = datetime.fromisoformat(was["ends_at"]).astimezone(LONDON)
    starts, ends = walk.starts_at.astimezone(LONDON), walk.ends_at.astimezone(LONDON)
    changes = []
    if old_starts.date() != starts.date():
        changes.append({"label": "Date", "was": long_date(old_starts), "now": long_date(starts)})
    if clock(old_starts) != clock(starts):
        changes.append({"label": "Starts", "was": clock(old_starts), "now": clock(starts)})
    if clock(old_ends) != clock(ends):
        changes.append({"label": "Ends", "was": clock(old_ends), "now": clock(ends)})
    if was["meeting_point"] != walk.meeting_point:
        old_point = neutral(was["meeting_point"], discreet)
        point = neutral(walk.meeting_point, discreet)
        if not (old_point and point):
            old_point = point = ""
        changes.append({"label": "Meeting point", "was": old_point, "now": point})
    return changes


def walk_message_text(notification: Notification, *, discreet: bool) -> str:
    """The inspector's words in a WALK_MESSAGE email: the message its key names, on her walk.
    Empty when a discreet email cannot carry them (they say "police"): the email then sends
    her to her booking page, which shows the message."""
    pk = notification.key.removeprefix(WALK_MESSAGE_KEY_PREFIX)
    message = (
        WalkMessage.objects.filter(pk=pk, walk_id=notification.booking.walk_id).first()
        if pk.isdigit()
        else None
    )
    return neutral(message.text if message else "", discreet)


def calendar_content(
    booking: Booking,
    walk: dict,
    *,
    cancel: bool,
    discreet: bool,
    now: datetime,
    publish: bool = False,
) -> bytes:
    """Her walk's calendar file (bookings/ics.py) as `walk` (walk_context) describes it."""
    summary = "Walk" if discreet else f"Walk and Talk: {walk['title']}"
    location = walk["meeting_point"] or "See your booking page"
    lines = [
        f"Reference: {booking.reference}",
        f"Meeting point: {location}",
        "Bring comfortable shoes, clothes for the weather and a charged phone.",
        f"To change or cancel: {booking.manage_url()}",
    ]
    if cancel:
        lines = [
            f"Cancelled. Reference: {booking.reference}",
            f"Find another walk: {site_url('website:walk_list')}",
        ]
    content = walk_calendar(
        booking=booking,
        cancel=cancel,
        now=now,
        summary=summary,
        location=location,
        description="\n".join(lines),
        url=booking.manage_url(),
        organizer=sender(discreet),
        publish=publish,
    )
    return content


def calendar_attachment(
    booking: Booking, walk: dict, *, cancel: bool, discreet: bool, now: datetime
) -> tuple[str, bytes, str]:
    content = calendar_content(booking, walk, cancel=cancel, discreet=discreet, now=now)
    method = "CANCEL" if cancel else "REQUEST"
    return ("walk.ics", content, f"text/calendar; method={method}")  # Django adds the charset


def calendar_download(booking: Booking, *, now: datetime | None = None) -> bytes:
    """The file behind "Add to calendar" on her booking page: her emails' event as it reads
    now (discreet if her emails are), to import rather than answer (METHOD:PUBLISH)."""
    now = now or timezone.now()
    discreet = booking.discreet_emails
    walk = walk_context(booking.walk, discreet=discreet, now=now)
    return calendar_content(booking, walk, cancel=False, discreet=discreet, now=now, publish=True)


def had_calendar_event(booking: Booking) -> bool:
    """Whether an email has put this booking in her calendar (so a cancellation should take it
    out again)."""
    return booking.notifications.filter(
        kind__in=[*CALENDAR_EVENT_KINDS, Kind.WALK_CHANGED], sent_at__isnull=False
    ).exists()


def build_message(
    notification: Notification, *, now: datetime | None = None
) -> EmailMultiAlternatives:
    """The email for one outbox row, as it should read now."""
    now = now or timezone.now()
    kind = notification.kind
    registered = messages.kind(kind)
    if registered.build is not None:
        return registered.build(notification, now)
    booking, request = notification.booking, notification.request
    recipient = booking or request
    discreet = recipient.discreet_emails
    context = base_context(recipient, discreet=discreet)
    attachments = []

    if booking is not None:
        walk = walk_context(booking.walk, discreet=discreet, now=now)
        context.update(walk=walk, booking=booking, manage_url=booking.manage_url())
        context["repeat_booking"] = notification.key == REPEAT_BOOKING_KEY
        if kind == Kind.WALK_CHANGED:
            context["changes"] = walk_changes(notification, booking.walk, discreet=discreet)
        if kind == Kind.WALK_MESSAGE:
            context["message"] = walk_message_text(notification, discreet=discreet)
        if registered.context is not None:
            context.update(registered.context(notification, discreet=discreet, now=now))
        if kind in CALENDAR_REQUEST_KINDS:
            attachments.append(
                calendar_attachment(booking, walk, cancel=False, discreet=discreet, now=now)
            )
        elif kind in CALENDAR_CANCEL_KINDS and had_calendar_event(booking):
            attachments.append(
                calendar_attachment(booking, walk, cancel=True, discreet=discreet, now=now)
            )
            context["calendar_cancel"] = True
    else:
        context.update(
            request=request,
            request_url=request.request_url(),
            borough=request.borough.name,
            decline_reason=neutral(request.decline_reason, discreet),
        )
        place = route_booking(request) if kind == Kind.REQUEST_SCHEDULED else None
        if place is not None:
            walk = walk_context(place.walk, discreet=discreet, now=now)
            context.update(walk=walk, booking=place, manage_url=place.manage_url())
            attachments.append(
                calendar_attachment(place, walk, cancel=False, discreet=discreet, now=now)
            )

    from_email = sender(discreet)
    domain = parseaddr(from_email)[1].rpartition("@")[2] or "walkandtalk"
    message = build_email(
        template=f"emails/{kind}",
        context=context,
        to=[recipient.email],
        from_email=from_email,
        attachments=attachments,
        headers={
            # Our own Message-ID: Django's would name this server, whose name may say police.
            "Message-ID": make_msgid(domain=domain),
            # Out-of-office replies should not answer automatic mail (RFC 3834).
            "Auto-Submitted": "auto-generated",
        },
    )
    if discreet:
        check_discreet(message)
    return message


def message_texts(message: EmailMultiAlternatives) -> list[str]:
    """Every part of a message a person (or someone reading over her shoulder) could see."""
    parsed = message.message()
    texts = [str(parsed["Subject"]), str(parsed["From"])]
    for part in parsed.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        texts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
        if part.get_filename():
            texts.append(part.get_filename())
    return texts


def check_discreet(message: EmailMultiAlternatives) -> None:
    """The last guard: a discreet message that says "police" is not sent. Her links are on our
    own site whatever its address, so that address is not held against the message."""
    for text in message_texts(message):
        unfolded = text.replace("\r\n ", "").replace("\n ", "")  # calendar lines fold at 75
        if POLICE.search(unfolded.replace(settings.SITE_URL, "")):
            raise DiscreetLeak('A discreet message would have said "police"; not sent.')
