"""Partners' demo rows, added when `seed_demo` runs (concerns.signals.demo_seeded): a street
lighting team and a parks team for each borough, the defaults for the concerns they fix, and
referrals in each BCU (waiting, overdue, fixed). Idempotent, like the rest of the demo."""

from datetime import timedelta

from django.utils import timezone

from concerns.models import Concern, ConcernAction, ConcernStatus
from patrols.models import Borough

from .models import DefaultPartner, Partner, Referral
from .services import FIXED, answer_referral, queue_referral_emails

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
    # In each BCU, so that every inspector has some: its latest open concern referred three days
    # ago (the email goes out, so the partner's link can be opened from the demo's mail page),
    # one referred three weeks ago and never answered (overdue, its reminder due), and one the
    # partner has fixed through its link (the report's times to answer and to fix).
    now = timezone.now()
    for bcu in bcus:
        open_concerns = Concern.objects.filter(bcu=bcu, status=ConcernStatus.OPEN).order_by(
            "-logged_at", "pk"
        )
        for concern, days_ago, fixed in zip(
            open_concerns[:3], [3, 21, 9], [False, False, True], strict=False
        ):
            referral = _refer(concern, now - timedelta(days=days_ago))
            if fixed:
                answer_referral(
                    referral=referral,
                    answer=FIXED,
                    note="The lamp is repaired.",
                    now=now - timedelta(days=days_ago - 4),
                )


def _refer(concern: Concern, referred_at) -> Referral:
    """A referral as `refer_concern` makes one (which needs a signed-in inspector, and the demo
    seeds its logins afterwards): the referral, the "referred" action, and its two emails."""
    default = DefaultPartner.objects.filter(borough=concern.borough, category=concern.category)
    partner = default.first().partner if default.exists() else concern.borough.partners.first()
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
    queue_referral_emails(referral, referred_at=referred_at)
    return referral
