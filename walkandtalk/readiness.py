"""What `/readyz` asks: is the whole system doing its work, not only is this process alive
(that is `/healthz`)?

The ground checks what it owns: the database, the cache and the broker. An app adds checks of
its own from its AppConfig.ready with `register` (bookings: the outbox is not falling behind,
and beat's sweep ran lately), so the ground never names an app's models (docs/architecture.md).

A check is a function of `now` that returns "" when all is well, or a short reason when not.
The reason is public (the page needs no sign-in): a state and a number, never an address, a
host, an error's text or anything about a person. An exception is reported as "unavailable",
and its detail goes to the log, which scrubs it (walkandtalk/logs.py).

Each check is bounded in time by the timeouts the app already has: the database's connect and
statement timeouts (DATABASE_CONNECT_TIMEOUT, DATABASE_STATEMENT_TIMEOUT), REDIS_TIMEOUT and
the Redis breaker (walkandtalk/breaker.py) for the cache and the broker. When the database does
not answer, the checks that need it are not tried again: a stuck PostgreSQL costs one connect
timeout, not one per check.

`record_run(name)` / `last_run(name)` keep when a periodic task last ran, in the shared cache:
the sweep records itself, and its check reads it.
"""

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection
from django.utils import timezone

from . import breaker

logger = logging.getLogger(__name__)

DATABASE = "database"
UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Check:
    name: str
    check: Callable[[datetime], str]
    needs_database: bool


_checks: dict[str, Check] = {}


def register(name: str, check: Callable[[datetime], str], *, needs_database: bool) -> None:
    """Add a readiness check under `name` (the name /readyz reports). `needs_database`: it is
    not tried when the database did not answer. Registering a name twice is two owners, and
    raises."""
    entry = Check(name, check, needs_database)
    if _checks.setdefault(name, entry) != entry:
        raise ValueError(f"Readiness check {name!r} is already registered.")


def cache_needs_database() -> bool:
    """The embedded demo and the tests keep the cache in a database table."""
    return isinstance(caches["default"], DatabaseCache)


def run_checks(now: datetime | None = None) -> dict[str, str]:
    """Every check's answer by name: "ok" or the reason it failed. The ground's own come first,
    the database before all."""
    now = now or timezone.now()
    answers: dict[str, str] = {}
    for entry in _checks.values():
        if entry.needs_database and answers.get(DATABASE, "ok") != "ok":
            answers[entry.name] = "not checked: the database is unavailable"
            continue
        try:
            answers[entry.name] = entry.check(now) or "ok"
        except Exception:  # noqa: BLE001 - a failed check is an answer, not an error page
            logger.warning("Readiness check %s failed", entry.name, exc_info=True)
            answers[entry.name] = UNAVAILABLE
    return answers


# --- when a periodic task last ran -----------------------------------------------------------


def _run_key(name: str) -> str:
    return f"readiness:last-run:{name}"


def record_run(name: str, now: datetime | None = None) -> None:
    """Note that the periodic task `name` ran at `now`. Never fails the task that calls it: a
    cache that does not answer leaves the old time, and the check reports it."""
    try:
        cache.set(_run_key(name), (now or timezone.now()).timestamp(), timeout=None)
    except Exception:  # noqa: BLE001
        logger.warning("Could not record that %s ran", name, exc_info=True)


def last_run(name: str) -> datetime | None:
    stamp = cache.get(_run_key(name))
    return None if stamp is None else datetime.fromtimestamp(stamp, tz=UTC)


def ran_within(name: str, max_age, now: datetime) -> str:
    """The check for a periodic task: "" when it ran within `max_age` (a timedelta) of now."""
    ran = last_run(name)
    if ran is None:
        return "has not run"
    age = int((now - ran).total_seconds())
    if age > max_age.total_seconds():
        return f"last ran {age} s ago (limit {int(max_age.total_seconds())} s)"
    return ""


# --- the ground's own checks -----------------------------------------------------------------


def check_database(now: datetime) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return ""


def check_cache(now: datetime) -> str:
    """A write and a read back: the rate limiter and the page versions need both."""
    key = "readiness:cache"
    value = str(now.timestamp())
    cache.set(key, value, timeout=60)
    return "" if cache.get(key) == value else "did not keep a value"


def check_broker(now: datetime) -> str:
    """Redis answers a PING within REDIS_TIMEOUT (and is not tried while the breaker holds it
    down); the embedded demo's filesystem broker has its folder."""
    url = settings.CELERY_BROKER_URL
    parts = urlsplit(url)
    if parts.scheme == "filesystem":
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
        return "" if os.access(folder, os.W_OK) else "its folder is missing"
    if parts.scheme not in ("redis", "rediss"):
        return ""  # no other broker is configured anywhere; nothing to ask
    server = f"{parts.hostname}:{parts.port or 6379}"
    breaker.check(server)
    client = redis.Redis.from_url(
        url, socket_timeout=settings.REDIS_TIMEOUT, socket_connect_timeout=settings.REDIS_TIMEOUT
    )
    try:
        client.ping()
    except (redis.TimeoutError, redis.ConnectionError):
        breaker.went_down(server)
        raise
    finally:
        client.close()
    return ""


register(DATABASE, check_database, needs_database=True)
register("cache", check_cache, needs_database=cache_needs_database())
register("broker", check_broker, needs_database=False)
