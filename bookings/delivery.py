"""Sending the outbox: every due row is sent once, however many workers, retries and crashes.

A row is *claimed* by a conditional UPDATE (stamping `claimed_at`, counting the attempt) before
the SMTP call, and only the holder of that claim may record the outcome. So two workers, or a
task that Redis hands out twice, never send one row twice. A worker that dies after claiming
leaves the claim behind; after CLAIM_TIMEOUT the row is claimable again and is sent then. (A
worker that dies after the SMTP server took the message but before recording it will send it
again: the one window no outbox can close without the mail server's help. A sweep's writes
commit asynchronously, see asynchronous_commits: a crash of PostgreSQL itself can also lose the
last fraction of a second of sent marks, and those messages go once more.)

Outcomes: `sent_at`; a temporary SMTP error puts `due_at` back by a growing delay and the beat
sweep tries again (`attempts`, `last_error`); a permanent one sets `failed_at`, shown in the
admin; a message that should no longer go (a reminder too late to help, a confirmation for a
booking already cancelled) sets `skipped_at` with the reason in `last_error`.

A row is an email or a text (its `channel`): claim, verdict, back-off and skips are the same
for both; only building and sending the message differ (`build`, `send`). A text goes through
the SMS backend (walkandtalk/sms.py); GOV.UK Notify's "never" (an invalid number, a refused
key) fails the row, its "not now" (rate limit, its own errors, no answer in time) retries it,
and this sweep sends no more texts, while emails go on.

`now` comes from Python and is passed down (never the database's clock), so tests can move it.
"""

import contextlib
import logging
import smtplib
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.mail import get_connection
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from walkandtalk import sms

from . import links, messages
from .emails import build_message
from .models import Booking, Channel, Notification
from .services import publish_notification
from .texts import build_text

logger = logging.getLogger(__name__)
Kind = Notification.Kind

# Longer than any SMTP call can take (EMAIL_TIMEOUT is seconds), short enough to recover soon.
CLAIM_TIMEOUT = timedelta(minutes=10)
# After attempt n fails for a temporary reason, try again RETRY_DELAYS[n - 1] later.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
BATCH_SIZE = 20
# Beat starts a sweep every minute; one sweep stops claiming after this long.
SWEEP_TIME_LIMIT = timedelta(seconds=45)

# How long before the walk each reminder is meant for, and the latest it is still worth sending.
REMINDER_LEAD = {Kind.REMINDER_24H: timedelta(hours=24), Kind.REMINDER_2H: timedelta(hours=2)}
REMINDER_LAST_USEFUL = {
    Kind.REMINDER_24H: timedelta(hours=18),
    Kind.REMINDER_2H: timedelta(minutes=30),
}
MANAGE_LINK_USEFUL_AFTER_WALK = timedelta(days=links.LINK_DAYS_AFTER_WALK[links.MANAGE])

SENT, RETRYING, FAILED, SKIPPED, RESCHEDULED = (
    "sent",
    "retrying",
    "failed",
    "skipped",
    "rescheduled",
)


# --- which rows may be claimed ---------------------------------------------------------------


def claimable(now: datetime, *, channels_down: Iterable[str] = ()):
    """Due, not finished, and not held by a live claim; none on a channel that is down."""
    rows = Notification.objects.due(now).filter(
        Q(claimed_at=None) | Q(claimed_at__lt=now - CLAIM_TIMEOUT)
    )
    if channels_down:
        rows = rows.exclude(channel__in=list(channels_down))
    return rows


def claim_notification(*, notification_id: int, now: datetime) -> bool:
    """Claim one row for this worker. False when it is gone, done, not due or held."""
    claimed = (
        claimable(now).filter(pk=notification_id).update(claimed_at=now, attempts=F("attempts") + 1)
    )
    return claimed == 1


