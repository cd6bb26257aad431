"""Error pages with DEBUG off: friendly, and revealing nothing about the system."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from tests.factories import login_staff, make_user, make_walk

pytestmark = pytest.mark.django_db

GIVEAWAYS = [
    "Traceback",
    "Exception",
    "Error at /",
    "django",
    "Django",
    "settings",
    "/work/",
    "site-packages",
    "hunter2",
    "amira",
    "CSRF",
    "DisallowedHost",
    "evil.example",
    "superusers",
    "No such",
]


def assert_reveals_nothing(response, status):
    assert response.status_code == status
    page = response.content.decode()
    for giveaway in GIVEAWAYS:
        assert giveaway not in page, giveaway
    assert 'call <a href="tel:101">101</a>' in page  # a way to get help from every error
    # The whole layout: its links, and the exit control with somewhere to go.
    assert 'href="/help/"' in page and 'href="/walks/"' in page
    assert f'href="{settings.EXIT_URL}" rel="noreferrer"' in page
    assert "Server" not in response.headers and "X-Powered-By" not in response.headers
    assert "Content-Security-Policy" in response.headers


def test_a_bad_request_400(client):
    response = client.get("/", HTTP_HOST="evil.example")
    assert_reveals_nothing(response, 400)
    assert "Sorry, there is a problem with that request" in response.content.decode()


def test_a_form_without_its_security_token_403():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/request/", {"full_name": "Amira", "email": "amira@example.org"})
    assert_reveals_nothing(response, 403)
    assert "the form could not be sent" in response.content.decode()


def test_a_page_she_may_not_see_403(client):
    login_staff(client, make_user("Inspectors", officer_bcu="AS"))
    response = client.get("/admin/personal-data/")
    assert_reveals_nothing(response, 403)
    assert "You cannot see this page" in response.content.decode()


@pytest.mark.parametrize(
    "path", ["/no-such-page/", "/bookings/manage/not-a-token/", "/walks/not-a-walk/"]
)
def test_a_page_that_is_not_there_404(client, path):
    assert_reveals_nothing(client.get(path), 404)


def test_too_many_attempts_429(settings):
    settings.PUBLIC_FORM_RATE_LIMIT = "1/600"
    cache.clear()
    client = Client(REMOTE_ADDR="203.0.113.7")
    walk = make_walk()
    client.post(f"/walks/{walk.code}/book/", {})
    response = client.post(f"/walks/{walk.code}/book/", {})
    assert_reveals_nothing(response, 429)
    assert "203.0.113.7" not in response.content.decode()


@pytest.mark.urls("tests.security.error_urls")
def test_a_failure_in_the_app_500():
    client = Client(raise_request_exception=False)
    response = client.get("/broken/")
    assert_reveals_nothing(response, 500)
    assert "Sorry, there is a problem with the service" in response.content.decode()
