"""The public walk pages are kept by each web process between changes (website/pagecache.py):
kept pages cost no query of the walks, and no change to walks or bookings, nor the clock,
leaves a kept page out of date."""

import hashlib
import re
import socket
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.messages.storage.session import SessionStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache, caches
from django.db import connection
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings import services
from bookings.models import Booking
from patrols.models import Walk
from tests.factories import make_booking, make_walk
from website import pagecache

pytestmark = pytest.mark.django_db


def walk_queries(client, url) -> tuple[str, list[str]]:
    """The page, and the queries it made of anything but the cache's version."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    sql = [q["sql"] for q in captured.captured_queries if "walkandtalk_cache" not in q["sql"]]
    return response.content.decode(), sql


@pytest.mark.querycount
@pytest.mark.parametrize("path", ["/walks/", "/walks/?borough=lambeth&page=1", "walk"])
def test_a_page_asked_for_again_is_served_without_a_query_of_the_walks(client, path):
    walk = make_walk(capacity=4)
    url = walk.get_absolute_url() if path == "walk" else path
    first, sql = walk_queries(client, url)
    assert any("patrols_walk" in query for query in sql)
    again, sql = walk_queries(client, url)
    assert sql == []
    # The same page, in a layout of its own: this response's CSP nonce, not the first one's.
    nonce = re.compile(r'nonce="([^"]+)"')
    assert nonce.sub("", again) == nonce.sub("", first)
    assert nonce.findall(again) != nonce.findall(first)
    assert "4 places left" in again


def test_a_booking_shows_at_once_on_the_list_and_the_walk_page(client):
    walk = make_walk(capacity=2)
    assert "2 places left" in client.get("/walks/").content.decode()
    assert "2 places left" in client.get(walk.get_absolute_url()).content.decode()
    services.book_place(walk=walk, full_name="Amira Begum", email="amira@example.org")
    assert "1 place left" in client.get("/walks/").content.decode()
    assert "1 place left" in client.get(walk.get_absolute_url()).content.decode()
    booking = Booking.objects.get()
    services.cancel_booking(booking=booking)
    assert "2 places left" in client.get("/walks/").content.decode()


def test_a_walk_edited_or_cancelled_shows_at_once(client):
    walk = make_walk(title="Evening walk by the canal")
    assert "by the canal" in client.get("/walks/").content.decode()
    walk.title = "Evening walk by the river"
    walk.save()
    body = client.get("/walks/").content.decode()
    assert "by the river" in body and "by the canal" not in body
    services.cancel_walk(walk=walk, reason="The towpath is closed.")
    assert "by the river" not in client.get("/walks/").content.decode()
    assert "The towpath is closed." in client.get(walk.get_absolute_url()).content.decode()


def test_the_list_and_page_change_when_the_walk_starts_with_no_write(client, time_machine):
    starts = timezone.now().replace(microsecond=0) + timedelta(hours=1)
    time_machine.move_to(starts - timedelta(minutes=1))
    walk = make_walk(title="Early walk", starts_at=starts, ends_at=starts + timedelta(minutes=90))
    make_walk(title="Later walk", starts_at=starts + timedelta(days=1))
    assert "Early walk" in client.get("/walks/").content.decode()
    assert "Book a place" in client.get(walk.get_absolute_url()).content.decode()
    time_machine.move_to(starts + timedelta(seconds=1))
    body = client.get("/walks/").content.decode()
    assert "Early walk" not in body and "Later walk" in body
    assert "already started" in client.get(walk.get_absolute_url()).content.decode()
    time_machine.move_to(starts + timedelta(minutes=91))
    assert "has taken place" in client.get(walk.get_absolute_url()).content.decode()


def test_a_write_that_sends_no_signal_shows_after_max_age(client, time_machine):
    time_machine.move_to(timezone.now())
    walk = make_walk(
        title="Evening walk by the canal", starts_at=timezone.now() + timedelta(days=2)
    )
    assert "by the canal" in client.get("/walks/").content.decode()
    Walk.objects.filter(pk=walk.pk).update(title="Evening walk by the river")
    time_machine.move_to(timezone.now() + timedelta(seconds=pagecache.MAX_AGE + 1))
    assert "by the river" in client.get("/walks/").content.decode()


def test_the_version_changes_at_the_write_and_again_at_commit(
    django_capture_on_commit_callbacks,
):
    before = pagecache.current_version()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        make_booking(walk=make_walk())
        during = cache.get(pagecache.VERSION_KEY)
        assert during != before
    assert callbacks  # the second change waits for the commit
    assert cache.get(pagecache.VERSION_KEY) not in (before, during)


def test_with_the_shared_cache_unreachable_the_pages_are_rendered_fresh(client, settings):
    with socket.socket() as probe:  # a port with nothing listening on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    walk = make_walk(capacity=3)
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "walkandtalk.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    settings.PUBLIC_FORM_RATE_LIMIT = "1000/600"
    assert "3 places left" in client.get("/walks/").content.decode()
    Booking.objects.create(walk=walk, full_name="Amira Begum", email="amira@example.org")
    assert "2 places left" in client.get("/walks/").content.decode()
    assert "2 places left" in client.get(walk.get_absolute_url()).content.decode()


def test_other_parameters_neither_change_the_list_nor_reach_its_links(client):
    for _ in range(25):
        make_walk()
    body = client.get("/walks/?borough=lambeth&utm_source=%22%3E%3Cscript%3E").content.decode()
    assert "utm_source" not in body and "<script>" not in body
    assert 'href="?borough=lambeth&amp;page=2"' in body


def nonces(response) -> tuple[str, list[str]]:
    policy = response["Content-Security-Policy"]
    header = re.search(r"'nonce-([^']+)'", policy).group(1)
    return header, re.findall(r'nonce="([^"]+)"', response.content.decode())


@pytest.mark.querycount
def test_a_visitor_without_cookies_is_given_the_whole_page_with_her_own_nonce(client):
    walk = make_walk(capacity=4)
    first = client.get("/walks/")
    with CaptureQueriesContext(connection) as captured:
        again = client.get("/walks/")
    assert not client.cookies
    assert not [q for q in captured.captured_queries if "walkandtalk_cache" not in q["sql"]]
    assert again.templates == []  # nothing rendered: the whole page was kept
    header, on_page = nonces(again)
    assert on_page == [header] and header != nonces(first)[0]
    assert re.sub(r'nonce="[^"]+"', "", again.content.decode()) == re.sub(
        r'nonce="[^"]+"', "", first.content.decode()
    )
    assert walk.title in again.content.decode()


def test_her_messages_are_shown_and_never_kept_for_others(client):
    make_walk()
    client.get("/walks/")
    client.get("/walks/")  # kept whole for visitors without cookies
    storage = CookieStorage(RequestFactory().get("/"))
    storage.add(constants.SUCCESS, "Your booking is cancelled.")
    sent = HttpResponse()
    storage.update(sent)  # the cookie the messages middleware would set
    client.cookies["messages"] = sent.cookies["messages"].value
    assert "Your booking is cancelled." in client.get("/walks/").content.decode()
    assert "Your booking is cancelled." not in Client().get("/walks/").content.decode()


# --- returning visitors: the whole page for cookies that cannot change it, never her own ---


def csrf_only_client(walk) -> Client:
    """A visitor back from a booking form: she holds its CSRF cookie and nothing else."""
    client = Client()
    assert client.get(f"/walks/{walk.code}/book/").status_code == 200
    assert set(client.cookies) == {settings.CSRF_COOKIE_NAME}
    return client


@pytest.mark.querycount
@pytest.mark.parametrize("path", ["/walks/", "walk"])
def test_a_visitor_with_only_the_csrf_cookie_is_given_the_kept_page(path):
    walk = make_walk(capacity=4)
    url = walk.get_absolute_url() if path == "walk" else path
    stranger = Client()
    first = stranger.get(url)
    stranger.get(url)  # kept whole
    client = csrf_only_client(walk)
    with CaptureQueriesContext(connection) as captured:
        again = client.get(url)
    assert not [q for q in captured.captured_queries if "walkandtalk_cache" not in q["sql"]]
    assert again.templates == []  # nothing rendered: the page kept for everyone
    header, on_page = nonces(again)
    assert on_page == [header] and header != nonces(first)[0]
    assert re.sub(r'nonce="[^"]+"', "", again.content.decode()) == re.sub(
        r'nonce="[^"]+"', "", first.content.decode()
    )
    # The page holds no form token, so it gives away nothing of anyone's CSRF cookie.
    assert "csrfmiddlewaretoken" not in again.content.decode()
    assert not again.cookies


def test_a_page_first_rendered_for_a_visitor_with_the_csrf_cookie_is_kept_for_everyone():
    walk = make_walk()
    client = csrf_only_client(walk)
    assert client.get("/walks/").templates  # rendered for her, and kept whole
    assert Client().get("/walks/").templates == []


def test_a_page_that_used_her_csrf_token_or_showed_her_a_message_is_never_kept_whole(rf):
    """Were the layout ever to hold a form token, the page is rendered per visitor: the masked
    token would give away her cookie's secret to whoever was served it."""
    make_walk()

    def request():
        made = rf.get("/walks/")
        made.COOKIES[settings.CSRF_COOKIE_NAME] = "x" * 32
        made.META["CSRF_COOKIE"] = "x" * 32
        made.session = SessionStore()
        made._messages = FallbackStorage(made)
        made.csp_nonce = "n0nce"
        return made

    def page():
        return {"status": 200, "title": "Find a walk", "content": "<p>Walks</p>"}, None

    for _ in range(2):
        asked = request()
        get_token(asked)  # something in this request used her token
        response = pagecache.respond(asked, "bookings/walk_list.html", ("test", "token"), page)
        assert "Walks" in response.content.decode()
    key = "public-walks:" + hashlib.sha256(repr(("test", "token")).encode()).hexdigest()
    version = pagecache.current_version()
    assert caches["pages"].get(f"{key}:whole", version=version) is None
    assert caches["pages"].get(key, version=version) is not None

    # Nor one that showed her a message added while it was made.
    for _ in range(2):
        asked = request()
        asked._messages.add(constants.SUCCESS, "Done: your reminders go by text.")
        response = pagecache.respond(asked, "bookings/walk_list.html", ("test", "said"), page)
        assert "Done: your reminders go by text." in response.content.decode()
    key = "public-walks:" + hashlib.sha256(repr(("test", "said")).encode()).hexdigest()
    assert caches["pages"].get(f"{key}:whole", version=version) is None


