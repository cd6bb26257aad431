"""Every form is drawn by one GOV.UK layout through django-crispy-forms (templates/bootstrap5/):
no page draws its fields by hand, and the error summary at the top of a public form, the
debrief and an admin page of our own links to each field in error."""

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from tests.factories import (
    login_staff,
    make_assignment,
    make_booking,
    make_officer,
    make_request,
    make_user,
    make_walk,
)

LONDON = ZoneInfo("Europe/London")
TEMPLATES = Path(settings.BASE_DIR) / "templates"
LAYOUT = TEMPLATES / "bootstrap5"

# The hand-made kits the layout replaced: no template may include them again.
OLD_KITS = [
    "bookings/includes/field.html",
    "bookings/includes/checkbox.html",
    "bookings/includes/field_error.html",
    "bookings/includes/error_summary.html",
    "bookings/includes/form_fields.html",
    "concerns/_field.html",
    "concerns/_field_errors.html",
    "concerns/_radios.html",
    "concerns/_error_summary.html",
    "admin/includes/wt_form.html",
]


def page_templates():
    return [path for path in TEMPLATES.rglob("*.html") if LAYOUT not in path.parents]


def test_the_hand_made_form_kits_are_gone_and_nothing_includes_them():
    for kit in OLD_KITS:
        assert not (TEMPLATES / kit).exists(), kit
    for path in page_templates():
        text = path.read_text()
        for kit in OLD_KITS:
            assert kit not in text, f"{path.relative_to(TEMPLATES)} includes {kit}"


def test_only_the_layout_draws_a_hint_or_a_field_error():
    """A page asks crispy for its fields; the hint and error markup live in one place."""
    for path in page_templates():
        text = path.read_text()
        assert "field-error-message" not in text, path.relative_to(TEMPLATES)
        assert "_helptext" not in text, path.relative_to(TEMPLATES)


def test_the_layout_loads_nothing_from_another_site():
    for path in LAYOUT.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"https?://|//cdn|<script|<link", text), path


def summary_anchors(html: str) -> list[str]:
    """The ids the error summary links to, after checking it is the GOV.UK summary: an alert
    that takes the focus (tabindex -1) and that the page's script focuses."""
    opening = re.search(r'<div class="error-summary"[^>]*>', html).group(0)
    assert 'id="error-summary"' in opening
    assert 'role="alert"' in opening
    assert 'tabindex="-1"' in opening
    assert "js/error_summary" in html
    summary = html[html.index(opening) :]
    summary = summary[: summary.index("</div>")]
    return re.findall(r'href="#([^"]+)"', summary)


def assert_each_link_reaches_its_field(html: str, anchors: list[str]) -> None:
    """Each anchor is a control on the page, marked invalid; its error message is there, with
    a hidden "Error:" before it, and is named by an aria-describedby (the control's, or its
    group's fieldset's)."""
    for anchor in anchors:
        control = re.search(rf'<(?:input|select|textarea)[^>]* id="{anchor}"[^>]*>', html)
        assert control, f"nothing on the page has the id {anchor}"
        assert 'aria-invalid="true"' in control.group(0)
        field_id = re.sub(r"_0$", "", anchor)
        error = re.search(rf'<p class="field-error-message" id="{field_id}_error">(.*?)</p>', html)
        assert error, f"no error message for {field_id}"
        assert error.group(1).startswith('<span class="visually-hidden">Error:</span> ')
        assert re.search(rf'aria-describedby="[^"]*\b{field_id}_error\b', html)


@pytest.mark.django_db
def test_the_booking_forms_summary_links_to_each_field_in_error(client):
    walk = make_walk()
    response = client.post(
        reverse("website:book", args=[walk.code]),
        {"full_name": "Amira Begum", "email": "not an email", "discreet_emails": "maybe"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    anchors = summary_anchors(html)
    assert anchors == [
        "id_email",
        "id_discreet_emails",
        "id_age_confirmed",
        "id_privacy_accepted",
    ]
    assert_each_link_reaches_its_field(html, anchors)
    # The hint and the error both describe the control, hint first (GOV.UK's order).
    assert 'aria-describedby="id_email_helptext id_email_error"' in html


@pytest.mark.django_db
@time_machine.travel(datetime(2026, 11, 19, 19, 45, tzinfo=LONDON), tick=False)
def test_the_debriefs_summary_links_to_the_attendance_radios_and_the_concerns_fields(client):
    walk = make_walk(starts_at=datetime(2026, 11, 19, 18, 0, tzinfo=LONDON))
    user = make_user("Officers", officer_bcu="AS")
    make_assignment(walk, user.officer)
    came, unknown = make_booking(walk=walk), make_booking(walk=walk)
    login_staff(client, user)
    data = {
        "concerns-TOTAL_FORMS": "1",
        "concerns-INITIAL_FORMS": "0",
        "concerns-MIN_NUM_FORMS": "0",
        "concerns-MAX_NUM_FORMS": "20",
        f"booking_{came.pk}": "attended",
        "concerns-0-category": "",
        "concerns-0-location_text": "The underpass by the station",
        "concerns-0-times_unsafe": "",
        "concerns-0-description": "No lights at all.",
    }
    response = client.post(reverse("staff:debrief", args=[walk.code]), data)
    assert response.status_code == 400
    html = response.content.decode()
    anchors = summary_anchors(html)
    assert anchors == [
        f"id_booking_{unknown.pk}_0",
        "id_concerns-0-category",
        "id_concerns-0-times_unsafe_0",
    ]
    assert_each_link_reaches_its_field(html, anchors)
    assert "Concern 1: Choose what the concern is about" in html


@pytest.mark.django_db
def test_an_admin_pages_summary_links_to_each_field_in_error(client):
    login_staff(client, make_user("Inspectors", officer_bcu="AS"))
    make_officer()
    walk_request = make_request()
    response = client.post(reverse("admin:bookings_walkrequest_schedule", args=[walk_request.pk]))
    assert response.status_code == 400
    html = response.content.decode()
    anchors = summary_anchors(html)
    assert anchors == ["id_starts_at", "id_duration_0", "id_meeting_point", "id_officers_0"]
    assert_each_link_reaches_its_field(html, anchors)
