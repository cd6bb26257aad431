"""Actions on concerns: what was done, by whom, with which partner; the status moves with it."""

from html.parser import HTMLParser

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from bookings.models import Notification
from concerns.models import Concern, ConcernAction, ConcernStatus
from concerns.services import record_action
from tests.factories import (
    borough,
    login_staff,
    make_action,
    make_booking,
    make_concern,
    make_feedback,
    make_user,
    make_walk,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def inspector():
    return make_user("Inspectors", officer_bcu="AS")


@pytest.fixture
def concern():
    return make_concern(walk=make_walk(status="completed"))


def change_url(concern):
    return reverse("admin:concerns_concern_change", args=[concern.pk])


class FormValues(HTMLParser):
    """The values a browser would submit from the admin's change form, as it stands."""

    def __init__(self):
        super().__init__()
        self.values, self._select, self._textarea = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "checkbox", "radio"):
            self.values[name] = attrs.get("value") or ""
        elif tag == "input" and name and "checked" in attrs:
            self.values[name] = attrs.get("value", "on")
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data.lstrip("\n")


def form_values(client, url):
    parser = FormValues()
    parser.feed(client.get(url).content.decode())
    return {k: v for k, v in parser.values.items() if "__prefix__" not in k}


def new_action_fields(values):
    """The prefix of the empty "add an action" form (the second inline on the page)."""
    notes = [k for k in values if k.endswith("-0-note")]
    assert len(notes) == 1, notes
    return notes[0].removesuffix("-0-note")


# --- The service ----------------------------------------------------------------------------


def test_an_action_is_recorded_and_moves_the_status(concern, inspector):
    action = record_action(
        concern=concern,
        note="Referred to the council lighting team.",
        status=ConcernStatus.REFERRED,
        partner="council_lighting",
        by=inspector,
    )
    concern.refresh_from_db()
    assert (concern.status, concern.partner) == ("referred", "council_lighting")
    assert (action.by, action.status, action.partner) == (inspector, "referred", "council_lighting")
    assert action.note == "Referred to the council lighting team."


def test_the_history_keeps_every_action_in_order(concern, inspector):
    record_action(
        concern=concern, note="Referred.", status="referred", partner="parks", by=inspector
    )
    record_action(concern=concern, note="Hedges cut.", status="actioned", partner="", by=inspector)
    record_action(concern=concern, note="Checked again.", status="closed", partner="", by=inspector)
    assert list(concern.actions.values_list("note", flat=True)) == [
        "Referred.",
        "Hedges cut.",
        "Checked again.",
    ]
    concern.refresh_from_db()
    # An action with no partner keeps the partner the concern was referred to.
    assert (concern.status, concern.partner) == ("closed", "parks")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"note": "  "}, "no_note"),
        ({"note": "x" * 2001}, "note_too_long"),
        ({"status": "fixed"}, "bad_status"),
        ({"partner": "the mayor"}, "bad_partner"),
        ({"status": "referred", "partner": ""}, "partner_required"),
    ],
)
def test_a_bad_action_is_refused_and_nothing_changes(concern, inspector, fields, code):
    arguments = {"note": "Done.", "status": "actioned", "partner": "parks", **fields}
    with pytest.raises(ValidationError) as error:
        record_action(concern=concern, by=inspector, **arguments)
    assert error.value.code == code
    assert not ConcernAction.objects.exists()
    assert Concern.objects.get(pk=concern.pk).status == "open"


def test_an_inspector_cannot_act_on_another_bcus_concern(concern):
    westminster = make_user("Inspectors", officer_bcu="AW")
    with pytest.raises(PermissionDenied):
        record_action(concern=concern, note="Done.", status="actioned", partner="", by=westminster)
    assert not ConcernAction.objects.exists()


# --- The admin ------------------------------------------------------------------------------


def test_an_inspector_adds_an_action_in_the_admin(client, concern, inspector):
    make_action(concern, note="Referred to parks.", status="referred", partner="parks")
    login_staff(client, inspector)
    values = form_values(client, change_url(concern))
    prefix = new_action_fields(values)
    values.update(
        {
            f"{prefix}-0-note": "Parks cut back the hedges along the path.",
            f"{prefix}-0-status": "actioned",
            f"{prefix}-0-partner": "parks",
            "_continue": "1",
        }
    )
    response = client.post(change_url(concern), values)
    assert response.status_code == 302, response.content.decode()[:3000]

    latest = concern.actions.order_by("-pk").first()
    assert latest.note == "Parks cut back the hedges along the path."
    assert latest.by == inspector
    assert concern.actions.count() == 2  # the history is untouched
    concern.refresh_from_db()
    assert concern.status == "actioned"
    page = client.get(change_url(concern)).content.decode()
    assert "Action recorded: the concern is now “Actioned”." in page


def test_a_referral_without_a_partner_is_a_form_error_in_the_admin(client, concern, inspector):
    login_staff(client, inspector)
    values = form_values(client, change_url(concern))
    prefix = new_action_fields(values)
    values.update({f"{prefix}-0-note": "Referred.", f"{prefix}-0-status": "referred"})
    response = client.post(change_url(concern), values)
    assert response.status_code == 200
    assert "Say which partner it was referred to" in response.content.decode()
    assert not ConcernAction.objects.exists()


