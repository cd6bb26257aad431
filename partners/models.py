"""The partners concerns are referred to (a council's lighting team, a park's managers), and
each referral: the private link the partner answers through, and what they answered."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from bookings import links
from bookings.models import new_reference
from concerns.models import Concern
from concerns.models import Partner as PartnerKind
from patrols.models import BCU, BCUScopedQuerySet, Borough


class Partner(models.Model):
    """A team outside the police that fixes what makes a place unsafe, for one or more of a
    BCU's boroughs. Its email address is the team's work address, not a person's."""

    bcu_path = "bcu"

    bcu = models.ForeignKey(
        BCU, on_delete=models.PROTECT, related_name="partners", verbose_name="BCU"
    )
    name = models.CharField("team name", max_length=120)
    kind = models.CharField(
        "kind of partner",
        max_length=20,
        choices=PartnerKind.choices,
        help_text="What the team does; shown with the actions its answers become.",
    )
    email = models.EmailField(
        "email address",
        max_length=254,
        help_text="The team's shared address (not a person's), where referrals are sent.",
    )
    boroughs = models.ManyToManyField(
        Borough, related_name="partners", help_text="The boroughs it serves, in its BCU."
    )
    is_active = models.BooleanField(
        "takes referrals",
        default=True,
        help_text="Untick when the team no longer takes referrals; its history stays.",
    )

    objects = BCUScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["bcu", "name"], name="one_partner_name_per_bcu"),
        ]

    def __str__(self) -> str:
        return self.name


class DefaultPartner(models.Model):
    """The partner a concern of this category in this borough is referred to, unless the
    inspector picks another."""

    bcu_path = "borough__bcu"

    borough = models.ForeignKey(Borough, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=24, choices=Concern.Category.choices)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="defaults")

    objects = BCUScopedQuerySet.as_manager()

    class Meta:
        ordering = ["borough__name", "category"]
        verbose_name = "default partner"
        constraints = [
            models.UniqueConstraint(
                fields=["borough", "category"], name="one_default_partner_per_borough_category"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} in {self.borough}: {self.partner}"


class ReferralStatus(models.TextChoices):
    WAITING = "waiting", "Waiting for an answer"
    WILL_FIX = "will_fix", "Will fix"
    FIXED = "fixed", "Fixed"
    RETURNED = "returned", "Returned: not theirs"


# A partner may still answer these; the others are settled.
ANSWERABLE = (ReferralStatus.WAITING, ReferralStatus.WILL_FIX)
# A concern in one of these no longer takes answers: its link shows nothing.
CONCERN_SETTLED = (Concern.Status.CLOSED, Concern.Status.NO_ACTION)


def reminder_delay() -> timedelta:
    return timedelta(days=settings.PARTNER_REMINDER_DAYS)


class ReferralQuerySet(BCUScopedQuerySet):
    def by_token(self, token: str, now: datetime | None = None):
        """The referral a partner's link opens (bookings/links.py, purpose PARTNER): until it
        expires, and while its concern is not closed. Anything else matches nothing."""
        return self.filter(links.opens(token, links.PARTNER, now)).exclude(
            concern__status__in=CONCERN_SETTLED
        )

    def overdue(self, now: datetime | None = None):
        """Nothing heard PARTNER_REMINDER_DAYS after it was sent, or a promised fix whose day
        has passed: the inspector should chase it."""
        now = now or timezone.now()
        return self.filter(overdue_q(now))

    def with_overdue(self, now: datetime | None = None):
        """Each referral with `is_overdue`, the condition of overdue() in the same query."""
        now = now or timezone.now()
        return self.annotate(
            is_overdue=models.ExpressionWrapper(overdue_q(now), output_field=models.BooleanField())
        )


def overdue_q(now: datetime) -> Q:
    return Q(status=ReferralStatus.WAITING, referred_at__lte=now - reminder_delay()) | Q(
        status=ReferralStatus.WILL_FIX, fix_by__lt=timezone.localdate(now)
    )


class Referral(models.Model):
    """One concern sent to one partner, who answers through a private link (no account):
    "we will fix it by", "fixed", or "not ours". Each answer is also an action on the
    concern (partners/services.py)."""

    Status = ReferralStatus
    bcu_path = "concern__bcu"

    reference = models.CharField(max_length=12, unique=True, default=new_reference, editable=False)
    concern = models.ForeignKey(Concern, on_delete=models.CASCADE, related_name="referrals")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="referrals")
    status = models.CharField(
        max_length=12, choices=ReferralStatus.choices, default=ReferralStatus.WAITING
    )
    # The hash of the secret in the partner's link (bookings/links.py).
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    referred_at = models.DateTimeField(default=timezone.now, editable=False)
    answered_at = models.DateTimeField(null=True, blank=True)
    fix_by = models.DateField("will fix by", null=True, blank=True)
    fixed_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField("partner's note", blank=True, max_length=2000)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-referred_at", "pk"]
        constraints = [
            # One referral at a time per concern: the partner answers, or hands it back.
            models.UniqueConstraint(
                fields=["concern"],
                condition=Q(status__in=["waiting", "will_fix"]),
                name="one_open_referral_per_concern",
            ),
        ]
        indexes = [models.Index(fields=["status", "referred_at"])]

    def __str__(self) -> str:
        return f"{self.reference} to {self.partner}"

    def save(self, *args, **kwargs):
        if not self.token_hash:
            self.token_hash = links.partner_token_hash(self.reference)
        super().save(*args, **kwargs)

    def link_url(self) -> str:
        """The partner's private link to this referral."""
        return links.partner_url(self)

    def expires_at(self) -> datetime:
        return links.partner_link_expires(self.referred_at)

    @property
    def is_answerable(self) -> bool:
        return self.status in ANSWERABLE
