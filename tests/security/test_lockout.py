"""django-axes: repeated wrong passwords lock out that username from that address."""

import logging
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a long test password 1"  # tests.factories.make_user


def sign_in(client, username, password):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
    )


def fail(client, username, times):
    return [sign_in(client, username, "wrong password").status_code for _ in range(times)]


@pytest.fixture
def inspector():
    return make_user("Inspectors", officer_bcu="AS")


def test_the_configured_number_of_failures_locks_her_out(settings, inspector):
    client = Client(REMOTE_ADDR="203.0.113.10")
    limit = settings.AXES_FAILURE_LIMIT
    assert fail(client, inspector.username, limit - 1) == [200] * (limit - 1)
    locked = sign_in(client, inspector.username, "wrong password")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Signing in is paused" in page
    assert "Try again in 30 minutes" in page
    # Now even the right password is refused from this address.
    again = sign_in(client, inspector.username, PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session


def test_fewer_failures_than_the_limit_then_the_right_password_signs_in(settings, inspector):
    client = Client(REMOTE_ADDR="203.0.113.10")
    fail(client, inspector.username, settings.AXES_FAILURE_LIMIT - 1)
    response = sign_in(client, inspector.username, PASSWORD)
    assert response.status_code == 302
    # A success clears the count: the next mistakes start from none.
    assert not AccessAttempt.objects.filter(username=inspector.username).exists()


def test_the_lock_is_per_username_and_address(settings, inspector):
    attacker = Client(REMOTE_ADDR="203.0.113.10")
    fail(attacker, inspector.username, settings.AXES_FAILURE_LIMIT)
    # She, at work, is not locked out by someone guessing from elsewhere...
    assert (
        sign_in(Client(REMOTE_ADDR="198.51.100.20"), inspector.username, PASSWORD).status_code
        == 302
    )
    # ...and the guesser's address is not locked for another account.
    other = make_user("Inspectors", officer_bcu="AS")
    assert sign_in(attacker, other.username, PASSWORD).status_code == 302


def test_the_lock_ends_after_the_cool_off(settings, inspector):
    client = Client(REMOTE_ADDR="203.0.113.10")
    fail(client, inspector.username, settings.AXES_FAILURE_LIMIT)
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)):
        assert sign_in(client, inspector.username, PASSWORD).status_code == 302


def test_failures_and_the_lockout_are_logged(settings, inspector, caplog):
    client = Client(REMOTE_ADDR="203.0.113.10")
    with caplog.at_level(logging.WARNING):
        fail(client, inspector.username, settings.AXES_FAILURE_LIMIT)
    assert "Repeated login failure" in caplog.text or "login failed" in caplog.text.lower()
    assert "locked out" in caplog.text.lower()


def test_behind_a_trusted_proxy_each_client_address_is_counted_apart(settings, inspector):
    """One client IP function for axes and the rate limiter: behind one trusted proxy, the
    address the proxy saw, not the proxy's own."""
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.5"
    guesser = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.10")
    fail(guesser, inspector.username, settings.AXES_FAILURE_LIMIT)
    colleague = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert sign_in(colleague, inspector.username, PASSWORD).status_code == 302
    # A guesser who forges the header gains nothing: the proxy appends the real address.
    forged = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.10")
    assert sign_in(forged, inspector.username, PASSWORD).status_code == 429
    assert AccessAttempt.objects.get(username=inspector.username).ip_address == "203.0.113.10"
