"""Every write on the public side: bookings, route requests and the outbox."""

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from patrols.models import Borough, RosterAssignment, Walk
from patrols.services import move_roster, roster_officer, same_local_time_weeks_later, unroster_walk
from patrols.signals import walks_changed
from walkandtalk.celery import publish

from .models import Booking, Channel, Notification, WalkMessage, WalkRequest

logger = logging.getLogger(__name__)


def publish_notification(notification_id: int) -> None:
    """Ask a worker to send one row now. If the broker is down the row waits for the sweep."""
    publish("bookings.tasks.deliver_notification", notification_id)


# One message: its kind, when it is due (None: now) and its key ("" unless one recipient may
# get several of that kind).
Message = tuple[str, datetime | None, str]


def queue_notifications(
    *,
    messages: Sequence[Message],
    booking: Booking | None = None,
    request: WalkRequest | None = None,
    spacing: timedelta | None = None,
) -> list[Notification]:
    """Write (or re-arm) the outbox rows for messages to one recipient (a booking or a route
    request), in the caller's transaction; publish each after commit when it is due now. Call
    inside transaction.atomic.

    With `spacing`, a row already armed less than that long ago is left as it is (so a stranger
    who knows her address cannot fill her inbox), yet returned and published all the same: the
    worker finds it sent or taken and returns quietly, and the caller's work, statements and
    publishes alike, is the same either way (a repeat booking must not be told apart by time).

    One statement however many messages: INSERT ... ON CONFLICT DO UPDATE on the unique
    (recipient, kind, key, channel). A row already there is re-armed (due again, unclaimed,
    unsent, no attempts), as update_or_create did, but with no SELECT ... FOR UPDATE and no
    savepoints: the booking form writes three rows per confirmed booking (docs/benchmarks.md,
    Booking burst). Each row goes by the channel her booking gives its kind
    (Booking.channel_for); a route request's by email. Returns the rows in the order of
    `messages`."""
    if not messages:
        return []
    if (booking is None) == (request is None):
        raise ValueError("A notification goes to a booking or a route request, not both.")
    now = timezone.now()
    recipient, recipient_id = ("booking_id", booking.pk) if booking else ("request_id", request.pk)
    other = "request_id" if booking else "booking_id"
    quote, adapt = connection.ops.quote_name, connection.ops.adapt_datetimefield_value
    rows, params = [], []
    for kind, due_at, key in messages:
        channel = booking.channel_for(kind) if booking else Notification.Channel.EMAIL
        rows.append("(%s, NULL, %s, %s, %s, %s, NULL, NULL, NULL, NULL, 0, '', %s)")
        params += [recipient_id, kind, key, channel, adapt(due_at or now), adapt(now)]
    meta = Notification._meta
    returning = ", ".join(quote(field.column) for field in meta.concrete_fields)
    # Identifiers from the model's _meta, every value a parameter.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({quote(recipient)}, {quote(other)}, kind, key, "  # noqa: S608
        "channel, due_at, claimed_at, sent_at, failed_at, skipped_at, attempts, last_error, "
        "created_at) "
        f"VALUES {', '.join(rows)} "
        f"{_rearm_on_conflict(recipient, spacing, now, params)} "
        f"RETURNING {returning}"
    )
    # raw() gives model instances through the backend's converters (SQLite's datetimes).
    by_message = {}
    for notification in Notification.objects.raw(sql, params):
        if booking is not None:
            notification.booking = booking
        else:
            notification.request = request
        by_message[notification.kind, notification.key] = notification
    notifications = [by_message[kind, key] for kind, _, key in messages]
    for notification in notifications:
        if notification.due_at <= now:
            # A lambda, not functools.partial: Django logs a failed robust callback by its
            # __qualname__, which a partial lacks, and the AttributeError would escape to the
            # view. One publish per message due now: a new booking has one (the reminders are
            # due later and the beat sweep sends them).
            transaction.on_commit(lambda pk=notification.pk: publish_notification(pk), robust=True)
    return notifications


def _rearm_on_conflict(recipient: str, spacing: timedelta | None, now: datetime, params) -> str:
    """The ON CONFLICT clause of an outbox INSERT: a row already there is re-armed (due again,
    unclaimed, unsent, no attempts). With `spacing`, a row armed less than that long ago keeps
    every value, yet the statement still returns it. Appends its parameters to `params`."""
    quote = connection.ops.quote_name
    table = quote(Notification._meta.db_table)
    rearm = {
        "due_at": "EXCLUDED.due_at",
        "claimed_at": "NULL",
        "sent_at": "NULL",
        "failed_at": "NULL",
        "skipped_at": "NULL",
        "attempts": "0",
        "last_error": "''",
    }
    if spacing is None:
        updates = ", ".join(f"{column} = {value}" for column, value in rearm.items())
    else:
        updates = ", ".join(
            f"{column} = CASE WHEN {table}.due_at <= %s THEN {value} ELSE {table}.{column} END"
            for column, value in rearm.items()
        )
        params += [connection.ops.adapt_datetimefield_value(now - spacing)] * len(rearm)
    # The target names the partial unique index (one_notification_per_*_kind).
    return (
        f"ON CONFLICT ({quote(recipient)}, kind, key, channel) "
        f"WHERE {quote(recipient)} IS NOT NULL DO UPDATE SET {updates}"
    )


