"""The admin's concern form in a real browser at phone width: text that may name a person is
held back with the reason beside it, saved once she confirms; axe-core finds nothing."""

import pytest
from playwright.sync_api import expect

from concerns.models import Concern
from tests.browser.conftest import assert_accessible, live
from tests.browser.test_inspector_admin import log_in
from tests.factories import make_user

pytestmark = [pytest.mark.browser, live]


def test_an_inspector_confirms_a_concern_that_looks_as_if_it_names_someone(page, live_server):
    inspector = make_user("Inspectors", officer_bcu="AS")
    log_in(page, live_server, inspector)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/admin/concerns/concern/add/")
    page.get_by_label("Borough").select_option(label="Lambeth")
    page.get_by_label("Category").select_option(index=1)
    page.get_by_label("Location").fill("The footpath by the railway arches")
    page.get_by_label("After dark").check()
    page.locator("#id_description").fill("A man called Dave waits by the arches every night.")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".errorlist")).to_contain_text("This looks like it may name a person.")
    assert not Concern.objects.exists()
    assert_accessible(page)
    page.screenshot(path="/tmp/admin-concern-name-warning-390.png", full_page=True)

    page.get_by_label("I have checked: this concern does not name or identify a person").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert Concern.objects.get().description.startswith("A man called Dave")
