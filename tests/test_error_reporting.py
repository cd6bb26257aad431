"""Errors go to Sentry only when SENTRY_DSN is set, and nothing personal goes with them: no
request body, cookie or query string, no token from a link's address, no email address.

The real SDK captures real events here; its transport records them instead of sending (no
network)."""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import pytest
import sentry_sdk
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.test import override_settings
from django.urls import path
from sentry_sdk.transport import Transport

from walkandtalk import errors
from walkandtalk import urls as site

ROOT = Path(__file__).resolve().parent.parent
DSN = "https://public@sentry.example.invalid/1"
TOKEN = "AbCdEf123.ghIJ-kl_mnop"  # the shape of a manage link's token
EMAIL = "jo.bloggs+walks@example.org"
NAME = "Jo Bloggs"
PHONE = "07700 900123"
CSRF = "Qw3rTy7uIoPaSdFgHjKlZxCvBnM12345"  # the form protection's secret, 32 characters


def failing_view(request, token):
    raise RuntimeError(f"Could not change the booking of {EMAIL} at /bookings/manage/{token}/")


# The site's own addresses, with her manage page failing (the 500 page needs the others).
urlpatterns = [path("bookings/manage/<str:token>/", failing_view), *site.urlpatterns]
handler500 = site.handler500


def realistic_event() -> dict:
    """What the Django integration builds for an error on her manage page, had it collected
    everything."""
    return {
        "level": "error",
        "exception": {
            "values": [
                {
                    "type": "RuntimeError",
                    "value": f"Could not change the booking of {EMAIL}",
                    "stacktrace": {
                        "frames": [{"function": "manage", "vars": {"email": f"'{EMAIL}'"}}]
                    },
                }
            ]
        },
        "request": {
            "url": f"https://walks.example.org/bookings/manage/{TOKEN}/?email={EMAIL}",
            "method": "POST",
            "query_string": f"email={EMAIL}",
            "data": {"full_name": NAME, "email": EMAIL, "phone": PHONE},
            "cookies": {"sessionid": "s3cr3t", "csrftoken": "abc"},
            "headers": {
                "Host": "walks.example.org",
                "Cookie": "sessionid=s3cr3t",
                "Referer": f"https://walks.example.org/feedback/{TOKEN}/",
                "User-Agent": "Mozilla/5.0 (her phone)",
                "X-Forwarded-For": "203.0.113.9",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            "env": {"REMOTE_ADDR": "203.0.113.9"},
        },
        "user": {"ip_address": "203.0.113.9", "email": EMAIL},
        "breadcrumbs": {
            "values": [
                {
                    "category": "django.server",
                    "message": f'"GET /bookings/manage/{TOKEN}/cancel/ HTTP/1.1" 200',
                },
                {"category": "bookings", "message": f"Booking confirmed for {EMAIL}"},
            ]
        },
        "extra": {"sys.argv": ["gunicorn"], "recipient": EMAIL},
    }


def assert_nothing_personal(event: dict) -> None:
    text = json.dumps(event)
    for secret in (TOKEN, EMAIL, NAME, PHONE, CSRF, "s3cr3t", "203.0.113.9", "her phone"):
        assert secret not in text, secret
    assert "@" not in text
    request = event.get("request", {})
    assert not {"data", "cookies", "query_string", "env"} & set(request)
    assert "?" not in request.get("url", "")
    assert "user" not in event


def test_the_scrub_removes_bodies_cookies_query_strings_tokens_and_addresses():
    event = errors.scrub_event(realistic_event(), {})
    assert_nothing_personal(event)
    # What is left still says what went wrong, and where.
    assert event["request"]["url"] == "https://walks.example.org/bookings/manage/[token]/"
    assert event["request"]["method"] == "POST"
    assert event["request"]["headers"] == {
        "Host": "walks.example.org",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    assert event["exception"]["values"][0]["value"] == "Could not change the booking of [email]"
    assert event["breadcrumbs"]["values"][0]["message"].startswith(
        '"GET /bookings/manage/[token]/cancel/'
    )


class RecordingTransport(Transport):
    """Keeps each envelope instead of sending it."""

    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)

    def events(self) -> list[dict]:
        return [
            item.payload.json
            for envelope in self.envelopes
            for item in envelope.items
            if item.type == "event"
        ]


@pytest.fixture
def sentry():
    """The SDK as production starts it (errors.options), on a recording transport."""
    transport = RecordingTransport()
    sentry_sdk.init(**{**errors.options(DSN), "transport": transport})
    try:
        yield transport
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)