def publish_sweep() -> None:
    """Ask a worker to sweep the outbox now (after commit): for writes whose rows must not be
    published one by one, since their number would tell something."""
    transaction.on_commit(lambda: publish("bookings.tasks.deliver_due_notifications"), robust=True)


def queue_notification(
    *,
    kind: str,
    booking: Booking | None = None,
    request: WalkRequest | None = None,
    due_at: datetime | None = None,
    key: str = "",
) -> Notification:
    """queue_notifications for one message."""
    return queue_notifications(booking=booking, request=request, messages=[(kind, due_at, key)])[0]


def queue_bcu_notification(
    *, bcu_id: int, kind: str, key: str, due_at: datetime
) -> Notification | None:
    """One outbox row addressed through a BCU rather than to her: the inspectors' digest, a
    welfare alert to a walk's team, a partner's referral (the kind's owner finds the reader by
    the key). Unique on (BCU, kind, key, channel): when the row is there already (an earlier
    or a parallel call) nothing is added and None is returned. Published at commit when due."""
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                bcu_id=bcu_id, kind=kind, key=key, due_at=due_at
            )
    except IntegrityError:
        return None
    if due_at <= timezone.now():
        transaction.on_commit(lambda pk=notification.pk: publish_notification(pk), robust=True)
    return notification


# --- The booking journey: places, the waiting list, reminders ---

REMINDERS = (
    (Notification.Kind.REMINDER_24H, timedelta(hours=24)),
    (Notification.Kind.REMINDER_2H, timedelta(hours=2)),
)
REMINDER_KINDS = tuple(kind for kind, _ in REMINDERS)
# A place given back later than this before the walk is not offered to the waiting list: she
# would hear too late to come. It stays free for anyone who books it themselves.
PROMOTION_CUTOFF = timedelta(hours=2)
# A manage link (lost-link form, or a repeat booking) is re-sent at most this often per
# booking, so a stranger who knows her address cannot fill her inbox.
RESEND_SPACING = timedelta(minutes=5)
# MANAGE_LINK's key when she tries to book a walk she already holds a booking on: the email
# tells her so, while the screen gives the same answer as a first booking.
REPEAT_BOOKING_KEY = "repeat_booking"


def lock_walk(walk: Walk) -> Walk:
    """The walk's row, locked until commit. Everything that takes or gives back a place on a
    walk, or changes the walk itself (its lifecycle below, the debrief), takes this lock first,
    so two bookings can never both take its last place. One lock style everywhere: NO KEY
    UPDATE: rows that only point at the walk (a roster row being added) are not blocked by it,
    so an inspector rostering an officer cannot deadlock with a walk being moved."""
    return Walk.objects.select_for_update(no_key=True).get(pk=walk.pk)


def _check_bookable(walk: Walk, now: datetime) -> None:
    if walk.kind != Walk.Kind.GROUP:
        raise ValidationError("This walk cannot be booked here.", code="route_walk")
    if walk.status == Walk.Status.CANCELLED:
        raise ValidationError("This walk has been cancelled.", code="walk_cancelled")
    if walk.status != Walk.Status.SCHEDULED or walk.has_started(now):
        raise ValidationError("This walk has already started.", code="walk_started")


def _reminder_plan(walk: Walk, now: datetime) -> tuple[list[Message], list[str]]:
    """The reminders a confirmed booking on this walk should have (24 hours and 2 hours
    before it starts), and the kinds whose moment has already passed."""
    planned, passed = [], []
    for kind, before in REMINDERS:
        due_at = walk.starts_at - before
        if due_at <= now:
            passed.append(kind)
        else:
            planned.append((kind, due_at, ""))
    return planned, passed


def plan_reminders(*, booking: Booking) -> list[Notification]:
    """Write (or re-arm) the reminder rows of a confirmed booking: 24 hours and 2 hours before
    the walk (booking.walk's times). A reminder whose moment has passed is not planned, and an
    unsent one left from earlier times is removed. Rows with a due_at, never countdown tasks:
    the beat sweep sends them."""
    if booking.status != Booking.Status.CONFIRMED:
        return []
    planned, passed = _reminder_plan(booking.walk, timezone.now())
    # No savepoint inside a caller's transaction: nothing here is retried on its own.
    with transaction.atomic(savepoint=False):
        if passed:
            Notification.objects.filter(booking=booking, kind__in=passed, sent_at=None).delete()
        return queue_notifications(booking=booking, messages=planned)


