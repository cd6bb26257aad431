from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone

from bookings.models import Booking, WalkRequest
from tests.factories import make_booking, make_walk

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limit(settings):
    settings.PUBLIC_FORM_RATE_LIMIT = "3/600"
    cache.clear()


def post_book(walk, n, ip="203.0.113.7"):
    return Client(REMOTE_ADDR=ip).post(
        f"/walks/{walk.code}/book/",
        {
            "full_name": f"Woman {n}",
            "email": f"woman{n}@example.org",
            "age_confirmed": "on",
            "privacy_accepted": "on",
        },
    )


def test_too_many_bookings_from_one_address_get_a_clear_429_and_write_nothing():
    walk = make_walk()
    assert [post_book(walk, n).status_code for n in range(3)] == [302, 302, 302]
    response = post_book(walk, 3)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 600
    body = response.content.decode()
    assert "too many times" in body
    assert "minute" in body
    assert 'id="exit-this-page"' in body
    assert Booking.objects.count() == 3


def test_invalid_posts_count_too():
    walk = make_walk()
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(3):
        assert client.post(f"/walks/{walk.code}/book/", {}).status_code == 400
    assert client.post(f"/walks/{walk.code}/book/", {}).status_code == 429


def test_another_address_is_not_held_back():
    walk = make_walk()
    for n in range(4):
        post_book(walk, n)
    assert post_book(walk, 9, ip="198.51.100.1").status_code == 302


def test_reading_pages_is_not_limited():
    walk = make_walk()
    for n in range(4):
        post_book(walk, n)
    client = Client(REMOTE_ADDR="203.0.113.7")
    assert client.get(f"/walks/{walk.code}/book/").status_code == 200
    assert client.get("/walks/").status_code == 200


def test_the_limit_lifts_when_the_window_has_passed(time_machine):
    time_machine.move_to(timezone.now())
    walk = make_walk()
    for n in range(4):
        post_book(walk, n)
    assert post_book(walk, 5).status_code == 429
    time_machine.shift(timedelta(minutes=11))
    assert post_book(walk, 6).status_code == 302


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/request/", {"borough": "lambeth"}),
        ("/bookings/lost-link/", {"email": "amira@example.org"}),
    ],
)
def test_every_public_form_is_limited(path, data):
    client = Client(REMOTE_ADDR="203.0.113.7")
    statuses = [client.post(path, data).status_code for _ in range(4)]
    assert statuses[-1] == 429
    assert 429 not in statuses[:3]
    assert not WalkRequest.objects.exists()


def test_the_manage_page_posts_are_limited():
    booking = make_booking()
    client = Client(REMOTE_ADDR="203.0.113.7")
    path = f"/bookings/manage/{booking.manage_token()}/"
    for _ in range(3):
        client.post(path, {"action": "nothing"})
    response = client.post(path, {"action": "cancel"})
    assert response.status_code == 429
    assert "no-store" in response["Cache-Control"]
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_the_cache_holds_no_ip_address():
    post_book(make_walk(), 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM walkandtalk_cache")
        keys = [row[0] for row in cursor.fetchall()]
    assert keys
    assert not any("203.0.113.7" in key for key in keys)


def test_a_broken_cache_lets_bookings_through(settings):
    # Redis on a port where nothing listens: the limiter fails open, the booking succeeds.
    settings.CACHES = {
        "default": {
            "BACKEND": "walkandtalk.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    walk = make_walk()
    assert [post_book(walk, n).status_code for n in range(5)] == [302] * 5
