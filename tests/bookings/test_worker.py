"""End to end with a real Celery worker process, Redis on loopback and an SMTP server: a booking
is confirmed by email within seconds, and a booking made while Redis is unreachable still
succeeds at once and is emailed by the next sweep."""

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from bookings.models import Booking, Notification
from bookings.tasks import deliver_due_notifications
from tests.bookings.smtp_sink import smtp_sink  # noqa: F401 - a fixture
from tests.factories import make_walk
from walkandtalk import breaker
from walkandtalk.celery import app as celery_app

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def wait_for(condition, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    return condition()


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(smtp_sink, tmp_path):  # noqa: F811
    """`celery worker` in its own process, on this test's database and broker, sending mail to
    the SMTP sink. Messages left in the queue by earlier runs are purged first."""
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "run with a Redis broker"
    celery_app.control.purge()
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "SITE_URL": settings.SITE_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_sink.port),
        "CONN_MAX_AGE": "0",
    }
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "walkandtalk",
                "worker",
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
                f"--hostname=test-{os.getpid()}@%h",
            ],
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        ready = wait_for(lambda: b" ready." in log.read_bytes(), timeout=60)
        assert ready, log.read_text()
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def broker_at(url: str):
    """Point this process's Celery publisher at another broker, as if Redis had gone away."""

    def reset():
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    celery_app.conf.broker_write_url = url
    reset()
    try:
        yield
    finally:
        celery_app.conf.broker_write_url = None
        reset()


def book_on_the_website(client, walk) -> Booking:
    response = client.post(
        f"/walks/{walk.code}/book/",
        {
            "full_name": "Jo Bloggs",
            "email": "jo@example.org",
            "age_confirmed": "on",
            "privacy_accepted": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == f"/walks/{walk.code}/booked/"
    return Booking.objects.get(walk=walk, email="jo@example.org")


def test_a_booking_is_confirmed_by_email_through_a_real_worker_without_waiting_for_a_sweep(
    client,
    worker,
    smtp_sink,  # noqa: F811
):
    walk = make_walk()
    booking = book_on_the_website(client, walk)

    # No beat runs here: only the task the booking published can have sent it.
    assert wait_for(lambda: smtp_sink.messages, timeout=60), "no email from the worker"
    [message] = smtp_sink.messages
    assert message["To"] == "jo@example.org"
    assert "place is booked" in message["Subject"]
    assert any(part.get_filename() == "walk.ics" for part in message.walk())
    row = booking.notifications.get(kind=Notification.Kind.BOOKING_CONFIRMED)
    assert row.sent_at is not None and row.attempts == 1


def test_with_redis_unreachable_the_booking_succeeds_and_the_next_sweep_sends_it(
    client,
    worker,
    smtp_sink,  # noqa: F811
):
    walk = make_walk()
    with broker_at(UNREACHABLE_BROKER):
        booking = book_on_the_website(client, walk)
        # The publish gave the broker up (no retry loop: tests/test_celery_config.py) and this
        # process takes it as down, so the next request does not wait for it either.
        assert breaker.is_down("127.0.0.1:1")
    row = booking.notifications.get(kind=Notification.Kind.BOOKING_CONFIRMED)
    assert row.sent_at is None
    time.sleep(1)
    assert smtp_sink.messages == []

    # Redis is back: beat's next sweep (published to the worker as beat does) sends it.
    deliver_due_notifications.delay()
    assert wait_for(lambda: smtp_sink.messages, timeout=60), "the sweep sent nothing"
    assert [message["To"] for message in smtp_sink.messages] == ["jo@example.org"]
    row.refresh_from_db()
    assert row.sent_at is not None
