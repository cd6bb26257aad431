import pytest
from django.core.cache import cache

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


@pytest.fixture(autouse=True)
def _no_rate_limit_counts_from_earlier_tests(request):
    """The rate-limit counters live in the database cache's table, which the flush after a
    transactional test does not empty: each such test starts with none, so the limit is hit
    only by a test that means to hit it. (Other tests roll the table back anyway.)"""
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        cache.clear()
