"""Headers and cookies on every kind of page: public, token, staff and report."""

import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from patrols.models import Walk
from tests.factories import login_staff, make_assignment, make_booking, make_user, make_walk
from walkandtalk.security import client_ip

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def csp(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_common_headers(response):
    policy = csp(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["script-src"][0] == "'self'"
    assert all(v == "'self'" or v.startswith("'nonce-") for v in policy["script-src"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    # Nothing from other sites: every source is this site (or data: images from our CSS).
    sources = {v for values in policy.values() for v in values}
    assert sources <= {"'self'", "'none'", "data:"} | {
        v for v in sources if v.startswith("'nonce-")
    }
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def assert_not_stored(response):
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


@pytest.fixture
def walk_today():
    starts = timezone.now() - timedelta(hours=2)
    return make_walk(starts_at=starts, ends_at=starts + timedelta(minutes=90))


@pytest.mark.parametrize("path", ["/", "/walks/", "/request/", "/privacy/", "/you-said-we-did/"])
def test_public_pages(client, path):
    response = client.get(path, secure=True)
    assert response.status_code == 200
    assert_common_headers(response)
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" not in response.get("Cache-Control", "")


def test_the_nonce_in_the_header_is_the_one_on_the_page(client):
    response = client.get("/", secure=True)
    nonce = next(v for v in csp(response)["script-src"] if v.startswith("'nonce-"))[7:-1]
    assert f'nonce="{nonce}"' in response.content.decode()
    assert nonce != csp(client.get("/", secure=True))["script-src"][1][7:-1]  # new each time


def test_the_manage_page(client):
    booking = make_booking()
    response = client.get(f"/bookings/manage/{booking.manage_token()}/", secure=True)
    assert response.status_code == 200
    assert_common_headers(response)
    assert_not_stored(response)
    assert response["Referrer-Policy"] == "no-referrer"


def test_a_wrong_token_gets_the_same_headers(client):
    for page in ("/bookings/manage/not-a-token/", "/feedback/not-a-token/"):
        response = client.get(page, secure=True)
        assert response.status_code == 404
        assert_not_stored(response)
        assert response["Referrer-Policy"] == "no-referrer"


def test_the_survey_page(client):
    starts = timezone.now() - timedelta(days=1)
    walk = make_walk(starts_at=starts, status=Walk.Status.COMPLETED)
    booking = make_booking(walk=walk, status="attended")
    response = client.get(f"/feedback/{booking.survey_token()}/", secure=True)
    assert response.status_code == 200
    assert_common_headers(response)
    assert_not_stored(response)
    assert response["Referrer-Policy"] == "no-referrer"


def test_staff_pages(client, walk_today):
    officer = login_staff(client, make_user("Officers", officer_bcu="AS"))
    make_assignment(walk_today, officer.officer)
    for page in ("/staff/", f"/staff/walks/{walk_today.code}/debrief/"):
        response = client.get(page, secure=True)
        assert response.status_code == 200, page
        assert_common_headers(response)
        assert_not_stored(response)
        assert response["Referrer-Policy"] == "same-origin"


def test_admin_pages(client, walk_today):
    login_staff(client, make_user(is_superuser=True))
    for page in ("/admin/", "/admin/patrols/walk/", f"/admin/patrols/walk/{walk_today.pk}/change/"):
        response = client.get(page, secure=True)
        assert response.status_code == 200, page
        assert_common_headers(response)
        assert_not_stored(response)


def test_report_pages(client):
    login_staff(client, make_user("Commanders", officer_bcu=""))
    page = client.get("/reports/", secure=True)
    assert page.status_code == 200
    assert_common_headers(page)
    assert_not_stored(page)
    csv = client.get("/reports/concerns.csv", secure=True)
    assert csv.status_code == 200
    assert_not_stored(csv)
    assert csv["X-Content-Type-Options"] == "nosniff"


def test_even_a_redirect_to_sign_in_is_not_stored(client):
    response = client.get("/reports/", secure=True)
    assert response.status_code == 302
    assert_not_stored(response)


def test_cookies_are_host_only_secure_and_kept_from_scripts(client):
    form = client.get("/request/", secure=True)
    csrf = form.cookies["__Host-csrftoken"]
    assert csrf["secure"] and csrf["path"] == "/" and not csrf["domain"]
    assert csrf["samesite"] == "Lax"
    # Nothing of this site stays on a shared device once the browser is closed.
    assert not csrf["expires"] and not csrf["max-age"]
    login = client.post(
        "/admin/login/",
        {"username": make_user().username, "password": "a long test password 1"},
        secure=True,
    )
    session = login.cookies["__Host-sessionid"]
    assert session["secure"] and session["httponly"] and session["path"] == "/"
    assert not session["domain"]
    assert not session["expires"]  # ends when the browser closes
    assert "sessionid" not in login.cookies and "csrftoken" not in form.cookies


def test_check_deploy_with_production_settings_prints_no_issues():
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"SECURE_SSL_REDIRECT", "DEBUG", "STAFF_OTP_REQUIRED", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="0",
        ALLOWED_HOSTS="walkandtalk.example.org",
        SITE_URL="https://walkandtalk.example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, output
    assert re.fullmatch(r"System check identified no issues \(\d+ silenced\)\.", output), output


def test_production_settings_require_the_second_factor_and_hsts():
    assert settings.STAFF_OTP_REQUIRED
    assert settings.SECURE_HSTS_SECONDS >= 31536000
    assert settings.SECURE_HSTS_INCLUDE_SUBDOMAINS
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE


class Request:
    def __init__(self, remote, forwarded=None):
        self.META = {"REMOTE_ADDR": remote}
        if forwarded is not None:
            self.META["HTTP_X_FORWARDED_FOR"] = forwarded


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(Request("203.0.113.7", "192.0.2.1")) == "203.0.113.7"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "192.0.2.1, 203.0.113.7", "203.0.113.7"),  # she typed the first one herself
        (2, "192.0.2.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (1, "2001:db8::1", "2001:db8::1"),
        (2, "203.0.113.7", "10.0.0.1"),  # fewer entries than proxies: not trusted
        (1, "", "10.0.0.1"),
        (1, "not an address", "10.0.0.1"),
        (1, "203.0.113.7, <script>", "10.0.0.1"),
    ],
)
def test_behind_trusted_proxies_the_client_is_counted_from_the_right(
    settings, proxies, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_ip(Request("10.0.0.1", forwarded)) == expected


def test_the_rate_limiter_and_axes_use_the_same_client_ip_function(settings):
    from walkandtalk import ratelimit

    assert ratelimit.client_ip is client_ip
    assert settings.AXES_CLIENT_IP_CALLABLE == "walkandtalk.security.client_ip"


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/walks/{code}/book/", {"full_name": "Amira Begum", "phone": "07700 900982"}),
        ("/request/", {"full_name": "Amira Begum", "phone": "07700 900982"}),
        ("/bookings/lost-link/", {"email": "amira@example"}),
    ],
)
def test_a_form_shown_again_with_what_she_typed_is_never_stored(client, path, data):
    """Her name and phone number, in a page the browser's history or a proxy could keep."""
    response = client.post(path.format(code=make_walk().code), data, secure=True)
    assert response.status_code == 400
    assert data[next(iter(data))] in response.content.decode()
    assert_not_stored(response)
