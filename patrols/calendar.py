"""An officer's calendar feed: the secret in its address, made, checked and reset here.

A phone calendar subscribes to an address and fetches it on its own, with no login, so the
address itself is the key: /staff/calendar/<token>.ics. The token is an HMAC of the officer's
id and a random nonce, keyed with the server's secret (as her links are, bookings/links.py):
256 bits no one can guess, made again whenever her page shows it. The database keeps the nonce
and a SHA-256 hash of the token (Officer.calendar_nonce, calendar_token_hash), so a copy of the
database opens no feed. Resetting draws a new nonce: the old address then finds no one.
"""

import hashlib
import secrets

from django.db import transaction
from django.utils.crypto import salted_hmac

from .models import Officer

SALT = "walkandtalk.patrols.calendar"
# Longer than any token we make (64 hex digits): anything longer is not worth hashing.
TOKEN_MAX = 128


def _token(officer_id: int, nonce: str) -> str:
    return salted_hmac(SALT, f"{officer_id}:{nonce}", algorithm="sha256").hexdigest()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_token(officer: Officer) -> str:
    """The secret in her feed's address; "" until she has asked for one."""
    return _token(officer.pk, officer.calendar_nonce) if officer.calendar_nonce else ""


@transaction.atomic
def reset_calendar_token(*, officer: Officer) -> str:
    """Give her a new feed address (her first, or one to replace a link she has shared or
    lost): the one before it stops working at once. Returns the new token."""
    officer.calendar_nonce = secrets.token_hex(16)
    token = _token(officer.pk, officer.calendar_nonce)
    officer.calendar_token_hash = _hash(token)
    officer.save(update_fields=["calendar_nonce", "calendar_token_hash"])
    return token


def officer_for_calendar_token(token: str) -> Officer | None:
    """The active officer whose feed this token opens, or None (a typo, an old link after a
    reset, an officer who has left)."""
    if not token or len(token) > TOKEN_MAX:
        return None
    return (
        Officer.objects.filter(calendar_token_hash=_hash(token), is_active=True)
        .select_related("bcu")
        .first()
    )
