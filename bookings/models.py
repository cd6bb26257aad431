"""The public side: bookings, route requests and the outbox of messages to the women."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Case, Count, OuterRef, Q, Subquery, When
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from patrols.models import BCU, BCUScopedQuerySet, Borough, Walk

from . import links
from .links import hash_token  # noqa: F401 - where callers have always found it

# No 0/O, 1/I/L, 2/Z, 5/S: a reference read out over the phone is heard right.
REFERENCE_ALPHABET = "346789ABCDEFGHJKMNPQRTUVWXY"
MANAGE_LINK_DAYS_AFTER_WALK = links.LINK_DAYS_AFTER_WALK[links.MANAGE]


def new_reference() -> str:
    """WT-7K3P-9QXM: short, readable, about 38 bits."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"WT-{chars[:4]}-{chars[4:]}"


class BookingQuerySet(BCUScopedQuerySet):
    def active(self):
        """Holding a place or waiting for one."""
        return self.filter(status__in=Booking.ACTIVE_STATUSES)

    def confirmed(self):
        return self.filter(status__in=Booking.PLACE_STATUSES)

    def waitlisted(self):
        return self.filter(status=Booking.Status.WAITLISTED).order_by("created_at", "pk")

    def with_waitlist_position(self):
        """Each booking with `waitlist_position`: 1 for the first on her walk's waiting list
        (the order waitlisted() gives places in), None when she is not on it. One subquery in
        the same statement, counting the waiting bookings on her walk ahead of her: no other
        woman's row is read into Python."""
        ahead = (
            Booking.objects.filter(walk=OuterRef("walk"), status=Booking.Status.WAITLISTED)
            .filter(
                Q(created_at__lt=OuterRef("created_at"))
                | Q(created_at=OuterRef("created_at"), pk__lt=OuterRef("pk"))
            )
            .order_by()
            .values("walk")
            .annotate(n=Count("pk"))
            .values("n")
        )
        waiting = Q(status=Booking.Status.WAITLISTED)
        return self.annotate(
            waitlist_position=Case(
                When(waiting, then=Coalesce(Subquery(ahead), 0) + 1),
                default=None,
                output_field=models.IntegerField(),
            )
        )

    def for_email(self, email: str):
        return self.filter(email__iexact=email.strip())

    def by_manage_token(self, token: str):
        """The booking a manage link opens, while the link is valid (a week after the walk)."""
        return self.filter(links.opens(token, links.MANAGE))


class Channel(models.TextChoices):
    """How a message reaches her: an email, or a text to the UK mobile she gave."""

    EMAIL = "email", "Email"
    SMS = "sms", "Text message"


class Booking(models.Model):
    bcu_path = "walk__bcu"

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        WAITLISTED = "waitlisted", "On the waiting list"
        CANCELLED = "cancelled", "Cancelled"
        ATTENDED = "attended", "Attended"
        NO_SHOW = "no_show", "Did not come"

    ACTIVE_STATUSES = (Status.CONFIRMED, Status.WAITLISTED)
    PLACE_STATUSES = (Status.CONFIRMED, Status.ATTENDED)

    # Her personal data on a booking, and what each field holds once anonymised: who she is,
    # how to reach her, and what she wrote in her own words. The purge, her export and her
    # erasure read this (privacy/services.py); everything else on the row is kept for counts.
    PERSONAL_DATA = {
        "full_name": "",
        "email": "",
        "phone": "",
        "accessibility_needs": "",
        "topics": "",
    }

    reference = models.CharField(max_length=12, unique=True, default=new_reference, editable=False)
    walk = models.ForeignKey(Walk, on_delete=models.PROTECT, related_name="bookings")
    full_name = models.CharField(max_length=100)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=32, blank=True)
    accessibility_needs = models.TextField(blank=True, max_length=1000)
    topics = models.TextField(
        blank=True, max_length=1000, help_text="What she would like to talk about on the walk."
    )
    discreet_emails = models.BooleanField(default=False)
    # How her reminders and news of the walk reach her (Notification.CHANNEL_CHOSEN_KINDS): by
    # email, or by text to `phone` (a UK mobile, in E.164). Confirmations and links are emailed.
    reminder_channel = models.CharField(
        max_length=5, choices=Channel.choices, default=Channel.EMAIL
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CONFIRMED)
    # Hashes of the secrets in her links, one per purpose (bookings/links.py).
    manage_token_hash = models.CharField(max_length=64, unique=True, editable=False)
    survey_token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                "walk",
                condition=Q(status__in=["confirmed", "waitlisted"], anonymised_at=None),
                name="one_active_booking_per_walk_and_email",
            ),
        ]
        indexes = [models.Index(fields=["walk", "status", "created_at"])]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args, **kwargs):
        if not self.manage_token_hash:
            for field, value in links.token_hashes(self.reference).items():
                setattr(self, field, value)
        super().save(*args, **kwargs)

    def manage_token(self) -> str:
        """The secret in her manage link (bookings/links.py)."""
        return links.make_token(self.reference, links.MANAGE)

    def survey_token(self) -> str:
        """The secret in her survey link: another secret, which does not open the manage page."""
        return links.make_token(self.reference, links.SURVEY)

    def manage_url(self) -> str:
        return links.manage_url(self)

    def feedback_url(self) -> str:
        return links.survey_url(self)

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    def channel_for(self, kind: str) -> str:
        """How a message of this kind reaches her: her choice for reminders and news of the
        walk, email for everything else (her confirmation and her links)."""
        if kind in Notification.CHANNEL_CHOSEN_KINDS:
            return self.reminder_channel
        return Channel.EMAIL


