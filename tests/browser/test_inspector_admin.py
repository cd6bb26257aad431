"""An inspector in a real browser: logs in to the admin, creates a walk, rosters two officers,
and finds it on the public list; she cannot reach another BCU's walk by its URL; the admin's
own form pages show the site's GOV.UK error summary. An officer sees the walk on /staff/."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from patrols.models import Walk
from patrols.services import roster_officer
from tests.browser.conftest import assert_accessible, enter_security_code, live
from tests.factories import borough, make_officer, make_request, make_user, make_walk

pytestmark = [pytest.mark.browser, live]

PASSWORD = "a long test password 1"


def log_in(page, live_server, user: User):
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    enter_security_code(page, user)
    expect(page.locator("#site-name")).to_contain_text("Walk and Talk")


def test_an_inspector_creates_a_walk_rosters_two_officers_and_sees_it_listed(page, live_server):
    inspector = make_user("Inspectors", officer_bcu="AS")
    make_officer(name="Amira Begum", collar_number="101AS")
    make_officer(name="Chloe Evans", collar_number="102AS")
    make_officer(name="Wendy West", collar_number="101AW", bcu=borough("westminster").bcu)
    log_in(page, live_server, inspector)

    page.goto(f"{live_server.url}/admin/patrols/walk/add/")
    day = timezone.localdate() + timedelta(days=9)
    page.get_by_label("Title").fill("Evening walk on Coldharbour Lane")
    page.get_by_label("Borough").select_option(label="Lambeth")
    # Westminster is not hers to choose.
    expect(page.get_by_label("Borough").locator("option", has_text="Westminster")).to_have_count(0)
    page.get_by_label("Meeting point").fill("Brixton station, Brixton Road exit")
    page.locator("#id_starts_at_0").fill(day.isoformat())
    page.locator("#id_starts_at_1").fill("18:30")
    page.locator("#id_ends_at_0").fill(day.isoformat())
    page.locator("#id_ends_at_1").fill("20:00")
    page.get_by_label("Capacity").fill("10")
    officers = page.locator("#id_roster-0-officer")
    expect(officers.locator("option", has_text="Wendy West")).to_have_count(0)
    officers.select_option(label="Police Constable Amira Begum (101AS)")
    page.locator("#id_roster-0-role").select_option("lead")
    page.locator("#id_roster-1-officer").select_option(label="Police Constable Chloe Evans (102AS)")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    row = page.locator("#result_list tbody tr", has_text="Brixton station, Brixton Road exit")
    expect(row).to_contain_text("2 of 2 officers")
    expect(row).to_contain_text("0 of 10")
    page.screenshot(path="/tmp/h2_walk_changelist.png", full_page=True)

    walk = Walk.objects.get(title="Evening walk on Coldharbour Lane")
    assert f"{timezone.localtime(walk.starts_at):%H:%M}" == "18:30"
    assert walk.roster.count() == 2

    page.goto(f"{live_server.url}/walks/?borough=lambeth")
    card = page.locator(".walk-card", has_text="Evening walk on Coldharbour Lane")
    expect(card).to_contain_text("Meet at Brixton station, Brixton Road exit")


def test_an_inspector_cannot_reach_another_bcus_walk_by_its_url(page, live_server):
    inspector = make_user("Inspectors", officer_bcu="AS")
    theirs = make_walk(borough=borough("westminster"), meeting_point="Victoria station")
    log_in(page, live_server, inspector)
    response = page.goto(f"{live_server.url}/admin/patrols/walk/{theirs.pk}/change/")
    assert response.status == 404
    expect(page.locator("body")).not_to_contain_text("Victoria station")
    page.screenshot(path="/tmp/h2_other_bcu_404.png", full_page=True)


def test_an_admin_form_page_leads_her_from_its_error_summary_to_each_field(page, live_server):
    inspector = make_user("Inspectors", officer_bcu="AS")
    make_officer(name="Amira Begum", collar_number="101AS")
    walk_request = make_request()
    log_in(page, live_server, inspector)
    page.goto(
        live_server.url + reverse("admin:bookings_walkrequest_schedule", args=[walk_request.pk])
    )
    page.get_by_role("button", name="Schedule the walk and tell her").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary).to_be_focused()
    assert_accessible(page)
    summary.get_by_role("link", name="Choose the officers who will walk with her.").click()
    expect(page.get_by_label("Police Constable Amira Begum (101AS)")).to_be_focused()
    summary.get_by_role("link", name="Enter where she meets the officers.").click()
    expect(page.get_by_label("Meeting point")).to_be_focused()


def test_an_officer_sees_her_walk_on_the_staff_page(page, live_server):
    officer_user = make_user("Officers", officer_bcu="AS")
    walk = make_walk(
        starts_at=timezone.now() + timedelta(days=2), meeting_point="Clapham Common, bandstand"
    )
    roster_officer(walk=walk, officer=officer_user.officer)
    roster_officer(walk=walk, officer=make_officer(name="Grace Hussain"))
    page.goto(f"{live_server.url}/staff/")
    # Not logged in: the staff login first, then back to her walks.
    page.get_by_label("Username").fill(officer_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    enter_security_code(page, officer_user)
    expect(page.get_by_role("heading", level=1)).to_have_text("My walks")
    expect(page.locator(".staff-walks")).to_contain_text("Clapham Common, bandstand")
    expect(page.locator(".staff-walks")).to_contain_text("Grace Hussain")
    page.screenshot(path="/tmp/h2_staff_home.png", full_page=True)
    assert_accessible(page)
