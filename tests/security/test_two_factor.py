"""Staff sign-in: a password, then a code from an authenticator app, before any staff page."""

import logging
from datetime import timedelta
from urllib.parse import quote

import pytest
import time_machine
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import (
    login_staff,
    make_assignment,
    make_totp_device,
    make_user,
    make_walk,
    totp_code,
)

pytestmark = pytest.mark.django_db

PASSWORD = "a long test password 1"  # tests.factories.make_user


@pytest.fixture
def walk():
    starts = timezone.now() - timedelta(hours=2)
    return make_walk(starts_at=starts, ends_at=starts + timedelta(minutes=90))


@pytest.fixture
def staff_pages(walk):
    """Every kind of staff page: the admin, a model in it, the officers' pages (a debrief
    included), the reports and their CSV."""
    return [
        "/admin/",
        "/admin/patrols/walk/",
        f"/admin/patrols/walk/{walk.pk}/change/",
        "/admin/personal-data/",
        "/staff/",
        f"/staff/walks/{walk.code}/debrief/",
        "/reports/",
        "/reports/concerns.csv",
    ]


def password_only(client, user):
    """Signed in with her password only: the second step not done."""
    client.force_login(user)
    return user


def test_a_superuser_with_only_her_password_reaches_no_staff_page(client, staff_pages):
    password_only(client, make_user(is_superuser=True))
    for page in staff_pages:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"] == f"/staff/two-factor/?next={quote(page)}", page


def test_an_officer_with_only_her_password_cannot_open_her_debrief(client, walk):
    officer = make_user("Officers", officer_bcu="AS")
    make_assignment(walk, officer.officer)
    make_totp_device(officer)  # she has an app, but has not entered a code this session
    password_only(client, officer)
    response = client.get(f"/staff/walks/{walk.code}/debrief/")
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/two-factor/")


def test_a_commander_with_only_her_password_gets_no_report_and_no_csv(client):
    password_only(client, make_user("Commanders", officer_bcu=""))
    for page in ("/reports/", "/reports/concerns.csv?from=2026-01-01&to=2026-02-01"):
        response = client.get(page)
        assert response.status_code == 302
        assert b"," not in response.content  # not a line of the CSV