class WalkRequestQuerySet(BCUScopedQuerySet):
    def by_token(self, token: str):
        """The request her link opens: while her data is held, and until a week after the walk
        made from it."""
        return self.filter(links.opens(token, links.REQUEST))


class WalkRequest(models.Model):
    """ "Walk my route with me": a one-to-one walk she asks for."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for an inspector"
        SCHEDULED = "scheduled", "Walk scheduled"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn by her"

    # Her personal data on a route request, and what each field holds once anonymised (read
    # by privacy/services.py). The reason for a decline is written to her, often quoting her.
    PERSONAL_DATA = {
        "full_name": "",
        "email": "",
        "phone": "",
        "route_description": "",
        "preferred_times": "",
        "accessibility_needs": "",
        "decline_reason": "",
    }

    bcu_path = "borough__bcu"

    reference = models.CharField(max_length=12, unique=True, default=new_reference, editable=False)
    borough = models.ForeignKey(Borough, on_delete=models.PROTECT, related_name="walk_requests")
    full_name = models.CharField(max_length=100)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=32, blank=True)
    route_description = models.TextField(max_length=2000)
    preferred_times = models.TextField(max_length=500)
    accessibility_needs = models.TextField(blank=True, max_length=1000)
    discreet_emails = models.BooleanField(default=False)
    # How the reminders of the walk made from her request reach her, as on a booking
    # (Booking.reminder_channel): by email, or by text to `phone` (a UK mobile, in E.164).
    reminder_channel = models.CharField(
        max_length=5, choices=Channel.choices, default=Channel.EMAIL
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    walk = models.OneToOneField(
        Walk, on_delete=models.SET_NULL, null=True, blank=True, related_name="request"
    )
    decline_reason = models.TextField(blank=True)
    # The hash of the secret in her request link (bookings/links.py).
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    objects = WalkRequestQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args, **kwargs):
        if not self.token_hash:
            self.token_hash = links.request_token_hash(self.reference)
        super().save(*args, **kwargs)

    def request_url(self) -> str:
        """Her private link to follow or withdraw this request."""
        return links.request_url(self)


class WalkMessage(models.Model):
    """Something an inspector tells everyone booked on a walk ("meet at the other gate"),
    kept with the walk. Written and sent by bookings.services.message_walk: one outbox row
    (Notification.Kind.WALK_MESSAGE, keyed by this message) per woman with an active booking."""

    bcu_path = "walk__bcu"

    walk = models.ForeignKey(Walk, on_delete=models.CASCADE, related_name="messages")
    text = models.TextField(max_length=1000)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = BCUScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Message about {self.walk}"

    @property
    def notification_key(self) -> str:
        """The key of its outbox rows: one row per booking per message, however often it is
        queued."""
        return f"{WALK_MESSAGE_KEY_PREFIX}{self.pk}"


WALK_MESSAGE_KEY_PREFIX = "walk-message-"


class NotificationQuerySet(BCUScopedQuerySet):
    def due(self, now):
        return self.filter(sent_at=None, failed_at=None, skipped_at=None, due_at__lte=now)


class Notification(models.Model):
    """The outbox: one row per message per recipient and channel, written with the change that
    causes it. Every email and text the site sends is one of these rows, sent by
    bookings/delivery.py. The
    recipient is a booking, a route request, or a BCU (its inspectors, as they are when the
    message is sent). What each kind says, and when it no longer applies, is in
    bookings/emails.py or registered by the app that owns the kind (bookings/messages.py)."""

    class Kind(models.TextChoices):
        BOOKING_CONFIRMED = "booking_confirmed", "Booking confirmed"
        WAITLISTED = "waitlisted", "On the waiting list"
        PROMOTED = "promoted", "Place from the waiting list"
        REMINDER_24H = "reminder_24h", "Reminder, 24 hours before"
        REMINDER_2H = "reminder_2h", "Reminder, 2 hours before"
        WALK_CHANGED = "walk_changed", "Walk changed"
        WALK_CANCELLED = "walk_cancelled", "Walk cancelled by the police"
        BOOKING_CANCELLED = "booking_cancelled", "Booking cancelled by her"
        MANAGE_LINK = "manage_link", "Manage link sent again"
        REQUEST_RECEIVED = "request_received", "Route request received"
        REQUEST_SCHEDULED = "request_scheduled", "Route walk scheduled"
        REQUEST_DECLINED = "request_declined", "Route request declined"
        FEEDBACK = "feedback", "Survey after the walk"
        YOU_SAID_WE_DID = "you_said_we_did", "You said, we did"
        DAILY_DIGEST = "daily_digest", "Inspectors' daily digest"
        WALK_MESSAGE = "walk_message", "Message about the walk"
        WELFARE_ALERT = "welfare_alert", "Walk not marked safe"
        PARTNER_REFERRAL = "partner_referral", "Concern referred to a partner"
        PARTNER_REMINDER = "partner_reminder", "Reminder to a partner"

    Channel = Channel
    # The messages that go the way she chose (Booking.reminder_channel); the rest are emailed.
    CHANNEL_CHOSEN_KINDS = frozenset(
        {
            Kind.REMINDER_24H,
            Kind.REMINDER_2H,
            Kind.WALK_CHANGED,
            Kind.WALK_CANCELLED,
            Kind.WALK_MESSAGE,
            Kind.PROMOTED,
        }
    )

    # A message belongs to the BCU of her booking's walk, of her route request's borough, or
    # (the inspectors' digest, a welfare alert to a walk's team, a referral to a partner) to the
    # BCU it is addressed to.
    bcu_path = ("booking__walk__bcu", "request__borough__bcu", "bcu")

    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    request = models.ForeignKey(
        WalkRequest, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    # Staff messages for this BCU: to its inspectors (the daily digest), to one member of a
    # walk's team, named by the key (a welfare alert, bookings/welfare.py), or to a partner it
    # referred a concern to (the kind's owner finds the partner by the row's key).
    bcu = models.ForeignKey(
        BCU, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    channel = models.CharField(max_length=5, choices=Channel.choices, default=Channel.EMAIL)
    # Tells apart messages of one kind to one recipient, such as one per concern action.
    key = models.CharField(max_length=40, blank=True, default="")
    # WALK_CHANGED only: the walk's time and meeting point as she last knew them (before the
    # first change she has not yet been told of), so the email can say "was 7pm, now 7:30pm".
    # Written by bookings.services.change_walk; {"starts_at", "ends_at"} in ISO 8601.
    changed_from = models.JSONField(null=True, blank=True, editable=False)
    due_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    # Not sent on purpose, with the reason in last_error: a reminder past its usefulness, or a
    # message about a booking or walk that has since been cancelled. Not a failure to retry.
    skipped_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(booking__isnull=False, request__isnull=True, bcu__isnull=True)
                | Q(booking__isnull=True, request__isnull=False, bcu__isnull=True)
                | Q(booking__isnull=True, request__isnull=True, bcu__isnull=False),
                name="notification_has_one_recipient",
            ),
            models.UniqueConstraint(
                fields=["booking", "kind", "key", "channel"],
                condition=Q(booking__isnull=False),
                name="one_notification_per_booking_kind",
            ),
            models.UniqueConstraint(
                fields=["request", "kind", "key", "channel"],
                condition=Q(request__isnull=False),
                name="one_notification_per_request_kind",
            ),
            models.UniqueConstraint(
                fields=["bcu", "kind", "key", "channel"],
                condition=Q(bcu__isnull=False),
                name="one_notification_per_bcu_kind",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(sent_at=None, failed_at=None, skipped_at=None),
                name="notification_due",
            )
        ]
        # The outbox is read-only in the admin: trying failed messages again is its one action.
        permissions = [("retry_notification", "Can try failed messages again")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.addressee}"

    @property
    def addressee(self) -> str:
        """Whom it goes to, by reference (never by address), for the admin."""
        if self.kind == self.Kind.WELFARE_ALERT:
            return f"{self.bcu}: a member of the walk's team"
        if self.kind in PARTNER_KINDS:
            return f"a partner of {self.bcu}"
        if self.bcu_id is not None:
            return f"{self.bcu} inspectors"
        return str(self.booking or self.request)


# Messages to a partner organisation (partners/messages.py), addressed through a BCU's row.
PARTNER_KINDS = (Notification.Kind.PARTNER_REFERRAL, Notification.Kind.PARTNER_REMINDER)
