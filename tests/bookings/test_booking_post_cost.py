"""What one booking POST costs (docs/benchmarks.md, Booking burst): the statements it sends,
the outbox rows written in one INSERT, the outcome kept in a cookie rather than the session,
and the rate limiter's single round trip to Redis."""

import os
import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from redis import Redis

from bookings.models import Booking, Notification
from bookings.services import queue_notification, queue_notifications
from tests.factories import make_booking, make_walk

pytestmark = pytest.mark.django_db

FORM = {
    "full_name": "Amira Begum",
    "email": "amira@example.org",
    "topics": "The path by the railway.",
    "age_confirmed": "on",
    "privacy_accepted": "on",
}


@pytest.fixture
def local_cache(settings):
    """The rate limiter's counters (and the page cache's version) in memory, so the statements
    captured are the booking's own, not the database cache's."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "p"},
    }


def post(client, walk, email="amira@example.org"):
    return client.post(f"/walks/{walk.code}/book/", {**FORM, "email": email})


def statements(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.querycount
@pytest.mark.parametrize("capacity", [8, 1], ids=["confirmed", "waitlisted"])
def test_a_booking_post_sends_seven_statements(client, local_cache, capacity):
    walk = make_walk(capacity=capacity)
    if capacity == 1:
        make_booking(walk=walk)
    with CaptureQueriesContext(connection) as captured:
        response = post(client, walk)
    assert response.status_code == 302
    sql = statements(captured)
    # The walk; then, in the transaction (a savepoint here, inside the test's): the walk locked,
    # the places taken and her booking if any (one statement), the booking, the outbox rows.
    assert len(sql) == 7, "\n".join(sql)
    outbox = [s for s in sql if "bookings_notification" in s]
    assert len(outbox) == 1 and outbox[0].startswith("INSERT")
    assert sum("bookings_booking" in s and s.startswith("SELECT") for s in sql) == 1
    assert not any("django_session" in s for s in sql)
    # The walk is read twice (the page's read, then locked), each its own row alone: no join,
    # no count subqueries (with_counts() costs 3 ms of CPU to build).
    walk_reads = [s for s in sql if s.startswith('SELECT "patrols_walk"')]
    assert len(walk_reads) == 2
    assert not any("JOIN" in s or "COUNT" in s for s in walk_reads)
    booking = Booking.objects.get(email="amira@example.org")
    kinds = set(booking.notifications.values_list("kind", flat=True))
    if capacity == 8:
        assert kinds == {"booking_confirmed", "reminder_24h", "reminder_2h"}
    else:
        assert kinds == {"waitlisted"}


@pytest.mark.querycount
def test_the_count_of_a_booking_post_does_not_grow_with_the_walks_bookings(client, local_cache):
    walk = make_walk(capacity=40)
    for _ in range(30):
        make_booking(walk=walk)
    with CaptureQueriesContext(connection) as captured:
        assert post(client, walk).status_code == 302
    assert len(captured) == 7


def test_a_repeat_booking_post_writes_nothing_new_and_sends_her_the_manage_link(
    client, local_cache
):
    walk = make_walk()
    first = make_booking(walk=walk, email="amira@example.org")
    assert post(client, walk, email="AMIRA@example.org").status_code == 302
    assert Booking.objects.filter(walk=walk).count() == 1
    assert list(first.notifications.values_list("kind", "key")) == [
        ("manage_link", "repeat_booking")
    ]


def test_the_walk_is_full_when_its_last_place_is_taken_by_the_count_under_the_lock(
    client, local_cache
):
    walk = make_walk(capacity=2)
    make_booking(walk=walk)
    make_booking(walk=walk, status=Booking.Status.WAITLISTED)
    make_booking(walk=walk, status=Booking.Status.CANCELLED)
    post(client, walk, email="one@example.org")
    post(client, walk, email="two@example.org")
    statuses = dict(Booking.objects.filter(walk=walk).values_list("email", "status"))
    assert statuses["one@example.org"] == "confirmed"
    assert statuses["two@example.org"] == "waitlisted"


# --- queue_notifications: one INSERT ... ON CONFLICT, the re-arm of update_or_create kept ---


@pytest.mark.querycount
def test_queue_notifications_writes_every_row_in_one_statement_in_the_order_asked():
    booking = make_booking()
    later = timezone.now() + timedelta(days=1)
    with CaptureQueriesContext(connection) as captured:
        rows = queue_notifications(
            booking=booking,
            messages=[("reminder_2h", later, ""), ("booking_confirmed", None, "")],
        )
    assert len(captured) == 1
    assert [row.kind for row in rows] == ["reminder_2h", "booking_confirmed"]
    assert rows[0].due_at == later and rows[0].booking is booking
    assert {row.pk for row in rows} == set(booking.notifications.values_list("pk", flat=True))


def test_queueing_again_re_arms_the_same_row():
    booking = make_booking()
    row = queue_notification(kind="walk_changed", booking=booking)
    Notification.objects.filter(pk=row.pk).update(
        sent_at=timezone.now(),
        claimed_at=timezone.now(),
        attempts=3,
        last_error="refused",
        failed_at=timezone.now(),
        skipped_at=timezone.now(),
    )
    later = timezone.now() + timedelta(hours=5)
    again = queue_notification(kind="walk_changed", booking=booking, due_at=later)
    assert again.pk == row.pk
    stored = Notification.objects.get(pk=row.pk)
    assert (stored.sent_at, stored.claimed_at, stored.failed_at, stored.skipped_at) == (
        None,
        None,
        None,
        None,
    )
    assert (stored.attempts, stored.last_error, stored.due_at) == (0, "", later)
    assert stored.created_at == row.created_at
    assert Notification.objects.count() == 1


def test_only_messages_due_now_are_published_after_commit(
    django_capture_on_commit_callbacks, monkeypatch
):
    published = []
    monkeypatch.setattr("bookings.services.publish_notification", published.append)
    booking = make_booking()
    with django_capture_on_commit_callbacks(execute=True):
        rows = queue_notifications(
            booking=booking,
            messages=[
                ("booking_confirmed", None, ""),
                ("reminder_24h", timezone.now() + timedelta(hours=30), ""),
            ],
        )
    assert published == [rows[0].pk]


def test_a_message_goes_to_a_booking_or_a_request():
    with pytest.raises(ValueError):
        queue_notifications(messages=[("booking_confirmed", None, "")])


# --- the outcome after the redirect: a signed cookie, no session row ---


def test_a_booking_keeps_its_outcome_in_a_host_only_cookie_not_the_session(local_cache):
    client = Client()
    walk = make_walk()
    response = post(client, walk)
    cookie = response.cookies["__Host-booked"]
    assert cookie["secure"] and cookie["httponly"] and cookie["path"] == "/"
    assert cookie["samesite"] == "Lax" and not cookie["domain"] and not cookie["expires"]
    assert "amira" not in cookie.value.lower()
    assert not Session.objects.exists()
    body = client.get(response["Location"]).content.decode()
    assert "Booking confirmed" in body


def test_a_tampered_outcome_cookie_shows_nothing(local_cache):
    client = Client()
    walk = make_walk()
    post(client, walk)
    value = client.cookies["__Host-booked"].value
    client.cookies["__Host-booked"] = re.sub(r"^[^:]+", "eyJib29raW5nIjo5OTl9", value)
    body = client.get(f"/walks/{walk.code}/booked/").content.decode()
    assert "Booking confirmed" not in body and "Check your email" in body


def test_an_outcome_shows_only_on_the_walk_it_was_booked_on(local_cache):
    client = Client()
    walk, other = make_walk(), make_walk()
    post(client, walk)
    assert "Booking confirmed" in client.get(f"/walks/{walk.code}/booked/").content.decode()
    assert "Booking confirmed" not in client.get(f"/walks/{other.code}/booked/").content.decode()


def test_an_expired_outcome_cookie_is_removed(local_cache, time_machine):
    time_machine.move_to(timezone.now())
    client = Client()
    walk = make_walk()
    post(client, walk)
    time_machine.shift(timedelta(minutes=31))
    response = client.get(f"/walks/{walk.code}/booked/")
    assert response.cookies["__Host-booked"]["max-age"] == 0


# --- the rate limiter on Redis: one round trip per POST ---


@pytest.fixture
def redis_store(settings):
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        pytest.skip("needs Redis (CELERY_BROKER_URL)")
    settings.CACHES = {
        "default": {
            "BACKEND": "walkandtalk.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"test-post-cost-{os.getpid()}",
        },
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "p"},
    }
    settings.PUBLIC_FORM_RATE_LIMIT = "2/600"
    redis = Redis.from_url(url)  # the store behind the cache, read directly
    yield redis
    for key in redis.scan_iter(f"test-post-cost-{os.getpid()}:*"):
        redis.delete(key)
    redis.close()


@pytest.mark.querycount
def test_the_rate_limiter_counts_a_post_in_one_round_trip_to_redis(redis_store, monkeypatch):
    from redis.connection import Connection

    sent = []
    original = Connection.send_packed_command

    def counting(self, command, check_health=True):
        packed = command if isinstance(command, bytes) else b"".join(command)
        if b":ratelimit:" in packed:
            sent.append(packed)
        return original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counting)
    client = Client(REMOTE_ADDR="203.0.113.9")
    walk = make_walk()
    assert client.post(f"/walks/{walk.code}/book/", {}).status_code == 400
    assert len(sent) == 1  # SET NX EX and INCR, sent together
    assert client.post(f"/walks/{walk.code}/book/", {}).status_code == 400
    assert client.post(f"/walks/{walk.code}/book/", {}).status_code == 429
    [key] = redis_store.keys(f"test-post-cost-{os.getpid()}:*:ratelimit:*")
    assert 600 < redis_store.ttl(key) <= 605


@pytest.mark.querycount
def test_a_booking_post_makes_three_round_trips_to_the_cache_and_one_publish(
    redis_store, monkeypatch, django_capture_on_commit_callbacks, settings
):
    """The Redis work of one booking (docs/benchmarks.md, Booking burst): the rate limiter's
    count, the page cache's version replaced at the write and again after the commit, and one
    task published for her confirmation. Nothing else reaches Redis."""
    from redis.connection import Connection

    settings.PUBLIC_FORM_RATE_LIMIT = "1000/600"
    sent = []
    original = Connection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command if isinstance(command, bytes) else b"".join(command))
        return original(self, command, check_health)

    published = []
    monkeypatch.setattr("bookings.services.publish_notification", published.append)
    walk = make_walk()
    client = Client()
    monkeypatch.setattr(Connection, "send_packed_command", counting)
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, walk).status_code == 302
    assert sum(b":ratelimit:" in command for command in sent) == 1
    assert sum(b"public-walks:version" in command for command in sent) == 2
    assert len(sent) == 3
    assert len(published) == 1