def test_a_post_without_the_second_factor_changes_nothing(client, walk):
    password_only(client, make_user(is_superuser=True))
    response = client.post(
        f"/admin/patrols/walk/{walk.pk}/change/", {"title": "Renamed by an intruder"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/staff/two-factor/"
    walk.refresh_from_db()
    assert walk.title != "Renamed by an intruder"


def test_with_both_steps_she_reaches_every_staff_page(client, staff_pages):
    login_staff(client, make_user(is_superuser=True))
    for page in ("/admin/", "/admin/patrols/walk/", "/reports/", "/admin/personal-data/"):
        assert client.get(page).status_code == 200, page


def test_signed_out_visitors_are_sent_to_the_password_page_first(client, staff_pages):
    for page in staff_pages:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith("/admin/login/"), page


def test_the_sign_in_pages_need_no_second_factor(client):
    password_only(client, make_user(is_superuser=True))
    assert client.get("/admin/login/").status_code in (200, 302)
    assert client.post("/admin/logout/").status_code in (200, 302)


def test_after_her_password_the_login_form_takes_her_to_enter_her_code(client):
    user = make_user(is_superuser=True)
    make_totp_device(user)
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": user.username, "password": PASSWORD, "next": "/admin/"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/staff/two-factor/?next=/admin/"
    assert "Enter your security code" in response.content.decode()


def test_the_right_code_opens_the_staff_pages_for_this_session(client):
    user = password_only(client, make_user(is_superuser=True))
    device = make_totp_device(user)
    key_before = client.session.session_key
    response = client.post(
        "/staff/two-factor/", {"code": totp_code(device), "next": "/admin/patrols/walk/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/patrols/walk/"
    assert client.session.session_key != key_before  # a new session for the raised privilege
    assert client.get("/admin/patrols/walk/").status_code == 200


def test_a_wrong_code_is_refused_with_a_clear_message(client, caplog):
    user = password_only(client, make_user(is_superuser=True))
    device = make_totp_device(user)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    with caplog.at_level(logging.WARNING, logger="walkandtalk.two_factor"):
        response = client.post("/staff/two-factor/", {"code": wrong, "next": "/admin/"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page
    assert 'href="#id_code"' in page
    assert "That code is not right" in page
    assert "Second factor refused" in caplog.text
    assert client.get("/admin/").status_code == 302


def test_a_code_is_not_accepted_twice(client):
    user = password_only(client, make_user(is_superuser=True))
    device = make_totp_device(user)
    code = totp_code(device)
    assert client.post("/staff/two-factor/", {"code": code}).status_code == 302
    password_only(client, user)  # signed in again: the same code must not open it again
    assert client.post("/staff/two-factor/", {"code": code}).status_code == 400


def test_guessing_codes_is_slowed_down(client):
    user = password_only(client, make_user(is_superuser=True))
    device = make_totp_device(user)
    for _ in range(3):
        client.post("/staff/two-factor/", {"code": "000000"})
    # Even the right code waits out the throttle after repeated wrong ones.
    response = client.post("/staff/two-factor/", {"code": totp_code(device)})
    assert response.status_code == 400
    assert "Too many wrong codes" in response.content.decode()


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 56", "<b>1</b>"])
def test_a_code_that_is_not_six_digits_is_refused(client, code):
    user = password_only(client, make_user(is_superuser=True))
    make_totp_device(user)
    response = client.post("/staff/two-factor/", {"code": code})
    assert response.status_code == 400
    assert "<b>1</b>" not in response.content.decode()


def test_next_never_leads_to_another_site(client):
    user = password_only(client, make_user(is_superuser=True))
    device = make_totp_device(user)
    response = client.post(
        "/staff/two-factor/", {"code": totp_code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/admin/"


def test_without_an_app_she_is_sent_to_set_one_up(client):
    password_only(client, make_user("Inspectors", officer_bcu="AS"))
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/staff/two-factor/setup/?next=%2Fadmin%2F"
    page = response.content.decode()
    assert "Set up your authenticator app" in page
    assert 'src="/staff/two-factor/qr.svg"' in page


def test_setting_up_shows_a_qr_code_drawn_here_and_the_key_to_type(client):
    user = password_only(client, make_user("Inspectors", officer_bcu="AS"))
    page = client.get("/staff/two-factor/setup/").content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    qr = client.get("/staff/two-factor/qr.svg")
    assert qr.status_code == 200
    assert qr["Content-Type"] == "image/svg+xml"
    assert qr.content.startswith(b"<svg")
    assert b"<script" not in qr.content
    assert "no-store" in qr["Cache-Control"]
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in page
    # Reloading keeps the same key, so a code from the app she has just scanned still works.
    client.get("/staff/two-factor/setup/")
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_her_first_code_confirms_the_app_and_opens_the_staff_pages(client):
    user = password_only(client, make_user("Inspectors", officer_bcu="AS"))
    client.get("/staff/two-factor/setup/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(
        "/staff/two-factor/setup/", {"code": totp_code(device), "next": "/admin/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/").status_code == 200


def test_a_wrong_first_code_does_not_confirm_the_app(client):
    user = password_only(client, make_user("Inspectors", officer_bcu="AS"))
    client.get("/staff/two-factor/setup/")
    response = client.post("/staff/two-factor/setup/", {"code": "000000"})
    assert response.status_code == 400
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert client.get("/admin/").status_code == 302


def test_someone_with_an_app_cannot_set_up_another_with_her_password_alone(client):
    user = password_only(client, make_user(is_superuser=True))
    make_totp_device(user)
    response = client.get("/staff/two-factor/setup/")
    assert response.status_code == 302
    assert response["Location"] == "/staff/two-factor/"
    assert client.get("/staff/two-factor/qr.svg").status_code == 404


def test_the_two_factor_pages_need_her_password_first(client):
    for page in ("/staff/two-factor/", "/staff/two-factor/setup/", "/staff/two-factor/qr.svg"):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_staff_sessions_end_after_a_few_hours_and_with_the_browser(client, settings):
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert settings.SESSION_COOKIE_AGE <= 8 * 60 * 60
    user = login_staff(client, make_user(is_superuser=True))
    assert client.get("/admin/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 1)):
        response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert user.is_authenticated


def test_with_the_second_factor_switched_off_a_password_is_enough(client, settings):
    settings.STAFF_OTP_REQUIRED = False
    password_only(client, make_user(is_superuser=True))
    assert client.get("/admin/").status_code == 200


def test_passwords_must_be_long_and_not_common(settings):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ("short1", "password1234", "123456789012"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password("a walk along the towpath at dusk")
