import pytest
from django.core.cache import cache, caches
from django.test import override_settings

from walkandtalk import breaker, sms

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Playwright drives Debian's Chromium; it cannot download browsers of its own here."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hasher():
    """Django's PBKDF2 takes a quarter of a second per password, and many tests make a user or
    sign one in. Hash with MD5 here: fast and worthless, so for tests only. The production
    hasher has its own test (tests/security/test_password_hasher.py), which puts it back."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _texts_kept_in_memory(settings):
    """Texts go to walkandtalk.sms.outbox, as Django's test runner keeps emails in
    mail.outbox; a test of another backend sets SMS_BACKEND itself."""
    settings.SMS_BACKEND = "walkandtalk.sms.LocmemBackend"
    sms.outbox.clear()


@pytest.fixture(autouse=True)
def _no_server_taken_as_down_by_earlier_tests():
    breaker.forget()


@pytest.fixture(autouse=True)
def _no_pages_kept_from_earlier_tests():
    """Each web process keeps the public walk pages it rendered (website/pagecache.py); the
    test process is one such process across every test, whose data is rolled back or flushed."""
    caches["pages"].clear()


@pytest.fixture(autouse=True)
def _no_rate_limit_counts_from_earlier_tests(request):
    """The rate-limit counters live in the database cache's table, which the flush after a
    transactional test does not empty: each such test starts with none, so the limit is hit
    only by a test that means to hit it. (Other tests roll the table back anyway.)"""
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        cache.clear()


# Reference data (BCUs, boroughs, groups) for transactional tests. Django keeps the database as
# it stood after the migrations on the connection object, and a transactional test with
# serialized_rollback reloads it from there after the previous test's flush. But once Playwright
# is running, its event loop makes Django keep connections per context rather than per thread:
# a browser test then sees a fresh connection object without the saved copy, and after a flush
# its fixtures found no boroughs (whenever another database test had set the database up
# first). Keep the copy here and give it to whichever connection the test is about to use.
_serialized_contents: dict[str, str] = {}


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    if fixturedef.argname == "_django_db_helper":  # django_db_setup has run by now
        from django.db import connections

        for connection in connections.all():
            if hasattr(connection, "_test_serialized_contents"):
                _serialized_contents[connection.alias] = connection._test_serialized_contents
            elif connection.alias in _serialized_contents:
                connection._test_serialized_contents = _serialized_contents[connection.alias]
    return (yield)


QUERY_COUNTING_FIXTURES = {"django_assert_num_queries", "django_assert_max_num_queries"}


def pytest_collection_modifyitems(config, items):
    """The query- and statement-count tests carry the `querycount` marker, so they can be run
    alone (`-m querycount`) after a change to a page or a service. One that counts with
    pytest-django's fixtures and forgets the marker stops the run here; one that counts with
    CaptureQueriesContext is marked by hand."""
    unmarked = [
        item.nodeid
        for item in items
        if QUERY_COUNTING_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("querycount") is None
    ]
    if unmarked:
        raise pytest.UsageError("Mark these query-count tests querycount: " + ", ".join(unmarked))
