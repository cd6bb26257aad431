"""The calendar file in her emails: one event per booking, which later emails update in place.

Calendar programs match an update to the event they hold by UID, and take it when its SEQUENCE
is higher: the UID comes from the walk and the booking, and SEQUENCE counts seconds since the
booking, so whichever email was written last (and so holds the latest details) wins, whatever
order they arrive in. To that it adds the walk's own count of changes (Walk.sequence, raised by
the walk lifecycle when its time or place changes or it is called off): a file written after a
change is higher than any written before it even within the same second, and as both parts
only grow, so does SEQUENCE (files sent before the count existed were lower still).
"""

from datetime import datetime, timedelta
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from .models import Booking

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")


def calendar_uid(booking: Booking) -> str:
    return f"{booking.walk.code}.{booking.reference}@walkandtalk"


def calendar_sequence(booking: Booking, now: datetime) -> int:
    """Seconds since her booking when the file is written, plus the walk's changes."""
    return max(int((now - booking.created_at).total_seconds()), 0) + booking.walk.sequence


def walk_calendar(
    *,
    booking: Booking,
    cancel: bool,
    now: datetime,
    publish: bool = False,
    summary: str,
    location: str,
    description: str,
    url: str,
    organizer: str,
) -> bytes:
    """An iTIP message (RFC 5546): METHOD:REQUEST adds or replaces her event, METHOD:CANCEL
    removes it. With `publish`, the file she downloads from her booking page: METHOD:PUBLISH,
    which calendars import as a plain event (no invitation to answer, so no attendee), under
    the same UID and SEQUENCE, so later emails still update it. Times are Europe/London
    wall-clock with the zone's rules attached."""
    walk = booking.walk
    organizer_name, organizer_email = parseaddr(organizer)

    event = Event()
    event.add("uid", calendar_uid(booking))
    event.add("sequence", calendar_sequence(booking, now))
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", walk.starts_at.astimezone(LONDON))
    event.add("dtend", walk.ends_at.astimezone(LONDON))
    event.add("summary", summary)
    event.add("location", location)
    event.add("description", description)
    event.add("url", url)
    event.add("status", "CANCELLED" if cancel else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", f"mailto:{organizer_email}", parameters={"cn": organizer_name})
    if not publish:
        event.add(
            "attendee",
            f"mailto:{booking.email}",
            parameters={"cn": booking.full_name, "partstat": "ACCEPTED", "rsvp": "FALSE"},
        )

    calendar = Calendar()
    calendar.add("prodid", "-//Walk and Talk//Bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancel else "PUBLISH" if publish else "REQUEST")
    calendar.add_component(event)
    # The zone's rules around the walk only: enough for any calendar, and a small file.
    start = walk.starts_at.astimezone(LONDON).date()
    calendar.add_missing_timezones(
        first_date=start - timedelta(days=366), last_date=start + timedelta(days=366)
    )
    return calendar.to_ical()


def walk_feed_uid(walk) -> str:
    """One walk's event in an officer's feed: the same UID whatever changes, so her calendar
    updates it in place. Not the UID of any woman's event (calendar_uid names her booking)."""
    return f"{walk.code}@walkandtalk"


def officer_feed(*, walks, now: datetime, name: str, describe) -> bytes:
    """An officer's calendar subscription (METHOD:PUBLISH): one event per walk, in Europe/London
    time with the zone's rules, SEQUENCE the walk's own count of changes, STATUS:CANCELLED for
    a walk called off. `describe(walk)` gives each event's notes. Nothing here reads a booking:
    the feed names no woman."""
    calendar = Calendar()
    calendar.add("prodid", "-//Walk and Talk//Officer walks//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/London")
    first = last = None
    for walk in walks:
        starts = walk.starts_at.astimezone(LONDON)
        first = min(first or starts.date(), starts.date())
        last = max(last or starts.date(), starts.date())
        event = Event()
        event.add("uid", walk_feed_uid(walk))
        event.add("sequence", walk.sequence)
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", starts)
        event.add("dtend", walk.ends_at.astimezone(LONDON))
        event.add("summary", walk.title)
        event.add("location", f"{walk.meeting_point}, {walk.borough.name}")
        event.add("description", describe(walk))
        event.add("status", "CANCELLED" if walk.status == walk.Status.CANCELLED else "CONFIRMED")
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    if first is not None:
        calendar.add_missing_timezones(
            first_date=first - timedelta(days=1), last_date=last + timedelta(days=1)
        )
    return calendar.to_ical()
