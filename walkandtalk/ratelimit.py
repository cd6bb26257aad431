"""Rate limiting of public POST forms, per client IP, in the shared cache (Redis or the
database: see CACHES in settings), so every web process counts together.

A fixed window: at most N POSTs per window per form per client. If the cache itself fails the
request goes through: a booking must not fail because the cache is down.
"""

import logging
import time
from functools import wraps

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.shortcuts import render
from django.utils.crypto import salted_hmac

from walkandtalk.cache import RedisCache

# One answer to "which client is this?" for the rate limiter and django-axes: REMOTE_ADDR, or
# X-Forwarded-For as far as TRUSTED_PROXY_COUNT proxies are trusted.
from walkandtalk.security import client_ip

logger = logging.getLogger(__name__)


def parse_rate(rate: str) -> tuple[int, int]:
    """Parse a rate such as "20/600": 20 requests in 600 seconds."""
    count, seconds = rate.split("/")
    return int(count), int(seconds)


def _count(key: str, *, timeout: int) -> int:
    """Add one to the counter, created at 0 with its timeout when new. On Redis in one round
    trip: every public POST pays it (docs/benchmarks.md, Booking burst)."""
    cache = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(cache, RedisCache):
        return cache.count(key, timeout=timeout)
    cache.add(key, 0, timeout=timeout)
    return cache.incr(key)


def hit(request, scope: str) -> int | None:
    """Count one request; return seconds until the window ends when over the limit, else None."""
    limit, seconds = parse_rate(settings.PUBLIC_FORM_RATE_LIMIT)
    now = time.time()
    window = int(now // seconds)
    # The address is hashed: the cache holds no one's IP.
    who = salted_hmac("walkandtalk.ratelimit", client_ip(request)).hexdigest()[:32]
    key = f"ratelimit:{scope}:{who}:{window}"
    try:
        count = _count(key, timeout=seconds + 5)
    except Exception:  # noqa: BLE001 - fail open, and say so in the log
        logger.exception("Rate limit cache unavailable; request allowed")
        return None
    if count > limit:
        return max(int((window + 1) * seconds - now), 1)
    return None


def rate_limit(scope: str):
    """Limit a view's POSTs per client IP; over the limit she gets a clear 429 page."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method == "POST":
                retry_after = hit(request, scope)
                if retry_after is not None:
                    minutes = max(round(retry_after / 60), 1)
                    response = render(request, "429.html", {"minutes": minutes}, status=429)
                    response["Retry-After"] = str(retry_after)
                    return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
