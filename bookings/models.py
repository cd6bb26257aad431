"""The public side: bookings, route requests and the outbox of messages to the women."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac

from patrols.models import BCUScopedQuerySet, Borough, Walk

# No 0/O, 1/I/L, 2/Z, 5/S: a reference read out over the phone is heard right.
REFERENCE_ALPHABET = "346789ABCDEFGHJKMNPQRTUVWXY"
MANAGE_LINK_DAYS_AFTER_WALK = 7


def new_reference() -> str:
    """WT-7K3P-9QXM: short, readable, about 38 bits."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"WT-{chars[:4]}-{chars[4:]}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class BookingQuerySet(BCUScopedQuerySet):
    def active(self):
        """Holding a place or waiting for one."""
        return self.filter(status__in=Booking.ACTIVE_STATUSES)

    def confirmed(self):
        return self.filter(status__in=Booking.PLACE_STATUSES)

    def waitlisted(self):
        return self.filter(status=Booking.Status.WAITLISTED).order_by("created_at", "pk")

    def for_email(self, email: str):
        return self.filter(email__iexact=email.strip())

    def by_manage_token(self, token: str):
        """The booking a manage link opens, while the link is valid (a week after the walk)."""
        cutoff = timezone.now() - timedelta(days=MANAGE_LINK_DAYS_AFTER_WALK)
        return self.filter(
            manage_token_hash=hash_token(token), walk__ends_at__gt=cutoff, anonymised_at=None
        )


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
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CONFIRMED)
    manage_token_hash = models.CharField(max_length=64, unique=True, editable=False)
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
            self.manage_token_hash = hash_token(self.manage_token())
        super().save(*args, **kwargs)

    def manage_token(self) -> str:
        """The secret in her manage and survey links: 256 bits, derived from the reference with
        the server's key so every email can carry it; the database keeps only its hash."""
        return salted_hmac(
            "walkandtalk.bookings.manage", self.reference, algorithm="sha256"
        ).hexdigest()

    def manage_url(self) -> str:
        return f"{settings.SITE_URL}/bookings/manage/{self.manage_token()}/"

    def feedback_url(self) -> str:
        """The survey after the walk: the same secret, on the survey's own page."""
        return f"{settings.SITE_URL}/feedback/{self.manage_token()}/"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class WalkRequest(models.Model):
    """ "Walk my route with me": a one-to-one walk she asks for."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for an inspector"
        SCHEDULED = "scheduled", "Walk scheduled"
        DECLINED = "declined", "Declined"

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
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    walk = models.OneToOneField(
        Walk, on_delete=models.SET_NULL, null=True, blank=True, related_name="request"
    )
    decline_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    objects = BCUScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return self.reference


class NotificationQuerySet(BCUScopedQuerySet):
    def due(self, now):
        return self.filter(sent_at=None, failed_at=None, skipped_at=None, due_at__lte=now)


class Notification(models.Model):
    """The outbox: one row per message per recipient, written with the change that causes it."""

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

    # A message belongs to the BCU of her booking's walk, or of her route request's borough.
    bcu_path = ("booking__walk__bcu", "request__borough__bcu")

    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    request = models.ForeignKey(
        WalkRequest, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    # Tells apart messages of one kind to one recipient, such as one per concern action.
    key = models.CharField(max_length=40, blank=True, default="")
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
                condition=Q(booking__isnull=False, request__isnull=True)
                | Q(booking__isnull=True, request__isnull=False),
                name="notification_has_one_recipient",
            ),
            models.UniqueConstraint(
                fields=["booking", "kind", "key"],
                condition=Q(booking__isnull=False),
                name="one_notification_per_booking_kind",
            ),
            models.UniqueConstraint(
                fields=["request", "kind", "key"],
                condition=Q(request__isnull=False),
                name="one_notification_per_request_kind",
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
        return f"{self.get_kind_display()} to {self.booking or self.request}"