def drop_reminders(*, booking: Booking) -> int:
    """Remove the booking's unsent reminders; those already sent stay as history."""
    with transaction.atomic():
        deleted, _ = Notification.objects.filter(
            booking=booking, kind__in=REMINDER_KINDS, sent_at=None
        ).delete()
    return deleted


def book_place(
    *,
    walk: Walk,
    full_name: str,
    email: str,
    phone: str = "",
    accessibility_needs: str = "",
    topics: str = "",
    discreet_emails: bool = False,
    reminder_channel: str = Channel.EMAIL,
) -> Booking:
    """Book her a place on a group walk: confirmed while a place is left, otherwise on the
    waiting list. The walk row is locked, so capacity holds under any concurrency. Her
    reminders and news of the walk go by `reminder_channel`: by text, to `phone`, which must
    then be a UK mobile (stored in E.164, see uk_mobile).

    If this email already holds an active booking on the walk, nothing new is written: she is
    emailed about the booking she has (MANAGE_LINK with REPEAT_BOOKING_KEY) and that booking is
    returned. `screen_status` on the returned booking is what the page may show: for a repeat,
    the status a newcomer would have had, so the screen never tells whoever typed an address
    whether it had booked before (the email tells her)."""
    email = email.strip()
    phone = phone.strip()
    if reminder_channel == Channel.SMS:
        phone = uk_mobile(phone)
    now = timezone.now()
    with transaction.atomic():
        walk = lock_walk(walk)
        _check_bookable(walk, now)
        # One statement, run after the lock is granted: under READ COMMITTED it takes a fresh
        # snapshot, so it sees every booking committed by whoever held the lock before. (Not
        # in the locking statement itself: that one's snapshot predates the wait.) The places
        # taken, and her active booking on the walk if she has one.
        found = Booking.objects.filter(walk=walk).aggregate(
            booked=Count("pk", filter=Q(status__in=Booking.PLACE_STATUSES)),
            existing=Min("pk", filter=Q(status__in=Booking.ACTIVE_STATUSES, email__iexact=email)),
        )
        walk.booked = found["booked"]  # what Walk.places_left() reads, as with_counts() sets
        status = Booking.Status.CONFIRMED if walk.places_left() > 0 else Booking.Status.WAITLISTED
        if found["existing"] is not None:
            # The same work as a first booking: one read where it writes her row, one outbox
            # statement, one publish (see queue_notifications' spacing).
            existing = Booking.objects.get(pk=found["existing"])
            existing.walk = walk
            queue_notifications(
                booking=existing,
                messages=[(Notification.Kind.MANAGE_LINK, None, REPEAT_BOOKING_KEY)],
                spacing=RESEND_SPACING,
            )
            existing.screen_status = status
            return existing
        booking = Booking.objects.create(
            walk=walk,
            full_name=full_name.strip(),
            email=email,
            phone=phone,
            accessibility_needs=accessibility_needs.strip(),
            topics=topics.strip(),
            discreet_emails=discreet_emails,
            reminder_channel=reminder_channel,
            status=status,
        )
        if status == Booking.Status.CONFIRMED:
            walk.booked += 1
            # The confirmation and her reminders in one statement. A new booking has no
            # reminder rows yet, so there is nothing left from earlier times to remove.
            planned, _ = _reminder_plan(walk, now)
            messages = [(Notification.Kind.BOOKING_CONFIRMED, None, ""), *planned]
        else:
            messages = [(Notification.Kind.WAITLISTED, None, "")]
        queue_notifications(booking=booking, messages=messages)
        booking.screen_status = status
        return booking


NOT_A_UK_MOBILE = "Enter a UK mobile number, like 07700 900 982, to get text messages"
# 07700 900xxx: no real phone has one (Ofcom keeps the range for fiction).
OFCOM_DRAMA_MOBILES = "7700900"


