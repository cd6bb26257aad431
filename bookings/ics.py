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
