"""The admin's concern form checks what the debrief checks, worded the same (staff.forms'
ConcernChecks): text that may name someone is held back until edited or confirmed, and a
position must be whole and in Greater London."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from concerns.models import Concern
from tests.concerns.test_actions import form_values
from tests.factories import borough, login_staff, make_concern, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime(2026, 6, 2, 9, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def signed_in(client):
    login_staff(client, make_user("Inspectors", officer_bcu="AS"))
    return client


def form_data(client, url, **overrides):
    """What a browser sends from the form at `url` (its inlines' management forms too)."""
    data = {
        **form_values(client, url),
        "borough": borough().pk,
        "category": "poorly_lit",
        "location_text": "The footpath by the railway arches",
        "times_unsafe": ["after_dark"],
        "description": "Three street lights out along the path.",
        "lat": "",
        "lng": "",
    }
    data.update(overrides)
    return data


def test_text_that_may_name_someone_is_held_back_until_she_confirms(signed_in):
    url = reverse("admin:concerns_concern_add")
    named = form_data(
        signed_in, url, description="A man called Dave waits by the arches every night."
    )

    held = signed_in.post(url, named)

    assert held.status_code == 200
    errors = held.context["adminform"].form.errors
    assert errors["description"] == [
        "This looks like it may name a person. Concerns must not identify anyone. Edit it, or "
        "confirm it does not name a person."
    ]
    assert not Concern.objects.exists()

    saved = signed_in.post(url, {**named, "confirm_names_nobody": "on"})

    assert saved.status_code == 302
    assert Concern.objects.get().description.startswith("A man called Dave")


def test_editing_other_fields_does_not_flag_words_already_confirmed(signed_in):
    concern = make_concern(description="Mr Jones's shop shutter leaves the path dark.")
    url = reverse("admin:concerns_concern_change", args=[concern.pk])
    data = form_data(
        signed_in,
        url,
        borough=concern.borough_id,
        location_text="Outside the parade of shops",
        description=concern.description,
    )

    response = signed_in.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    concern.refresh_from_db()
    assert concern.location_text == "Outside the parade of shops"


def test_a_position_is_whole_and_in_london_as_in_the_debrief(signed_in):
    url = reverse("admin:concerns_concern_add")

    half = signed_in.post(url, form_data(signed_in, url, lat="51.4613"))
    paris = signed_in.post(url, form_data(signed_in, url, lat="48.8566", lng="2.3522"))

    assert half.context["adminform"].form.errors["lng"] == [
        "Enter both the latitude and the longitude, or neither"
    ]
    assert "must be in Greater London" in paris.context["adminform"].form.errors["lat"][0]
    assert not Concern.objects.exists()
