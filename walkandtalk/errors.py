"""Error reporting to Sentry, for the web, the worker and beat, only when SENTRY_DSN is set.

Nothing personal leaves: the SDK is told not to collect it (`send_default_pii` off, no request
bodies, no local variables of the failing frames), and `scrub_event` removes what could still
carry it before anything is sent: the request's body, cookies, query string and headers other
than a few harmless ones, the user, the secret part of token pages' addresses (walkandtalk.
security.TOKEN_PREFIXES) and every email address, wherever they appear in the event
(exception messages, log lines, breadcrumbs). The same scrub as the logs (walkandtalk/logs.py).

No performance tracing is turned on: its transactions would carry addresses too.
"""

from urllib.parse import urlsplit, urlunsplit

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

from .logs import scrub

# The request headers an error report keeps: none says who she is or where she came from.
KEPT_HEADERS = {"host", "content-type", "content-length", "accept"}


def _scrub(value):
    """Every string inside `value`, scrubbed of token paths and email addresses."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def _scrub_request(request: dict) -> dict:
    kept = {key: request[key] for key in ("method",) if key in request}
    if request.get("url"):
        parts = urlsplit(request["url"])
        kept["url"] = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    headers = request.get("headers") or {}
    kept["headers"] = {
        name: value for name, value in headers.items() if name.lower() in KEPT_HEADERS
    }
    return kept


def scrub_event(event: dict, hint: dict | None = None) -> dict:
    """Sentry's before_send: the event without personal data or secrets (see the module)."""
    event = dict(event)
    event.pop("user", None)
    if isinstance(event.get("request"), dict):
        event["request"] = _scrub_request(event["request"])
    return _scrub(event)


def options(dsn: str, environment: str = "") -> dict:
    return {
        "dsn": dsn,
        "environment": environment or None,
        "send_default_pii": False,
        "max_request_body_size": "never",
        "include_local_variables": False,
        "before_send": scrub_event,
        "before_send_transaction": scrub_event,
        "integrations": [DjangoIntegration(), CeleryIntegration()],
    }


def start(dsn: str, environment: str = "") -> bool:
    """Report errors to `dsn`; nothing at all when it is empty. Once per process: settings
    start it for the web, walkandtalk/celery.py for the worker and beat (the same call, kept
    when settings already made it). True when reporting is on."""
    if not dsn:
        return False
    if not sentry_sdk.get_client().is_active():
        sentry_sdk.init(**options(dsn, environment))
    return True
