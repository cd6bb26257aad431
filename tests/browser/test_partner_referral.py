"""A referral in a real browser: an inspector refers a concern from its page in the admin
(the default partner proposed), the partner opens the link from its email on a phone, marks
the concern fixed, and "You said, we did" shows it. axe-core finds nothing on either page."""

import pytest
from django.core import mail
from playwright.sync_api import expect

from bookings.delivery import deliver_due_notifications
from tests.browser.conftest import assert_accessible, live
from tests.browser.test_inspector_admin import log_in
from tests.factories import make_user
from tests.partners.helpers import concern_she_asked_about, link_in, make_partner

pytestmark = [pytest.mark.browser, live]


def test_an_inspector_refers_and_the_partner_marks_it_fixed_on_a_phone(page, live_server):
    inspector = make_user("Inspectors", officer_bcu="AS")
    make_partner("lambeth", name="Lambeth highways", kind="highways")
    lighting = make_partner("lambeth", default_for=["poorly_lit"], name="Lambeth street lighting")
    concern = concern_she_asked_about()

    log_in(page, live_server, inspector)
    page.goto(f"{live_server.url}/admin/concerns/concern/{concern.pk}/change/")
    page.get_by_role("link", name="Refer to a partner").click()
    partner = page.get_by_label("Partner")
    expect(partner.locator("option:checked")).to_have_text("Lambeth street lighting")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Referred to Lambeth street lighting")

    assert deliver_due_notifications() == {"sent": 1}
    [email] = mail.outbox
    assert email.to == [lighting.email]
    link = link_in(email.body)

    page.context.clear_cookies()  # the partner has no account
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}{link}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Poorly lit")
    assert_accessible(page)
    date_box = page.get_by_label("The date you will fix it by")
    expect(date_box).to_be_hidden()
    page.get_by_label("We will fix it").check()
    expect(date_box).to_be_visible()  # revealed under its answer
    page.get_by_label("It is fixed").check()
    expect(date_box).to_be_hidden()
    page.get_by_label("Anything to add? (optional)").fill("Three new lamps fitted.")
    page.screenshot(path="/tmp/partner-answer-390.png", full_page=True)
    page.get_by_role("button", name="Send our answer").click()
    expect(page.get_by_role("status")).to_contain_text("Thank you: your answer is recorded.")
    expect(page.get_by_text("You told us it is fixed")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(page)
    page.screenshot(path="/tmp/partner-answered-390.png", full_page=True)

    page.goto(f"{live_server.url}/you-said-we-did/")
    card = page.locator(".you-said-list li", has_text="The footpath by the railway arches")
    expect(card).to_contain_text("Fixed by Lambeth street lighting. Three new lamps fitted.")
    expect(card).to_contain_text("Council street lighting")
    assert_accessible(page)
    page.screenshot(path="/tmp/partner-you-said-390.png", full_page=True)


def test_an_unanswered_form_shows_the_error_summary_accessibly(page, live_server):
    inspector = make_user("Inspectors", officer_bcu="AS")
    from partners.services import refer_concern

    referral = refer_concern(
        concern=concern_she_asked_about(), partner=make_partner("lambeth"), by=inspector
    )
    from tests.partners.helpers import link_path

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}{link_path(referral)}")
    page.get_by_label("It is not ours to fix").check()
    page.get_by_role("button", name="Send our answer").click()
    expect(page.locator("#error-summary")).to_contain_text("Say who is responsible")
    expect(page.get_by_label("Who is responsible for it?")).to_be_visible()
    assert_accessible(page)
    page.screenshot(path="/tmp/partner-error-390.png", full_page=True)
