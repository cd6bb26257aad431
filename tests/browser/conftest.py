import pytest
from axe_playwright_python.sync_playwright import Axe

# Reference data from migrations survives the flush after each live-server test.
live = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def assert_accessible(page):
    """axe-core in the real browser: no WCAG 2.2 A/AA violation, nor best practice."""
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


@pytest.fixture
def exit_site(page):
    """The neutral exit site, answered locally: this machine has no internet."""
    page.route("https://www.bbc.co.uk/**", lambda route: route.fulfill(body="<h1>Weather</h1>"))
    return "https://www.bbc.co.uk/weather"