def uk_mobile(phone: str) -> str:
    """The number texts go to: a UK mobile (+44, with the Channel Islands and the Isle of Man),
    in E.164 (+447700900982), however she wrote it (07700 900 982, +44 7700 900982). A
    landline, a number from another country or nonsense is refused (code "not_uk_mobile").
    Ofcom's range for drama, 07700 900000 to 900999 (GOV.UK's own example), counts as a mobile
    that reaches no one: the demo and the tests use it."""
    try:
        number = phonenumbers.parse(phone.strip(), "GB")
    except phonenumbers.NumberParseException:
        raise ValidationError(NOT_A_UK_MOBILE, code="not_uk_mobile") from None
    national = str(number.national_number)
    mobile = (
        phonenumbers.is_valid_number(number)
        and phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
    ) or (len(national) == 10 and national.startswith(OFCOM_DRAMA_MOBILES))
    if number.country_code != 44 or not mobile:
        raise ValidationError(NOT_A_UK_MOBILE, code="not_uk_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def change_reminder_channel(*, booking: Booking, channel: str, phone: str = "") -> Booking:
    """She changes how her reminders and news of the walk reach her (from her manage page): by
    email, or by text to `phone` (a UK mobile, see uk_mobile). Her messages not yet sent move
    to the new channel (re-queued there, keeping their time, key and what changed); one a
    worker holds right now goes as it was. Under the walk's lock, as every change to her
    booking's messages is (a walk change re-plans them)."""
    if channel not in Channel.values:
        raise ValidationError("Choose email or text message.", code="invalid_channel")
    if channel == Channel.SMS:
        phone = uk_mobile(phone)
    with transaction.atomic():
        walk = lock_walk(booking.walk)
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        booking.walk = walk
        if not booking.is_active:
            raise ValidationError("This booking is cancelled.", code="not_active")
        booking.reminder_channel = channel
        fields = ["reminder_channel"]
        if channel == Channel.SMS:
            booking.phone = phone
            fields.append("phone")
        booking.save(update_fields=fields)
        pending = list(
            Notification.objects.filter(
                booking=booking,
                kind__in=Notification.CHANNEL_CHOSEN_KINDS,
                sent_at=None,
                failed_at=None,
                skipped_at=None,
                claimed_at=None,
            ).exclude(channel=channel)
        )
        if pending:
            Notification.objects.filter(pk__in=[row.pk for row in pending]).delete()
            moved = queue_notifications(
                booking=booking, messages=[(row.kind, row.due_at, row.key) for row in pending]
            )
            for row, notification in zip(pending, moved, strict=True):
                if row.changed_from:
                    notification.changed_from = row.changed_from
                    notification.save(update_fields=["changed_from"])
    return booking


def _fill_from_waitlist(walk: Walk, now: datetime) -> list[Booking]:
    """Give the walk's free places to the waiting list, first come first served, while the walk
    is more than PROMOTION_CUTOFF away. The caller holds the walk's lock."""
    if walk.status != Walk.Status.SCHEDULED or walk.starts_at - now <= PROMOTION_CUTOFF:
        return []
    free = walk.places_left()
    if free <= 0:
        return []
    promoted = list(Booking.objects.filter(walk=walk).waitlisted().select_for_update()[:free])
    for booking in promoted:
        booking.walk = walk
        booking.status = Booking.Status.CONFIRMED
        booking.save(update_fields=["status"])
        queue_notification(kind=Notification.Kind.PROMOTED, booking=booking)
        plan_reminders(booking=booking)
    return promoted


def promote_waitlisted(*, walk: Walk) -> list[Booking]:
    """Offer a walk's free places to its waiting list (after its capacity was raised, say)."""
    with transaction.atomic():
        return _fill_from_waitlist(lock_walk(walk), timezone.now())


def cancel_booking(*, booking: Booking) -> Booking:
    """She gives back her place (or leaves the waiting list). A place given back more than
    PROMOTION_CUTOFF before the walk goes to the first on the waiting list, in the same
    transaction."""
    now = timezone.now()
    with transaction.atomic():
        walk = lock_walk(booking.walk)
        booking = Booking.objects.select_for_update().get(pk=booking.pk)
        booking.walk = walk
        if not booking.is_active:
            raise ValidationError("This booking is already cancelled.", code="not_active")
        if walk.has_started(now):
            raise ValidationError(
                "This walk has already started, so the booking cannot be cancelled.",
                code="walk_started",
            )
        held_a_place = booking.status == Booking.Status.CONFIRMED
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_at = now
        booking.save(update_fields=["status", "cancelled_at"])
        drop_reminders(booking=booking)
        queue_notification(kind=Notification.Kind.BOOKING_CANCELLED, booking=booking)
        if held_a_place:
            _fill_from_waitlist(walk, now)
    return booking


# --- A walk's life: created, changed, cancelled, completed ---
#
# These are the only writers of a walk's status, capacity and times (docs/architecture.md lists
# them): the admin, the debrief and the route-request scheduling call them. Each takes the
# walk's lock (lock_walk) and ends by sending patrols.signals.walks_changed, so whatever shows
# walks follows at once however the rows were written.

# How far ahead a walk can be repeated weekly at once.
MAX_REPEAT_WEEKS = 26


def _walks_changed(*walks: Walk) -> None:
    walks_changed.send(sender=Walk, walk_ids=[walk.pk for walk in walks])


def check_capacity(*, walk: Walk, capacity: int) -> None:
    """A walk's places never fall below the places already taken on it (confirmed, or
    attended): an inspector cancels bookings first, so every woman is told."""
    if capacity < 1:
        raise ValidationError("A walk has at least one place.", code="capacity_too_small")
    taken = Booking.objects.filter(walk_id=walk.pk).confirmed().count()
    if capacity < taken:
        places = "1 place is" if taken == 1 else f"{taken} places are"
        raise ValidationError(
            f"{places} booked, more than {capacity}: cancel bookings before lowering the capacity.",
            code="capacity_below_booked",
        )


def create_walk(*, walk: Walk) -> Walk:
    """Save a new walk built by the caller (the admin's form, a route request, a weekly copy):
    scheduled, in its borough's BCU, ending after it starts, with at least one place. Whether
    a typed date may lie in the past is the caller's question (a weekly copy of an old walk
    may)."""
    if walk.pk is not None:
        raise ValueError("create_walk saves a new walk; change_walk changes one.")
    if walk.ends_at <= walk.starts_at:
        raise ValidationError("The walk must end after it starts.", code="ends_before_start")
    if walk.capacity < 1:
        raise ValidationError("A walk has at least one place.", code="capacity_too_small")
    walk.bcu_id = walk.borough.bcu_id
    walk.status = Walk.Status.SCHEDULED
    walk.cancel_reason = ""
    with transaction.atomic():
        walk.save(force_insert=True)
        _walks_changed(walk)
    return walk


def change_walk(
    *,
    walk: Walk,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    meeting_point: str | None = None,
    capacity: int | None = None,
) -> Walk:
    """Re-time, move or resize a scheduled walk, under its lock.

    A new start without a new end keeps the duration. The roster follows the new times through
    the roster service (refused, and nothing changes, if an officer would be on two walks at
    once); confirmed bookings' reminders are re-planned when the start moves; everyone booked
    is told of a new time or place (WALK_CHANGED, re-armed if she was told of an earlier
    change). A capacity raised gives the new places to the waiting list at once (PROMOTED, as
    when a place is given back); lowered, it never falls below the places taken."""
    now = timezone.now()
    with transaction.atomic():
        walk = lock_walk(walk)
        if walk.status != Walk.Status.SCHEDULED:
            raise ValidationError("Only a scheduled walk can be changed.", code="not_scheduled")
        new_starts = starts_at or walk.starts_at
        shift = new_starts - walk.starts_at
        new_ends = ends_at if ends_at is not None else walk.ends_at + shift
        new_point = walk.meeting_point if meeting_point is None else meeting_point.strip()
        new_capacity = walk.capacity if capacity is None else capacity
        if not new_point:
            raise ValidationError("Give a meeting point.", code="meeting_point_required")
        if new_ends <= new_starts:
            raise ValidationError("The walk must end after it starts.", code="ends_before_start")
        start_moved = new_starts != walk.starts_at
        retimed = start_moved or new_ends != walk.ends_at
        moved = new_point != walk.meeting_point
        grown = new_capacity > walk.capacity
        if not (retimed or moved or new_capacity != walk.capacity):
            return walk
        if (retimed or moved) and walk.has_started(now):
            raise ValidationError("This walk has already started.", code="walk_started")
        if start_moved and new_starts <= now:
            raise ValidationError("A walk cannot be moved into the past.", code="in_the_past")
        if new_capacity != walk.capacity:
            check_capacity(walk=walk, capacity=new_capacity)
        was = {
            "starts_at": walk.starts_at.isoformat(),
            "ends_at": walk.ends_at.isoformat(),
            "meeting_point": walk.meeting_point,
        }
        walk.starts_at, walk.ends_at = new_starts, new_ends
        walk.meeting_point, walk.capacity = new_point, new_capacity
        if retimed or moved:
            walk.sequence += 1  # her calendar takes the new details (bookings/ics.py)
        walk.save(update_fields=["starts_at", "ends_at", "meeting_point", "capacity", "sequence"])
        if retimed:
            move_roster(walk=walk)
        if retimed or moved:
            _tell_of_change(walk, was, start_moved=start_moved)
        if grown:
            _fill_from_waitlist(walk, now)
        _walks_changed(walk)
    return walk


def _tell_of_change(walk: Walk, was: dict, *, start_moved: bool) -> None:
    """Queue WALK_CHANGED to everyone booked on the walk (re-armed if she was told of an
    earlier change), with what she last knew of it in `changed_from`: the walk as it was just
    now, unless an earlier change's message to her is still unsent, whose `changed_from` is
    older and stays (she hears "was" as she knew it and "now" as it is when the email is
    written). Her reminders move with a new start. The caller holds the walk's lock."""
    bookings = list(Booking.objects.filter(walk=walk).active())
    untold = set(
        Notification.objects.filter(
            booking__in=bookings, kind=Notification.Kind.WALK_CHANGED, sent_at=None
        ).values_list("booking_id", flat=True)
    )
    for booking in bookings:
        booking.walk = walk
        if start_moved and booking.status == Booking.Status.CONFIRMED:
            drop_reminders(booking=booking)
            plan_reminders(booking=booking)
        queue_notification(kind=Notification.Kind.WALK_CHANGED, booking=booking)
    Notification.objects.filter(booking__in=bookings, kind=Notification.Kind.WALK_CHANGED).exclude(
        booking_id__in=untold
    ).update(changed_from=was)


def cancel_walk(*, walk: Walk, reason: str) -> int:
    """The police call a walk off: every active booking is cancelled and told why, reminders
    are dropped, and the officers are freed for other walks (through the roster service).
    Returns how many were told."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            "Give a reason: everyone booked on the walk is told it.", code="reason_required"
        )
    now = timezone.now()
    with transaction.atomic():
        walk = lock_walk(walk)
        if walk.status == Walk.Status.CANCELLED:
            raise ValidationError("This walk is already cancelled.", code="already_cancelled")
        if walk.status == Walk.Status.COMPLETED:
            raise ValidationError("This walk has taken place.", code="walk_completed")
        walk.status = Walk.Status.CANCELLED
        walk.cancel_reason = reason
        walk.sequence += 1  # the cancellation outranks every calendar file sent before
        walk.save(update_fields=["status", "cancel_reason", "sequence"])
        bookings = list(Booking.objects.filter(walk=walk).active().select_for_update())
        for booking in bookings:
            booking.status = Booking.Status.CANCELLED
            booking.cancelled_at = now
        Booking.objects.bulk_update(bookings, ["status", "cancelled_at"])
        # Nothing about the old plan should reach her after the news that it is off.
        Notification.objects.filter(
            booking__in=bookings,
            kind__in=(*REMINDER_KINDS, Notification.Kind.WALK_CHANGED),
            sent_at=None,
        ).delete()
        for booking in bookings:
            queue_notification(kind=Notification.Kind.WALK_CANCELLED, booking=booking)
        unroster_walk(walk=walk)
        _walks_changed(walk)
    return len(bookings)


def complete_walk(*, walk: Walk) -> Walk:
    """The walk has taken place: its debrief says so. Once it has started and unless it was
    cancelled; a walk already completed is left as it is."""
    with transaction.atomic():
        walk = lock_walk(walk)
        if walk.status == Walk.Status.COMPLETED:
            return walk
        if walk.status == Walk.Status.CANCELLED:
            raise ValidationError("This walk was cancelled.", code="walk_cancelled")
        if not walk.has_started():
            raise ValidationError("This walk has not started yet.", code="not_started")
        walk.status = Walk.Status.COMPLETED
        walk.save(update_fields=["status"])
        _walks_changed(walk)
    return walk


# The same words about the same walk again within this long are a double submit (or a second
# run of the same work): they are not recorded or sent twice.
MESSAGE_REPEAT_WINDOW = timedelta(minutes=10)


def message_walk(*, walk: Walk, text: str, by=None) -> WalkMessage:
    """An inspector tells the women with a place on a walk something they need to know ("meet
    at the other gate; the main gate is closed"). The message is kept with the walk and goes
    through the outbox: one WALK_MESSAGE row per confirmed booking, keyed by the message, so
    each woman is sent it once. Women on the waiting list are not coming unless a place comes
    free, and are not sent it; a booking cancelled since is skipped at sending (delivery).

    Under the walk's lock, so a double submit waits for the first and finds it: the same text
    within MESSAGE_REPEAT_WINDOW returns the message already sent, and nothing is queued again.
    Returns the message, with `told` (how many women it goes to) and `repeat` (it was already
    sent)."""
    text = text.strip()
    if not text:
        raise ValidationError(
            "Write the message: every woman booked on the walk is sent it.", code="text_required"
        )
    now = timezone.now()
    with transaction.atomic():
        walk = lock_walk(walk)
        if walk.status != Walk.Status.SCHEDULED:
            raise ValidationError(
                f"This walk is {walk.get_status_display().lower()}: no message can be sent.",
                code="not_scheduled",
            )
        if now >= walk.ends_at:
            raise ValidationError("This walk is over: no message can be sent.", code="walk_over")
        earlier = (
            WalkMessage.objects.filter(
                walk=walk, text=text, created_at__gte=now - MESSAGE_REPEAT_WINDOW
            )
            .order_by("-created_at", "-pk")
            .first()
        )
        if earlier is not None:
            earlier.told = Notification.objects.filter(
                kind=Notification.Kind.WALK_MESSAGE, key=earlier.notification_key
            ).count()
            earlier.repeat = True
            return earlier
        message = WalkMessage.objects.create(walk=walk, text=text, sent_by=by, created_at=now)
        bookings = list(Booking.objects.filter(walk=walk, status=Booking.Status.CONFIRMED))
        for booking in bookings:
            booking.walk = walk
            queue_notification(
                kind=Notification.Kind.WALK_MESSAGE, booking=booking, key=message.notification_key
            )
    logger.info("Message about walk %s sent to %d by %s", walk.code, len(bookings), by)
    message.told, message.repeat = len(bookings), False
    return message


@transaction.atomic
def repeat_walk_weekly(*, walk: Walk, weeks: int) -> list[Walk]:
    """Copy a walk forward 1..weeks weeks at the same local time, with its roster where the
    officers are free. A week that already has the same walk is skipped, so repeating twice
    does not double the walks."""
    if not 1 <= weeks <= MAX_REPEAT_WEEKS:
        raise ValidationError(
            f"Repeat for between 1 and {MAX_REPEAT_WEEKS} weeks.", code="repeat_weeks"
        )
    if walk.kind != Walk.Kind.GROUP:
        raise ValidationError(
            "Only group walks repeat; a walk on her route is for one woman.", code="repeat_route"
        )
    roster = list(walk.roster.select_related("officer"))
    copies = []
    for week in range(1, weeks + 1):
        starts_at = same_local_time_weeks_later(walk.starts_at, week)
        duplicate = Walk.objects.filter(
            borough=walk.borough_id,
            starts_at=starts_at,
            meeting_point=walk.meeting_point,
            kind=walk.kind,
        ).exclude(status=Walk.Status.CANCELLED)
        if duplicate.exists():
            continue
        copy = create_walk(
            walk=Walk(
                borough=walk.borough,
                title=walk.title,
                meeting_point=walk.meeting_point,
                meeting_lat=walk.meeting_lat,
                meeting_lng=walk.meeting_lng,
                route_notes=walk.route_notes,
                starts_at=starts_at,
                ends_at=starts_at + walk.duration,
                capacity=walk.capacity,
                kind=walk.kind,
            )
        )
        for assignment in roster:
            try:
                with transaction.atomic():
                    roster_officer(walk=copy, officer=assignment.officer, role=assignment.role)
            except ValidationError:
                pass  # she is busy or has left: the copy shows as understaffed instead
        copies.append(copy)
    return copies


def request_walk(
    *,
    borough: Borough,
    full_name: str,
    email: str,
    route_description: str,
    preferred_times: str,
    phone: str = "",
    accessibility_needs: str = "",
    discreet_emails: bool = False,
    reminder_channel: str = Channel.EMAIL,
) -> WalkRequest:
    """She asks for a walk on her own route; an inspector of the borough's BCU takes it up.
    The reminders of the walk made from it go by `reminder_channel`: by text, to `phone`,
    which must then be a UK mobile (uk_mobile), as on a booking."""
    phone = phone.strip()
    if reminder_channel == Channel.SMS:
        phone = uk_mobile(phone)
    with transaction.atomic():
        walk_request = WalkRequest.objects.create(
            borough=borough,
            full_name=full_name.strip(),
            email=email.strip(),
            phone=phone,
            route_description=route_description.strip(),
            preferred_times=preferred_times.strip(),
            accessibility_needs=accessibility_needs.strip(),
            discreet_emails=discreet_emails,
            reminder_channel=reminder_channel,
        )
        queue_notification(kind=Notification.Kind.REQUEST_RECEIVED, request=walk_request)
    return walk_request


def resend_manage_links(*, email: str) -> int:
    """The "lost your link?" form: email her the manage link of each active booking she holds
    on an upcoming walk (at most once per RESEND_SPACING each). Returns how many bookings
    matched; the page must not tell, nor its time: whatever the address, this is one outbox
    statement and one publish (a sweep, not one task per row)."""
    now = timezone.now()
    quote, adapt = connection.ops.quote_name, connection.ops.adapt_datetimefield_value
    booking, walk = Booking._meta, Walk._meta
    params = [Notification.Kind.MANAGE_LINK, Notification.Channel.EMAIL, adapt(now), adapt(now)]
    params += Booking.ACTIVE_STATUSES
    params += [email.strip(), adapt(now)]
    # Identifiers from the models' _meta, every value a parameter.
    sql = (
        f"INSERT INTO {quote(Notification._meta.db_table)} (booking_id, request_id, kind, key, "  # noqa: S608
        "channel, due_at, claimed_at, sent_at, failed_at, skipped_at, attempts, last_error, "
        "created_at) SELECT b.id, NULL, %s, '', %s, %s, NULL, NULL, NULL, NULL, 0, '', %s "
        f"FROM {quote(booking.db_table)} b JOIN {quote(walk.db_table)} w ON w.id = b.walk_id "
        "WHERE b.status IN (%s, %s) AND UPPER(b.email) = UPPER(%s) AND w.starts_at > %s "
        "AND b.anonymised_at IS NULL "
    )
    sql += f"{_rearm_on_conflict('booking_id', RESEND_SPACING, now, params)} RETURNING id"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        matched = len(cursor.fetchall())
        publish_sweep()
    return matched


# --- Route requests: an inspector schedules or declines them (issue 5) ---


def _lock_open_request(walk_request: WalkRequest) -> WalkRequest:
    walk_request = (
        WalkRequest.objects.select_for_update().select_related("borough").get(pk=walk_request.pk)
    )
    if walk_request.status != WalkRequest.Status.OPEN:
        raise ValidationError(
            f"This request has already been {walk_request.get_status_display().lower()}.",
            code="request_not_open",
        )
    return walk_request


def schedule_request(
    *,
    request: WalkRequest,
    starts_at: datetime,
    ends_at: datetime,
    meeting_point: str,
    officers,
    by=None,
) -> Walk:
    """Turn her request into a walk on her route: a `route` walk in her borough for one, the
    officers rostered (refused if one is busy, inactive or of another BCU), and her place
    booked and confirmed. She is told (REQUEST_SCHEDULED) and reminded like any booking."""
    meeting_point = meeting_point.strip()
    if not meeting_point:
        raise ValidationError("Give a meeting point.", code="meeting_point_required")
    if ends_at <= starts_at:
        raise ValidationError("The walk must end after it starts.", code="ends_before_start")
    if starts_at <= timezone.now():
        raise ValidationError("The walk must start in the future.", code="in_the_past")
    if not officers:
        raise ValidationError("Choose the officers who will walk with her.", code="no_officers")
    with transaction.atomic():
        walk_request = _lock_open_request(request)
        borough = walk_request.borough
        walk = create_walk(
            walk=Walk(
                borough=borough,
                kind=Walk.Kind.ROUTE,
                title=f"Walk on her route in {borough.name}",
                meeting_point=meeting_point,
                route_notes=walk_request.route_description,
                starts_at=starts_at,
                ends_at=ends_at,
                capacity=1,
            )
        )
        for n, officer in enumerate(officers):
            role = RosterAssignment.Role.LEAD if n == 0 else RosterAssignment.Role.OFFICER
            roster_officer(walk=walk, officer=officer, role=role)
        booking = Booking.objects.create(
            walk=walk,
            full_name=walk_request.full_name,
            email=walk_request.email,
            phone=walk_request.phone,
            accessibility_needs=walk_request.accessibility_needs,
            discreet_emails=walk_request.discreet_emails,
            reminder_channel=walk_request.reminder_channel,
            status=Booking.Status.CONFIRMED,
        )
        walk_request.status = WalkRequest.Status.SCHEDULED
        walk_request.walk = walk
        walk_request.decided_at = timezone.now()
        walk_request.save(update_fields=["status", "walk", "decided_at"])
        queue_notification(kind=Notification.Kind.REQUEST_SCHEDULED, request=walk_request)
        plan_reminders(booking=booking)
    logger.info("Route request %s scheduled as walk %s by %s", walk_request, walk.code, by)
    return walk


def decline_request(*, request: WalkRequest, reason: str) -> WalkRequest:
    """Say no to a route request, with a reason she is told."""
    reason = reason.strip()
    if not reason:
        raise ValidationError("Give a reason: she is told it.", code="reason_required")
    with transaction.atomic():
        walk_request = _lock_open_request(request)
        walk_request.status = WalkRequest.Status.DECLINED
        walk_request.decline_reason = reason
        walk_request.decided_at = timezone.now()
        walk_request.save(update_fields=["status", "decline_reason", "decided_at"])
        queue_notification(kind=Notification.Kind.REQUEST_DECLINED, request=walk_request)
    return walk_request


# The reason the walk made from her request is called off when she withdraws it: what her
# cancellation email and the walk's record say.
WITHDRAWN_REASON = "You withdrew your request for this walk."


def withdrawal_refused(walk_request: WalkRequest, walk: Walk | None) -> ValidationError | None:
    """Why she may not withdraw this route request now, or None if she may: a declined request
    cannot be withdrawn, nor one whose walk (`walk`, the one made from it, read by the caller)
    has started or taken place. withdraw_request asks this under the locks; her request's page
    asks it to offer the button."""
    if walk_request.status == WalkRequest.Status.DECLINED:
        return ValidationError("This request has been declined.", code="request_declined")
    if walk is not None and (walk.status == Walk.Status.COMPLETED or walk.has_started()):
        return ValidationError(
            "This walk has already started, so the request cannot be withdrawn.",
            code="walk_started",
        )
    return None


def withdraw_request(*, request: WalkRequest) -> WalkRequest:
    """She withdraws her route request, from her private link. Waiting, it is simply withdrawn
    (no inspector need read it); scheduled, the walk made from it is called off through
    cancel_walk (her place cancelled, her reminders dropped, the officers freed, and she is
    told), unless the police called it off already. Under the request's lock, so two clicks or
    an inspector deciding at the same moment cannot both win. Withdrawing twice changes
    nothing; otherwise withdrawal_refused says when it cannot be done."""
    with transaction.atomic():
        walk_request = WalkRequest.objects.select_for_update().get(pk=request.pk)
        status = walk_request.status
        if status == WalkRequest.Status.WITHDRAWN:
            return walk_request
        walk = None
        if status == WalkRequest.Status.SCHEDULED and walk_request.walk_id is not None:
            walk = lock_walk(walk_request.walk)  # read afresh: the police may have called it off
        refusal = withdrawal_refused(walk_request, walk)
        if refusal is not None:
            raise refusal
        if walk is not None and walk.status == Walk.Status.SCHEDULED:
            cancel_walk(walk=walk, reason=WITHDRAWN_REASON)
        walk_request.status = WalkRequest.Status.WITHDRAWN
        walk_request.save(update_fields=["status"])
    logger.info("Route request %s withdrawn", walk_request)
    return walk_request
