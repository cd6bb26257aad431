"""What each outbox row sent by text says: her reminders and news of the walk, when she chose
texts (Booking.reminder_channel, Notification.CHANNEL_CHOSEN_KINDS).

A text is short: at most MAX_SEGMENTS SMS messages (306 GSM-7 characters; 134 when a character
outside GSM-7 makes it UCS-2, walkandtalk/sms.py counts). Each kind offers its wordings from the
fullest to the barest, and the first that fits is sent: staff text (a long meeting point, the
inspector's message) gives way first, and every wording ends with her manage link, whose page
says everything. Written when sent, like the emails, so it carries the walk as it is then.

Discreet (her emails are discreet, so are her texts): no brand, no "police", "Met", "officer"
or "Walk and Talk"; staff text that says one of them is left out, as discreet emails leave out
"police", and she is sent to her booking page for it.
"""

import re
from datetime import datetime

from django.utils import timezone

from walkandtalk.sms import fits, plain

from .emails import LONDON, DiscreetLeak, clock, walk_message_text
from .models import Notification

Kind = Notification.Kind
MAX_SEGMENTS = 2
# What a discreet text must not say: a phone's lock screen shows it to whoever holds it.
NOT_DISCREET = re.compile(r"police|\bmet\b|officer|walk\s*and\s*talk", re.IGNORECASE)


class TextTooLong(Exception):
    """No wording of a text fits MAX_SEGMENTS (a SITE_URL far too long)."""


def discreet_safe(text: str, discreet: bool) -> str:
    """Staff-typed text for a text message: plain punctuation, one line, and nothing when a
    discreet text cannot carry it."""
    text = " ".join(plain(text or "").split())
    if discreet and NOT_DISCREET.search(text):
        return ""
    return text


def text_day(moment: datetime, now: datetime) -> str:
    """'today', 'tomorrow' or 'on Tue 3 Mar', as the calendar in London has it."""
    local = moment.astimezone(LONDON)
    days = (local.date() - now.astimezone(LONDON).date()).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"on {local:%a} {local.day} {local:%b}"


def _wordings(notification: Notification, now: datetime) -> list[str]:
    """The kind's wordings, fullest first; a wording that needs staff text the text cannot
    carry is left out."""
    booking = notification.booking
    walk = booking.walk
    discreet = booking.discreet_emails
    brand = "" if discreet else "Walk and Talk: "
    when = f"{text_day(walk.starts_at, now)} at {clock(walk.starts_at.astimezone(LONDON))}"
    # A route walk's title is written for staff ("her route"): her page shows the walk.
    title = "" if walk.kind == walk.Kind.ROUTE else discreet_safe(walk.title, discreet)
    place = discreet_safe(walk.meeting_point, discreet)
    borough = discreet_safe(walk.borough.name, discreet)
    link = booking.manage_url()
    kind = notification.kind
    candidates: list[tuple[str, ...]] = []  # (wording, every staff text it needs...)

    if kind in (Kind.REMINDER_24H, Kind.REMINDER_2H):
        head = f"{brand}Reminder: your walk is {when}"
        tail = f"To change or cancel: {link}"
        candidates = [
            (f"{head}, {title}. Meet at {place}. {tail}", title, place),
            (f"{head}. Meet at {place}. {tail}", place),
            (f"{head} in {borough}. Where to meet, and to change or cancel: {link}", borough),
            (f"{head}. Where to meet, and to change or cancel: {link}",),
        ]
    elif kind == Kind.PROMOTED:
        head = f"{brand}A place has come up: you are booked on the walk {when}"
        tail = f"If you cannot come, cancel: {link}"
        candidates = [
            (f"{head}, {title}. Meet at {place}. {tail}", title, place),
            (f"{head}. Meet at {place}. {tail}", place),
            (f"{head} in {borough}. Where to meet, and to cancel: {link}", borough),
            (f"{head}. Where to meet, and to cancel: {link}",),
        ]
    elif kind == Kind.WALK_CHANGED:
        head = f"{brand}Your walk has changed. It is now {when}"
        tail = f"Details: {link}"
        candidates = [
            (f"{head}, meeting at {place}. {tail}", place),
            (f"{head}. Where to meet and details: {link}",),
        ]
    elif kind == Kind.WALK_CANCELLED:
        reason = discreet_safe(walk.cancel_reason, discreet)
        head = f"{brand}Sorry, your walk {when} is cancelled"
        tail = f"Details, and other walks: {link}"
        candidates = [
            (f"{head}: {reason} {tail}", reason),
            (f"{brand}Sorry, your walk in {borough} {when} is cancelled. {tail}", borough),
            (f"{head}. {tail}",),
        ]
    elif kind == Kind.WALK_MESSAGE:
        message = discreet_safe(walk_message_text(notification, discreet=discreet), discreet)
        head = f"{brand}About your walk {when}"
        candidates = [
            (f'{head}: "{message}" Details: {link}', message),
            (f"{head}: there is a message for you. Read it here: {link}",),
        ]
    else:
        raise ValueError(f"No text for a {kind} message: it is sent by email.")
    return [wording for wording, *needs in candidates if all(needs)]


def build_text(notification: Notification, *, now: datetime | None = None) -> str:
    """The text for one outbox row, as it should read now: the fullest wording that fits
    MAX_SEGMENTS."""
    now = now or timezone.now()
    discreet = notification.booking.discreet_emails
    for wording in _wordings(notification, now):
        if fits(wording, MAX_SEGMENTS):
            if discreet:
                check_discreet_text(wording, notification.booking.manage_url())
            return wording
    raise TextTooLong(f"No wording of this {notification.kind} text fits {MAX_SEGMENTS} SMS.")


def check_discreet_text(text: str, link: str) -> None:
    """The last guard, as for discreet emails: a discreet text that names the police (or the
    scheme) is not sent. Her link is on our own site whatever its address."""
    if NOT_DISCREET.search(text.replace(link, "")):
        raise DiscreetLeak("A discreet text would have named the police; not sent.")
