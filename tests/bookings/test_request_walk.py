import pytest
from django.test import Client

from bookings.models import Notification, WalkRequest
from bookings.services import request_walk
from tests.factories import borough

pytestmark = pytest.mark.django_db

VALID = {
    "borough": "lambeth",
    "route_description": "From Brixton station along Coldharbour Lane to the estate.",
    "preferred_times": "Weekday evenings after 7pm",
    "full_name": "Amira Begum",
    "email": "amira@example.org",
    "phone": "",
    "accessibility_needs": "",
    "discreet_emails": "",
    "age_confirmed": "on",
    "privacy_accepted": "on",
}


def send(client, **changes):
    data = {**VALID, **changes}
    return client.post("/request/", {k: v for k, v in data.items() if v is not None})


def test_the_service_records_the_request_and_queues_the_acknowledgement():
    walk_request = request_walk(
        borough=borough("lambeth"),
        full_name=" Amira ",
        email="amira@example.org",
        route_description="The towpath.",
        preferred_times="Evenings",
    )
    assert walk_request.status == WalkRequest.Status.OPEN
    assert walk_request.full_name == "Amira"
    assert walk_request.notifications.get().kind == Notification.Kind.REQUEST_RECEIVED


def test_the_form_has_the_contract_fields_and_asks_for_no_home_address(client):
    response = client.get("/request/")
    body = response.content.decode()
    for name in VALID:
        assert f'name="{name}"' in body
    assert "We do not ask for your home address" in body
    assert "address" not in " ".join(f for f in VALID if f != "email")
    assert 'href="/privacy/"' in body
    assert 'href="/request/" aria-current="page"' in body


def test_a_request_is_acknowledged_on_screen_and_its_reference_goes_to_her_email(client):
    response = send(client)
    assert response.status_code == 302
    walk_request = WalkRequest.objects.get()
    assert walk_request.borough.slug == "lambeth"
    assert walk_request.discreet_emails is False
    body = client.get(response["Location"]).content.decode()
    assert walk_request.reference not in body
    assert walk_request.email not in body
    assert "Request received" in body
    assert "Lambeth" in body
    assert Notification.objects.get().kind == Notification.Kind.REQUEST_RECEIVED


def test_the_acknowledgement_is_only_shown_in_the_browser_that_asked(client):
    location = send(client)["Location"]
    body = Client().get(location).content.decode()
    assert "Request received" not in body
    assert "Check your email" in body


def test_the_borough_may_be_given_by_its_id_too(client):
    send(client, borough=str(borough("camden").pk))
    assert WalkRequest.objects.get().borough.slug == "camden"


BAD_INPUT = [
    ("borough", None, "Choose the borough the route is in"),
    ("borough", "atlantis", "Choose a borough from the list"),
    ("borough", "99999", "Choose a borough from the list"),
    ("borough", "lambeth\x00", "Choose a borough from the list"),
    ("borough", "9" * 30, "Choose a borough from the list"),
    ("route_description", None, "Describe the route or area"),
    ("route_description", "x" * 2001, "2000 characters or fewer"),
    ("route_description", "The park\x1b[0m", "must not contain special characters"),
    ("preferred_times", "", "Tell us which days and times suit you"),
    ("preferred_times", "x" * 501, "500 characters or fewer"),
    ("preferred_times", "Evenings\u202e", "must not contain special characters"),
    ("full_name", "", "Enter your full name"),
    ("full_name", "x" * 101, "100 characters or fewer"),
    ("email", "amira at example", "Enter an email address in the correct format"),
    ("phone", "ring me", "Enter a phone number"),
    ("accessibility_needs", "x" * 1001, "1000 characters or fewer"),
    ("discreet_emails", "sometimes", "Tick or untick"),
    ("age_confirmed", None, "Confirm that you are 18 or over"),
    ("privacy_accepted", None, "Confirm that you have read how your information is used"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_INPUT)
def test_bad_input_gets_an_error_summary_a_400_and_writes_nothing(client, field, value, message):
    response = send(client, **{field: value})
    assert response.status_code == 400
    body = response.content.decode()
    summary = body[body.index('class="error-summary"') :]
    summary = summary[: summary.index("</div>")]
    assert f'href="#id_{field}"' in summary
    assert message in summary
    assert not WalkRequest.objects.exists()
    assert not Notification.objects.exists()