def claim_due_notifications(
    *, now: datetime, limit: int = BATCH_SIZE, channels_down: Iterable[str] = ()
) -> list[int]:
    """Claim up to `limit` due rows, none on `channels_down`. Rows another sweep is claiming
    right now are skipped, not waited for (SKIP LOCKED), so parallel sweeps share the work
    instead of queueing on it."""
    with transaction.atomic():
        ids = list(
            claimable(now, channels_down=channels_down)
            .order_by("due_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        Notification.objects.filter(pk__in=ids).update(claimed_at=now, attempts=F("attempts") + 1)
    return ids


def release_claims(ids: Iterable[int], *, claimed_at: datetime) -> None:
    """Give back rows this worker claimed but did not try (the mail server is down)."""
    Notification.objects.filter(pk__in=list(ids), claimed_at=claimed_at).update(
        claimed_at=None, attempts=F("attempts") - 1
    )


# --- whether a row should still go -----------------------------------------------------------


def reminder_decision(
    notification: Notification, booking: Booking, now: datetime
) -> tuple[str, str | datetime]:
    walk = booking.walk
    if booking.status != Booking.Status.CONFIRMED:
        return SKIPPED, f"Not sent: the booking is {booking.get_status_display().lower()}."
    if walk.status != walk.Status.SCHEDULED:
        return SKIPPED, f"Not sent: the walk is {walk.get_status_display().lower()}."
    moment = walk.starts_at - REMINDER_LEAD[notification.kind]
    if now < moment:
        # The walk moved later and nobody re-planned this row: follow the walk.
        return RESCHEDULED, moment
    if booking.created_at >= moment:
        return SKIPPED, "Not sent: she booked after this reminder's time."
    if now > walk.starts_at - REMINDER_LAST_USEFUL[notification.kind]:
        return SKIPPED, "Not sent: too late to be useful."
    return SENT, ""


def booking_decision(notification: Notification, now: datetime) -> tuple[str, str | datetime]:
    booking = notification.booking
    walk = booking.walk
    status = booking.status
    kind = notification.kind
    if kind in REMINDER_LEAD:
        return reminder_decision(notification, booking, now)
    stale = {
        Kind.BOOKING_CONFIRMED: status not in Booking.PLACE_STATUSES,
        Kind.WAITLISTED: status != Booking.Status.WAITLISTED,
        Kind.PROMOTED: status not in Booking.PLACE_STATUSES,
        Kind.WALK_CHANGED: not booking.is_active or walk.status != walk.Status.SCHEDULED,
        Kind.WALK_MESSAGE: status != Booking.Status.CONFIRMED
        or walk.status != walk.Status.SCHEDULED,
    }
    if stale.get(kind):
        return SKIPPED, "Not sent: the booking has changed since, and this no longer applies."
    before_walk = {
        Kind.BOOKING_CONFIRMED,
        Kind.WAITLISTED,
        Kind.PROMOTED,
        Kind.WALK_CHANGED,
        Kind.WALK_MESSAGE,
    }
    if kind in before_walk and now >= walk.ends_at:
        return SKIPPED, "Not sent: the walk is over."
    if kind == Kind.MANAGE_LINK and now > walk.ends_at + MANAGE_LINK_USEFUL_AFTER_WALK:
        return SKIPPED, "Not sent: the manage link no longer works."
    return SENT, ""


def decide(notification: Notification, now: datetime) -> tuple[str, str | datetime]:
    """(SENT, "") to send now; (SKIPPED, reason); or (RESCHEDULED, new due time)."""
    recipient = notification.booking or notification.request
    if recipient is not None and recipient.anonymised_at is not None:
        return SKIPPED, "Not sent: her personal data has been removed."
    reason = messages.stale_reason(notification, now)  # the kind's owner's own rule
    if reason:
        return SKIPPED, reason
    if notification.booking is not None:
        return booking_decision(notification, now)
    request = notification.request
    if request is not None and notification.kind == Kind.REQUEST_SCHEDULED:
        walk = request.walk
        if request.status != request.Status.SCHEDULED or walk is None:
            return SKIPPED, "Not sent: the request is no longer scheduled."
        if walk.status != walk.Status.SCHEDULED or now >= walk.ends_at:
            return SKIPPED, "Not sent: the walk is cancelled or over."
    return SENT, ""


# --- sending ---------------------------------------------------------------------------------


class ServiceDown(Exception):
    """Nothing more can go by this channel until its service is back: this sweep sends no
    more on it."""

    channel = Channel.SMS


class MailServerDown(ServiceDown):
    """Nothing can be emailed until the mail server is back."""

    channel = Channel.EMAIL


def is_permanent(error: Exception) -> bool:
    """5xx about this message or its recipient, or the SMS provider's "never" (an invalid
    number, a refused key): trying again will not help."""
    if isinstance(error, sms.SmsError):
        return error.permanent
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPSenderRefused | smtplib.SMTPAuthenticationError):
        return False  # our configuration, not her message: fix it and every row goes
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return isinstance(error, ValueError | UnicodeError)  # an address that cannot be sent to


def is_server_down(error: Exception) -> bool:
    if isinstance(error, sms.SmsError):
        return not error.permanent  # busy (429), down (5xx) or not answering
    if isinstance(error, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError):
        return False
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code in (421, 530, 535) or isinstance(
            error, smtplib.SMTPSenderRefused | smtplib.SMTPHeloError
        )
    return isinstance(error, OSError)  # refused, reset, timed out, disconnected


def describe(error: Exception, addresses: Iterable[str] = ()) -> str:
    """The error for the admin, without the recipients' addresses or numbers (servers quote
    them)."""
    text = f"{type(error).__name__}: {error}"
    for address in addresses:
        if address:
            text = text.replace(address, "<her address>")
    return text[:1000]


class Channels:
    """What one worker sends with: the mail server's connection (opened by the first email)
    and the SMS backend (made for the first text). Closed once, at the end."""

    def __init__(self):
        self.mail = get_connection()
        self._sms = None

    @property
    def sms(self):
        if self._sms is None:
            self._sms = sms.get_backend()
        return self._sms

    def close(self) -> None:
        self.mail.close()
        if self._sms is not None:
            self._sms.close()


def build(notification: Notification, now: datetime):
    """The message for one row, by its channel: an email, or a text's words."""
    if notification.channel == Channel.SMS:
        return build_text(notification, now=now)
    return build_message(notification, now=now)


def send(notification: Notification, message, channels: Channels) -> list[str]:
    """Send one built message by its row's channel (raises what the channel raises). Returns
    the addresses or numbers it went to, to keep out of any error shown."""
    if notification.channel == Channel.SMS:
        phone = notification.booking.phone
        if not phone:
            raise sms.SmsError("She gave no mobile number.", permanent=True)
        try:
            channels.sms.send(to=phone, body=message, reference=f"notification-{notification.pk}")
        except sms.SmsError as error:
            error.addresses = [phone]
            raise
        return [phone]
    connection = channels.mail
    try:
        # Opened here, not by send_messages (which would close it again after one message): a
        # sweep sends everything over one connection until an error closes it.
        connection.open()
        connection.send_messages([message])
    except Exception as error:
        # Whatever went wrong, start the next message on a fresh connection.
        with contextlib.suppress(Exception):  # the connection is already broken
            connection.close()
        error.addresses = message.recipients()
        raise
    return message.recipients()


def finish(notification: Notification, claim: datetime, /, **fields) -> bool:
    """Record an outcome, if this worker still holds the claim (stamped `claim`). A row re-armed
    meanwhile (the walk changed while we were sending) keeps its new plan."""
    updated = Notification.objects.filter(pk=notification.pk, claimed_at=claim).update(**fields)
    return updated == 1


def claimed_rows(ids: Iterable[int], *, claimed_at: datetime) -> list[Notification]:
    """Rows this worker holds the claim on (stamped `claimed_at`), with what their messages
    need: one query for a batch. Fetched one at a time, this join of eight tables cost more
    than writing and sending the email (docs/benchmarks.md, Delivery). Bookings' rows (nearly
    all of them) are read joined to their booking, walk and borough only, unsorted; requests'
    rows take a second query, only when the batch holds some: 0.29 -> 0.2 ms a row."""
    ids = list(ids)
    claimed = Notification.objects.filter(pk__in=ids, claimed_at=claimed_at).order_by()
    rows = list(claimed.filter(request=None).select_related("booking__walk__borough"))
    if len(rows) < len(ids):
        rows += claimed.exclude(request=None).select_related(
            "request__borough", "request__walk__borough"
        )
    return rows


def send_claimed(
    notification_id: int,
    *,
    claimed_at: datetime,
    now: datetime,
    channels: Channels,
    notification: Notification | None = None,
) -> str:
    """Send one row this worker has claimed, fetched here unless the caller read it with its
    batch (claimed_rows), by its channel. Returns the outcome; raises ServiceDown (the mail
    server or the SMS provider is down)."""
    if notification is None:
        notification = next(iter(claimed_rows([notification_id], claimed_at=claimed_at)), None)
    if notification is None:
        return "gone"

    try:
        verdict, detail = decide(notification, now)
        if verdict == SENT:
            message = build(notification, now)
    except Exception as error:
        logger.exception("Could not write notification %s", notification.pk)
        finish(notification, claimed_at, failed_at=now, last_error=describe(error))
        return FAILED
    if verdict == SKIPPED:
        finish(
            notification, claimed_at, skipped_at=now, last_error=detail, attempts=F("attempts") - 1
        )
        return SKIPPED
    if verdict == RESCHEDULED:
        finish(notification, claimed_at, due_at=detail, claimed_at=None, attempts=F("attempts") - 1)
        return RESCHEDULED

    try:
        send(notification, message, channels)
    except Exception as error:
        addresses = getattr(error, "addresses", ())
        return record_failure(notification, claimed_at, error, now, addresses)
    finish(notification, claimed_at, sent_at=timezone.now(), last_error="")
    return SENT


def record_failure(
    notification: Notification, claimed_at: datetime, error, now, addresses: Iterable[str] = ()
) -> str:
    attempts = notification.attempts
    detail = describe(error, addresses)
    if is_permanent(error) or attempts >= MAX_ATTEMPTS:
        logger.warning("Notification %s failed: %s", notification.pk, detail)
        prefix = "" if is_permanent(error) else f"Gave up after {attempts} attempts. "
        finish(notification, claimed_at, failed_at=now, last_error=prefix + detail)
        outcome = FAILED
    else:
        logger.info("Notification %s will be tried again: %s", notification.pk, detail)
        finish(
            notification,
            claimed_at,
            claimed_at=None,
            due_at=now + RETRY_DELAYS[attempts - 1],
            last_error=detail,
        )
        outcome = RETRYING
    if is_server_down(error):
        down = ServiceDown if notification.channel == Channel.SMS else MailServerDown
        raise down(detail) from error
    return outcome


def deliver_notification(*, notification_id: int, now: datetime | None = None) -> str | None:
    """Send one row now, if it is due and nobody else holds it. None when there was nothing to
    do (gone, already sent, not yet due, or another worker has it)."""
    now = now or timezone.now()
    if not claim_notification(notification_id=notification_id, now=now):
        return None
    channels = Channels()
    try:
        return send_claimed(notification_id, claimed_at=now, now=now, channels=channels)
    except ServiceDown:
        return RETRYING
    finally:
        channels.close()


def deliver_due_notifications(
    *, now: datetime | None = None, batch_size: int = BATCH_SIZE
) -> Counter:
    """One sweep: claim due rows a batch at a time and send them, until none are left or the
    time is up. A channel whose service is down (the mail server, the SMS provider) sends no
    more in this sweep: its rows are given back untried, and the other channel goes on.
    Returns how many rows had each outcome."""
    now = now or timezone.now()
    started = timezone.now()
    outcomes: Counter = Counter()
    channels = Channels()
    down: set[str] = set()
    try:
        with asynchronous_commits():
            while timezone.now() - started < SWEEP_TIME_LIMIT:
                ids = claim_due_notifications(now=now, limit=batch_size, channels_down=down)
                if not ids:
                    break
                rows = {row.pk: row for row in claimed_rows(ids, claimed_at=now)}
                untried = []
                for notification_id in ids:
                    row = rows.get(notification_id)
                    if row is None:
                        outcomes["gone"] += 1
                    elif row.channel in down:
                        untried.append(notification_id)
                    else:
                        try:
                            outcome = send_claimed(
                                notification_id,
                                claimed_at=now,
                                now=now,
                                channels=channels,
                                notification=row,
                            )
                        except ServiceDown as error:
                            outcome = RETRYING
                            down.add(error.channel)
                        outcomes[outcome] += 1
                release_claims(untried, claimed_at=now)
    finally:
        channels.close()
    return outcomes


@contextlib.contextmanager
def asynchronous_commits():
    """The sweep's own writes (claims, sent marks, retries) commit without waiting for the WAL
    to reach the disk: `SET synchronous_commit TO off` for this session while the sweep runs,
    put back after. Waiting for that fsync was the largest part of a message's cost
    (docs/benchmarks.md, Delivery: 3 to 10 ms per message under load, against about 2 ms for
    everything else); each write is still atomic and never half-applied.

    The trade, accepted for speed: if *PostgreSQL itself* crashes (or its machine loses power),
    the last fraction of a second of these writes may be lost (at most three times
    wal_writer_delay, 0.6 s by default). Messages marked sent in that window lose the mark and
    are sent once more after CLAIM_TIMEOUT. A worker crash changes nothing (the database keeps
    every committed write), nor does anything in normal operation: each message still goes
    exactly once. Other work on this connection (a task after the sweep) commits durably again.
    """
    if db_connection.vendor != "postgresql":
        yield
        return
    with db_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        # A broken connection is closed and replaced by Django: nothing to put back then.
        with contextlib.suppress(Exception), db_connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


# --- the admin's action ----------------------------------------------------------------------


def retry_notifications(*, notifications) -> int:
    """Try failed rows again from the start (after the cause was fixed). Returns how many."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            notifications.filter(failed_at__isnull=False, sent_at=None)
            # Only the outbox rows: a BCU's scope reaches them through outer joins (a booking's
            # walk, or a request's borough), whose nullable side PostgreSQL will not lock.
            .select_for_update(of=("self",))
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=ids).update(
            failed_at=None, claimed_at=None, attempts=0, due_at=now
        )
        for notification_id in ids:
            transaction.on_commit(lambda pk=notification_id: publish_notification(pk), robust=True)
    return len(ids)
