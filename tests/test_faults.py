"""A stuck PostgreSQL or Redis (accepting connections, never answering) costs a request a
few seconds at most, never a hang: each gives up after its configured timeout and the app
falls back or answers with its error page.

Each test counts what the app tried (connections the stuck listener accepted) and bounds the
time generously against the hang it replaces (25 s and more), not tightly against the
configured timeout: a loaded machine must not fail them."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.test import Client

from bookings.models import Booking, Notification
from tests.bookings.test_worker import broker_at
from tests.factories import make_walk
from tests.stuck import stuck_listener

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_env(database_url: str) -> dict:
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "a-test-secret-that-is-long-enough-for-production-checks",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": "filesystem://",
        "CACHE_URL": "",
    }


def get(url: str) -> tuple[int, float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=25) as response:  # the old hang: 25 s
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.monotonic() - started


@pytest.fixture
def gunicorn_on_stuck_database(tmp_path):
    """gunicorn with production settings whose PostgreSQL is a stuck listener."""
    with stuck_listener() as database:
        port = free_port()
        env = production_env(f"postgres://postgres@{database.address}/walkandtalk")
        env["VAR_DIR"] = str(tmp_path)
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "walkandtalk.wsgi", "-b", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: the workers go with it
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.1)
            yield f"http://127.0.0.1:{port}", database
        finally:
            # The master and its workers at once: a worker waiting on the stuck listener would
            # outlive a master killed alone.
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_with_postgresql_stuck_healthz_answers_503_and_pages_fail_in_seconds(
    gunicorn_on_stuck_database,
):
    url, database = gunicorn_on_stuck_database
    status, took = get(f"{url}/healthz")
    assert status == 503
    assert took < 12, f"/healthz took {took:.1f} s (connect timeout 3 s)"
    status, took = get(f"{url}/walks/")
    assert status == 500
    assert took < 12, f"/walks/ took {took:.1f} s"
    assert len(database.connections) >= 2  # each request tried, and gave up


def test_with_postgresql_stuck_a_delivery_sweep_gives_up_in_seconds(tmp_path):
    with stuck_listener() as database:
        env = production_env(f"postgres://postgres@{database.address}/walkandtalk")
        env["VAR_DIR"] = str(tmp_path)
        started = time.monotonic()
        sweep = subprocess.run(
            [sys.executable, "manage.py", "deliver_notifications"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        took = time.monotonic() - started
    assert sweep.returncode != 0
    assert "timeout" in sweep.stderr.lower()
    assert took < 20, f"the sweep took {took:.1f} s (connect timeout 3 s)"


@pytest.fixture
def stuck_redis(settings):
    """The shared cache and the broker on a stuck Redis, as docker-compose's settings put them
    on one Redis server."""
    with stuck_listener() as redis:
        settings.CACHES = {
            **settings.CACHES,
            "default": {
                "BACKEND": "walkandtalk.cache.RedisCache",
                "LOCATION": f"redis://{redis.address}/1",
                "OPTIONS": {
                    "socket_timeout": settings.REDIS_TIMEOUT,
                    "socket_connect_timeout": settings.REDIS_TIMEOUT,
                    "connection_class": "walkandtalk.breaker.GuardedConnection",
                },
            },
        }
        with broker_at(f"redis://{redis.address}/0"):
            yield redis


BOOKING = {
    "full_name": "Jo Bloggs",
    "email": "jo@example.org",
    "age_confirmed": "on",
    "privacy_accepted": "on",
}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_redis_stuck_a_booking_waits_for_it_once_and_still_succeeds(stuck_redis):
    walk = make_walk()
    started = time.monotonic()
    response = Client().post(f"/walks/{walk.code}/book/", BOOKING)
    took = time.monotonic() - started
    assert response.status_code == 302
    booking = Booking.objects.get()
    row = booking.notifications.get(kind=Notification.Kind.BOOKING_CONFIRMED)
    assert row.sent_at is None  # left for the sweep
    # The rate limiter found Redis stuck; the pages' version (twice) and the publish did not
    # try it again.
    assert len(stuck_redis.connections) == 1
    assert took < 10, f"the booking took {took:.1f} s"


@pytest.mark.django_db
def test_with_redis_stuck_the_walk_list_waits_for_it_once(stuck_redis):
    make_walk(title="Brixton at dusk")
    client = Client()
    assert "Brixton at dusk" in client.get("/walks/").content.decode()
    assert "Brixton at dusk" in client.get("/walks/").content.decode()
    assert len(stuck_redis.connections) == 1