def post_through_wsgi(url: str, form: dict, headers: dict) -> str:
    """POST as gunicorn hands a request to Django: through the WSGI application, which is
    where the SDK reads the request's address, headers and cookies."""
    body = urlencode(form).encode()
    path_info, _, query = url.partition("?")
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()},
    }
    setup_testing_defaults(environ)  # a server on 127.0.0.1, as gunicorn behind the proxy
    started = []
    chunks = get_wsgi_application()(environ, lambda status, headers: started.append(status))
    b"".join(chunks)
    return started[0]


def without_source_lines(event: dict) -> dict:
    """The event less the lines of source code around each frame: they are the code's own
    text (this test file's, here, beside its made-up personal data), not a request's."""
    for exception in event.get("exception", {}).get("values", []):
        for frame in exception.get("stacktrace", {}).get("frames", []):
            for key in ("pre_context", "context_line", "post_context"):
                frame.pop(key, None)
    return event


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_an_error_on_a_token_page_reaches_sentry_scrubbed(sentry):
    status = post_through_wsgi(
        f"/bookings/manage/{TOKEN}/?email={EMAIL}",
        {"full_name": NAME, "email": EMAIL, "phone": PHONE, "csrfmiddlewaretoken": CSRF},
        {
            "Cookie": f"sessionid=s3cr3t; {settings.CSRF_COOKIE_NAME}={CSRF}",
            "Referer": f"https://walks.example.org/feedback/{TOKEN}/",
            "X-Forwarded-For": "203.0.113.9",
            "User-Agent": "Mozilla/5.0 (her phone)",
        },
    )
    assert status.startswith("500")
    sentry_sdk.flush()
    [event] = sentry.events()
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["request"]["url"] == "http://127.0.0.1/bookings/manage/[token]/"
    assert event["request"]["method"] == "POST"
    assert_nothing_personal(without_source_lines(event))
    assert "vars" not in json.dumps(event)  # no local variables of the failing frames


def test_an_error_logged_by_a_task_reaches_sentry_scrubbed(sentry):
    logging.getLogger("bookings.delivery").error(
        "Could not write the message to %s about /feedback/%s/", EMAIL, TOKEN
    )
    sentry_sdk.flush()
    [event] = sentry.events()
    assert event["logentry"]["message"].startswith("Could not write the message to")
    assert_nothing_personal(event)


@pytest.mark.django_db
def test_a_failing_readiness_check_is_not_reported_as_an_error(client, sentry, settings):
    """/readyz answering 503 is the monitor's news, polled every few seconds: not an error.
    (The SDK's Django integration leaves django.request's status lines out.)"""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    assert client.get("/readyz").status_code == 503
    sentry_sdk.flush()
    assert sentry.events() == []


def sentry_state(dsn: str) -> dict:
    """Start Django and the Celery app as the web and the worker do, with SENTRY_DSN as
    given, and say what the SDK was set up with."""
    script = (
        "import json, django, sentry_sdk\n"
        "django.setup()\n"
        "from walkandtalk.celery import start_error_reporting\n"
        "start_error_reporting()\n"
        "client = sentry_sdk.get_client()\n"
        "o = client.options\n"
        "print(json.dumps({'active': client.is_active(),"
        " 'pii': o.get('send_default_pii'), 'scrub': getattr(o.get('before_send'),"
        " '__name__', None), 'bodies': o.get('max_request_body_size')}))\n"
    )
    env = {**os.environ, "SENTRY_DSN": dsn, "DJANGO_SETTINGS_MODULE": "walkandtalk.settings"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_nothing_is_initialised_without_a_dsn():
    assert sentry_state("")["active"] is False


def test_a_dsn_turns_reporting_on_with_the_scrub():
    assert sentry_state(DSN) == {
        "active": True,
        "pii": False,
        "scrub": "scrub_event",
        "bodies": "never",
    }