def test_the_status_cannot_be_changed_except_by_an_action(client, concern, inspector):
    login_staff(client, inspector)
    values = form_values(client, change_url(concern))
    values.update({"status": "closed", "partner": "tfl", "location_text": "The subway"})
    response = client.post(change_url(concern), values)
    assert response.status_code == 302
    concern.refresh_from_db()
    assert concern.location_text == "The subway"
    assert (concern.status, concern.partner) == ("open", "")


def test_an_inspector_of_another_bcu_cannot_see_or_act_on_the_concern(client, concern):
    login_staff(client, make_user("Inspectors", officer_bcu="AW"))
    assert client.get(change_url(concern)).status_code == 404
    listing = client.get(reverse("admin:concerns_concern_changelist"))
    assert listing.status_code == 200
    assert concern.location_text not in listing.content.decode()


def test_an_inspector_adds_a_concern_raised_outside_a_walk(client, inspector):
    login_staff(client, inspector)
    add = reverse("admin:concerns_concern_add")
    response = client.post(
        add,
        {
            **form_values(client, add),
            "borough": borough("southwark").pk,
            "category": "isolated",
            "location_text": "Burgess Park, the canal path",
            "lat": "",
            "lng": "",
            "times_unsafe": ["evening", "late_night"],
            "description": "Raised at a ward panel meeting.",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    concern = Concern.objects.get()
    assert (concern.bcu.code, concern.walk, concern.logged_by) == ("AS", None, inspector)
    assert Concern.times_of(concern.times_unsafe) == ["evening", "late_night"]


def test_a_concern_added_in_the_admin_must_be_in_london(client, inspector):
    login_staff(client, inspector)
    add = reverse("admin:concerns_concern_add")
    response = client.post(
        add,
        {
            **form_values(client, add),
            "borough": borough("southwark").pk,
            "category": "isolated",
            "location_text": "Somewhere",
            "lat": "48.85",
            "lng": "2.35",
            "times_unsafe": "evening",
            "description": "Paris.",
        },
    )
    assert response.status_code == 200
    assert "must be in Greater London" in response.content.decode()
    assert not Concern.objects.exists()


@pytest.mark.querycount
def test_the_concern_list_takes_the_same_number_of_queries_for_more_rows(
    client, inspector, django_assert_max_num_queries
):
    login_staff(client, inspector)
    url = reverse("admin:concerns_concern_changelist")
    for _ in range(3):
        make_action(make_concern())
    client.get(url)  # warm up: content types, session
    with django_assert_max_num_queries(12) as few:
        assert client.get(url).status_code == 200
    for _ in range(30):
        make_action(make_concern(borough=borough("southwark")))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_survey_answers_are_read_only_in_the_admin(client):
    walk = make_walk(status="completed")
    feedback = make_feedback(make_booking(walk=walk, status="attended"), comments="Thank you.")
    commander = make_user("Commanders", officer_bcu="")
    login_staff(client, commander)
    url = reverse("admin:concerns_feedback_change", args=[feedback.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Thank you." in page.content.decode()
    assert client.post(url, {"comments": "Changed"}).status_code == 403
    assert client.get(reverse("admin:concerns_feedback_add")).status_code == 403
    feedback.refresh_from_db()
    assert feedback.comments == "Thank you."


def test_survey_answers_are_scoped_to_the_commanders_bcu(client):
    lambeth = make_feedback(make_booking(walk=make_walk(), status="attended"))
    westminster = make_walk(borough=borough("westminster"))
    other = make_feedback(make_booking(walk=westminster, status="attended"))
    login_staff(client, make_user("Commanders", officer_bcu="AW"))
    assert (
        client.get(reverse("admin:concerns_feedback_change", args=[lambeth.pk])).status_code == 404
    )
    assert client.get(reverse("admin:concerns_feedback_change", args=[other.pk])).status_code == 200


@pytest.mark.querycount
def test_the_survey_list_takes_the_same_number_of_queries_for_more_rows(
    client, django_assert_max_num_queries
):
    login_staff(client, make_user("Commanders", officer_bcu=""))
    url = reverse("admin:concerns_feedback_changelist")
    make_feedback(make_booking(status="attended"))
    client.get(url)
    with django_assert_max_num_queries(12) as few:
        assert client.get(url).status_code == 200
    for _ in range(20):
        make_feedback(make_booking(status="attended"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_actioning_in_the_admin_tells_the_women_who_asked(client, concern, inspector):
    asked = make_booking(walk=concern.walk, status="attended")
    make_feedback(asked, wants_updates=True)
    login_staff(client, inspector)
    values = form_values(client, change_url(concern))
    prefix = new_action_fields(values)
    values.update({f"{prefix}-0-note": "Lamps fixed.", f"{prefix}-0-status": "actioned"})
    assert client.post(change_url(concern), values).status_code == 302
    assert Notification.objects.filter(kind="you_said_we_did", booking=asked).count() == 1
