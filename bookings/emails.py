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

from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from walkandtalk.mail import build_email

from .ics import walk_calendar
from .models import Booking, Notification, WalkRequest
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
        "url": f"{settings.SITE_URL}/walks/{walk.code}/",
    }


def sender(discreet: bool) -> str:
    return settings.DISCREET_FROM_EMAIL if discreet else settings.DEFAULT_FROM_EMAIL


def base_context(recipient: Booking | WalkRequest, *, discreet: bool) -> dict:
    return {
        "discreet": discreet,
        "name": recipient.full_name,
        "reference": recipient.reference,
        "site_url": settings.SITE_URL,
        "walks_url": f"{settings.SITE_URL}/walks/",
        "request_url": f"{settings.SITE_URL}/request/",
        "you_said_we_did_url": f"{settings.SITE_URL}/you-said-we-did/",
        "brand": "Walk bookings" if discreet else "Walk and Talk",
        "team": "The walk bookings team" if discreet else "The Met's Walk and Talk team",
    }


def concern_action(key: str):
    """The action a "you said, we did" row is about (key `action:<pk>`), or None if it is gone.
    Fetched by name: bookings does not import concerns (imports point the other way)."""
    prefix, _, pk = key.partition(":")
    if prefix != "action" or not pk.isdigit():
        return None
    action_model = apps.get_model("concerns", "ConcernAction")
    return action_model.objects.select_related("concern").filter(pk=int(pk)).first()


def route_booking(request: WalkRequest) -> Booking | None:
    """Her place on the route walk an inspector made from her request."""
    if request.walk_id is None:
        return None
    return request.walk.bookings.active().for_email(request.email).select_related("walk").first()


def calendar_attachment(
    booking: Booking, walk: dict, *, cancel: bool, discreet: bool, now: datetime
) -> tuple[str, bytes, str]:
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
            f"Find another walk: {settings.SITE_URL}/walks/",
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
    )
    method = "CANCEL" if cancel else "REQUEST"
    return ("walk.ics", content, f"text/calendar; method={method}")  # Django adds the charset


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
    booking, request = notification.booking, notification.request
    recipient = booking or request
    discreet = recipient.discreet_emails
    context = base_context(recipient, discreet=discreet)
    attachments = []
    kind = notification.kind

    if booking is not None:
        walk = walk_context(booking.walk, discreet=discreet, now=now)
        context.update(walk=walk, booking=booking, manage_url=booking.manage_url())
        context["repeat_booking"] = notification.key == REPEAT_BOOKING_KEY
        if kind == Kind.FEEDBACK:
            context["feedback_url"] = booking.feedback_url()
        if kind == Kind.YOU_SAID_WE_DID:
            action = concern_action(notification.key)
            context["action"] = {
                "category": action.concern.get_category_display(),
                "location": neutral(action.concern.location_text, discreet),
                "note": neutral(action.note, discreet),
                "status": action.get_status_display(),
                "partner": neutral(action.get_partner_display(), discreet),
            }
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
