"""Partners' demo rows, added when `seed_demo` runs (concerns.signals.demo_seeded): a street
lighting team and a parks team for each borough, the defaults for the concerns they fix, and
one referral waiting for an answer. Idempotent, like the rest of the demo. No email is sent:
the demo's referral is a row to look at in the admin."""

from datetime import timedelta

from django.utils import timezone

from concerns.models import Concern, ConcernAction, ConcernStatus
from patrols.models import Borough

from .models import DefaultPartner, Partner, Referral

TEAMS = [
    ("street lighting", "council_lighting", "lighting", ["poorly_lit", "no_cctv"]),
    ("parks and open spaces", "parks", "parks", ["isolated", "restricted_visibility"]),
]


def seed_demo_partners(sender=None, *, bcus, **kwargs) -> None:
    for borough in Borough.objects.filter(bcu__in=bcus).select_related("bcu"):
        for team, kind, mailbox, categories in TEAMS:
            partner, _ = Partner.objects.get_or_create(
                bcu=borough.bcu,
                name=f"{borough.name} {team}",
                defaults={"kind": kind, "email": f"{mailbox}@{borough.slug}.council.example"},
            )
            partner.boroughs.add(borough)
            for category in categories:
                DefaultPartner.objects.get_or_create(
                    borough=borough, category=category, defaults={"partner": partner}
                )
    if Referral.objects.exists():
        return
    # The latest open concern, to its default partner (or its borough's first team).
    concern = (
        Concern.objects.filter(bcu__in=bcus, status=ConcernStatus.OPEN)
        .order_by("-logged_at", "pk")
        .first()
    )
    if concern is None:
        return
    default = DefaultPartner.objects.filter(borough=concern.borough, category=concern.category)
    partner = default.first().partner if default.exists() else concern.borough.partners.first()
    referred_at = timezone.now() - timedelta(days=3)
    referral = Referral.objects.create(concern=concern, partner=partner, referred_at=referred_at)
    ConcernAction.objects.create(
        concern=concern,
        note=f"Referred to {partner.name} (reference {referral.reference}).",
        status=ConcernStatus.REFERRED,
        partner=partner.kind,
        at=referred_at,
    )
    concern.status, concern.partner = ConcernStatus.REFERRED, partner.kind
    concern.save(update_fields=["status", "partner"])
