"""Partners' messages in the outbox, registered with bookings (bookings/messages.py) from
PartnersConfig.ready: the referral, with the partner's private link, and the one reminder
when no answer has come. Each is a row addressed through the concern's BCU, keyed by the
referral (so one of each per referral), and written when it is sent, to the partner's
address as it is then. Nothing of the women who raised the concern is in it: a concern
never holds who said it."""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.utils import timezone

from bookings import digest, messages
from bookings.models import Notification
from walkandtalk.mail import build_email

from .digest import digest_section
from .models import CONCERN_SETTLED, Referral

Kind = Notification.Kind
PREFIX = "referral:"
# Places the map link's position is rounded to: as the commanders' CSV rounds positions
# (reports.queries.CSV_COORDINATE_PLACES, a higher layer; a test holds the two together).
MAP_PLACES = 3


def referral_key(referral) -> str:
    """The outbox key of a referral's messages."""
    return f"{PREFIX}{referral.pk}"


def referral_for(notification: Notification):
    """The referral a row is about, or None if it is gone."""
    prefix, _, pk = notification.key.partition(":")
    if f"{prefix}:" != PREFIX or not pk.isdigit():
        return None
    return Referral.objects.select_related("partner", "concern__borough").filter(pk=int(pk)).first()


def rounded(value: Decimal) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-MAP_PLACES), rounding=ROUND_HALF_UP)


def map_url(concern) -> str:
    """OpenStreetMap at the concern's position, rounded; "" when none was recorded."""
    if concern.lat is None or concern.lng is None:
        return ""
    lat, lng = rounded(concern.lat), rounded(concern.lng)
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lng}#map=17/{lat}/{lng}"


def referral_context(referral, now: datetime) -> dict:
    concern = referral.concern
    return {
        "referral": referral,
        "partner": referral.partner,
        "category": concern.get_category_display(),
        "description": concern.description,
        "place": concern.location_text,
        "borough": concern.borough.name,
        "map_url": map_url(concern),
        "times_unsafe": concern.get_times_unsafe_display(),
        "reference": referral.reference,
        "link": referral.link_url(),
        "expires": timezone.localtime(referral.expires_at()),
        "reminder": False,
    }


def build_referral(notification: Notification, now: datetime, *, reminder: bool = False):
    referral = referral_for(notification)
    context = referral_context(referral, now) | {"reminder": reminder}
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "walkandtalk"
    return build_email(
        template="emails/partner_referral",
        context=context,
        to=[referral.partner.email],
        headers={"Message-ID": make_msgid(domain=domain), "Auto-Submitted": "auto-generated"},
    )


def build_reminder(notification: Notification, now: datetime):
    return build_referral(notification, now, reminder=True)


def referral_stale(notification: Notification, now: datetime) -> str:
    referral = referral_for(notification)
    if referral is None:
        return "Not sent: the referral has been deleted."
    if referral.concern.status in CONCERN_SETTLED:
        return "Not sent: the concern is closed."
    if not referral.partner.is_active:
        return "Not sent: the partner no longer takes referrals."
    if referral.expires_at() <= now:
        return "Not sent: the partner's link has expired."
    return ""


def reminder_stale(notification: Notification, now: datetime) -> str:
    reason = referral_stale(notification, now)
    if reason:
        return reason
    if referral_for(notification).status != Referral.Status.WAITING:
        return "Not sent: the partner has answered."
    return ""


def register() -> None:
    messages.register(Kind.PARTNER_REFERRAL, build=build_referral, stale=referral_stale)
    messages.register(Kind.PARTNER_REMINDER, build=build_reminder, stale=reminder_stale)
    digest.register_section(digest_section)
