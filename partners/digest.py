"""Partners' part of the inspectors' daily digest (bookings/digest.py): referrals overdue
(no answer after PARTNER_REMINDER_DAYS, or a promised fix past its day) and referrals a
partner handed back as not theirs, while the concern waits for the inspector."""

from datetime import datetime

from bookings.digest import LISTED
from bookings.links import site_url

from .models import Referral

TEMPLATE = "patrols/includes/digest_partners"


def returned(bcu):
    """Referrals handed back as not the partner's, on concerns still open (nobody has acted
    on them since)."""
    return Referral.objects.in_bcu(bcu).filter(
        status=Referral.Status.RETURNED, concern__status="open"
    )


def digest_section(bcu, now: datetime) -> dict | None:
    overdue = Referral.objects.in_bcu(bcu).overdue(now).select_related("partner", "concern")
    back = returned(bcu).select_related("partner", "concern")
    overdue_count, returned_count = overdue.count(), back.count()
    if not (overdue_count or returned_count):
        return None
    words = []
    if overdue_count:
        words.append(f"{overdue_count} referral{'s' if overdue_count != 1 else ''} overdue")
    if returned_count:
        words.append(f"{returned_count} returned by partners")
    return {
        "template": TEMPLATE,
        "count": overdue_count + returned_count,
        "subject": ", ".join(words),
        "overdue": list(overdue.order_by("referred_at", "pk")[:LISTED]),
        "overdue_count": overdue_count,
        "returned": list(back.order_by("answered_at", "pk")[:LISTED]),
        "returned_count": returned_count,
        "url": site_url("admin:partners_referral_changelist"),
    }
