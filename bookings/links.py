"""Her links: the secret token each one carries, and every address an email gives her.

One token per purpose. The manage link (see or cancel her booking), the survey link (after
the walk) and the request link (follow or withdraw her route request) carry different tokens,
so a link she forwarded, or one read over her shoulder, opens only its own page. Each token is
an HMAC of the booking's (or request's) reference keyed with the server's secret and salted
with its purpose: 256 bits no one can guess, made again whenever an email is written, and kept
in the database only as a SHA-256 hash (Booking.manage_token_hash, survey_token_hash;
WalkRequest.token_hash), so a copy of the database opens nothing.

A link works while her data is held and for a set time after the walk (LINK_DAYS_AFTER_WALK;
a request not yet made a walk has no walk to wait for); `opens` is the one check, used by the
manage page, the survey and the request page alike.

A partner's link (a council team answering a referral, partners/) follows the same rules: a
token of its own purpose made from the referral's reference, kept only as a hash
(Referral.token_hash), working PARTNER_LINK_DAYS after the referral was sent.

Addresses are built with reverse() on SITE_URL, never written out by hand.

This module imports no model, so bookings.models can use it.
"""

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

MANAGE = "manage"
SURVEY = "survey"
REQUEST = "request"
PARTNER = "partner"

# The HMAC salt of each purpose. The manage salt is the one every link sent so far was made
# with: those links keep working.
SALTS = {
    MANAGE: "walkandtalk.bookings.manage",
    SURVEY: "walkandtalk.bookings.survey",
    REQUEST: "walkandtalk.bookings.request",
    PARTNER: "walkandtalk.partners.referral",
}
# The field of a booking holding each of its purposes' hash.
HASH_FIELDS = {MANAGE: "manage_token_hash", SURVEY: "survey_token_hash"}
# The field of a route request (and of a partner's referral) holding its link's hash.
REQUEST_HASH_FIELD = "token_hash"
# How long after the walk each link opens its page.
LINK_DAYS_AFTER_WALK = {MANAGE: 7, SURVEY: 30, REQUEST: 7}
# Longer than any token we make (64 hex digits): anything longer is not worth hashing.
TOKEN_MAX = 128


def make_token(reference: str, purpose: str) -> str:
    """The secret in her `purpose` link for the booking with this reference."""
    return salted_hmac(SALTS[purpose], reference, algorithm="sha256").hexdigest()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_hashes(reference: str) -> dict[str, str]:
    """The stored hash of every purpose's token of a booking: {field name: hash}."""
    return {
        field: hash_token(make_token(reference, purpose)) for purpose, field in HASH_FIELDS.items()
    }


def link_expires(purpose: str, walk_ends_at: datetime) -> datetime:
    return walk_ends_at + timedelta(days=LINK_DAYS_AFTER_WALK[purpose])


def request_token_hash(reference: str) -> str:
    """The stored hash of a route request's link token."""
    return hash_token(make_token(reference, REQUEST))


def partner_token_hash(reference: str) -> str:
    """The stored hash of a partner's referral link token."""
    return hash_token(make_token(reference, PARTNER))


def partner_link_expires(referred_at: datetime) -> datetime:
    return referred_at + timedelta(days=settings.PARTNER_LINK_DAYS)


def opens(token: str, purpose: str, now: datetime | None = None) -> Q:
    """The filter on bookings (on route requests for REQUEST, referrals for PARTNER) for the
    one row (if any) that this token opens for this purpose: its hash matches this purpose's,
    the link has not expired and her data is held. A token made for another purpose, a typo
    or an old link matches nothing."""
    if not token or len(token) > TOKEN_MAX:
        return Q(pk__in=[])
    if purpose == PARTNER:
        # On referrals: sent less than PARTNER_LINK_DAYS ago.
        since = (now or timezone.now()) - timedelta(days=settings.PARTNER_LINK_DAYS)
        return Q(token_hash=hash_token(token), referred_at__gt=since)
    cutoff = (now or timezone.now()) - timedelta(days=LINK_DAYS_AFTER_WALK[purpose])
    if purpose == REQUEST:
        # Waiting, declined or withdrawn: no walk, open while her data is held.
        return Q(
            Q(walk=None) | Q(walk__ends_at__gt=cutoff),
            **{REQUEST_HASH_FIELD: hash_token(token)},
            anonymised_at=None,
        )
    return Q(
        **{HASH_FIELDS[purpose]: hash_token(token)},
        walk__ends_at__gt=cutoff,
        anonymised_at=None,
    )


def site_url(viewname: str, *args) -> str:
    """The full address of one of the site's pages, for an email."""
    return settings.SITE_URL + reverse(viewname, args=args)


def manage_url(booking) -> str:
    return site_url("website:manage", make_token(booking.reference, MANAGE))


def survey_url(booking) -> str:
    return site_url("website:feedback", make_token(booking.reference, SURVEY))


def request_url(walk_request) -> str:
    return site_url("website:request_status", make_token(walk_request.reference, REQUEST))


def walk_url(walk) -> str:
    return site_url("website:walk_detail", walk.code)


def partner_url(referral) -> str:
    return site_url("website:partner_referral", make_token(referral.reference, PARTNER))
