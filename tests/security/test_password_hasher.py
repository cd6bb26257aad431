"""Passwords: production hashes them with Django's PBKDF2; the tests hash with MD5 for speed
(tests/conftest.py), which must never reach the settings production loads."""

import pytest
from django.conf import global_settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher, identify_hasher, make_password

from tests.factories import make_user
from walkandtalk import settings as project_settings

pytestmark = pytest.mark.django_db

PRODUCTION_HASHERS = getattr(project_settings, "PASSWORD_HASHERS", global_settings.PASSWORD_HASHERS)


def test_production_hashes_with_pbkdf2_and_never_md5():
    assert PRODUCTION_HASHERS[0] == "django.contrib.auth.hashers.PBKDF2PasswordHasher"
    assert not any("MD5" in hasher or "Unsalted" in hasher for hasher in PRODUCTION_HASHERS)


def test_a_password_set_under_production_settings_is_pbkdf2_and_still_checks(settings):
    settings.PASSWORD_HASHERS = PRODUCTION_HASHERS
    user = make_user(username="hasher")
    user.set_password("a long test password 2")
    user.save()
    user.refresh_from_db()
    hasher = identify_hasher(user.password)
    assert hasher.algorithm == "pbkdf2_sha256"
    assert hasher.decode(user.password)["iterations"] == PBKDF2PasswordHasher.iterations
    assert user.check_password("a long test password 2")
    assert not user.check_password("a long test password 3")


def test_the_tests_themselves_hash_with_md5():
    assert identify_hasher(make_password("anything")).algorithm == "md5"