def test_a_visitor_with_a_session_message_gets_her_own(settings):
    settings.MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
    walk = make_walk()
    kept_for_everyone = csrf_only_client(walk)
    kept_for_everyone.get("/walks/")
    kept_for_everyone.get("/walks/")  # kept whole
    her = csrf_only_client(walk)
    session = SessionStore()
    session.create()
    asked = RequestFactory().get("/")
    asked.session = session
    storage = SessionStorage(asked)
    storage.add(constants.SUCCESS, "Your request is withdrawn.")
    storage.update(HttpResponse())
    session.save()
    her.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    response = her.get("/walks/")
    assert "Your request is withdrawn." in response.content.decode()
    assert response.templates  # rendered for her
    assert "Your request is withdrawn." not in kept_for_everyone.get("/walks/").content.decode()
    assert "Your request is withdrawn." not in Client().get("/walks/").content.decode()


def test_a_visitor_with_a_messages_cookie_and_the_csrf_cookie_gets_her_own():
    walk = make_walk()
    Client().get("/walks/")
    Client().get("/walks/")  # kept whole
    her = csrf_only_client(walk)
    storage = CookieStorage(RequestFactory().get("/"))
    storage.add(constants.SUCCESS, "Your booking is cancelled.")
    sent = HttpResponse()
    storage.update(sent)
    her.cookies["messages"] = sent.cookies["messages"].value
    assert "Your booking is cancelled." in her.get("/walks/").content.decode()
    assert (
        "Your booking is cancelled." not in csrf_only_client(walk).get("/walks/").content.decode()
    )


@pytest.mark.parametrize("cookies", ["none", "csrf", "messages"])
def test_every_public_walk_page_varies_on_cookie(cookies):
    """Her messages change the page: no cache between her and the site may serve one
    visitor's copy to another, whichever copy it is (kept whole or rendered for her)."""
    walk = make_walk()
    client = csrf_only_client(walk) if cookies == "csrf" else Client()
    if cookies == "messages":
        storage = CookieStorage(RequestFactory().get("/"))
        storage.add(constants.SUCCESS, "Done.")
        sent = HttpResponse()
        storage.update(sent)
        client.cookies["messages"] = sent.cookies["messages"].value
    for url in ("/walks/", walk.get_absolute_url()):
        for _ in range(2):
            assert "Cookie" in client.get(url)["Vary"]
