"""Control codes, bidirectional controls and zero-width characters: refused in every text a
person types, public or staff, and never written into the commanders' CSV, even from rows
stored before the rule."""

import csv
import importlib
import io
import pkgutil
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django import forms
from django.conf import settings
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking
from concerns.models import Concern, ConcernAction, Feedback
from patrols.models import Walk
from tests.factories import (
    login_staff,
    make_assignment,
    make_booking,
    make_concern,
    make_user,
    make_walk,
)
from tests.patrols.conftest import form_fields
from walkandtalk.text import PlainText, PlainTextForm

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
REFUSED = {
    "right-to-left override": "\u202e",
    "escape": "\x1b",
    "bell": "\x07",
    "zero-width space": "\u200b",
}
refused = pytest.mark.parametrize("char", REFUSED.values(), ids=REFUSED.keys())
SPECIAL = "must not contain special characters such as"


# --- The survey -----------------------------------------------------------------------------


@refused
def test_the_survey_refuses_them_in_her_comments_and_saves_nothing(client, char):
    walk = make_walk(starts_at=timezone.now() - timedelta(days=2), status="completed")
    booking = make_booking(walk=walk, status="attended")
    response = client.post(
        booking.feedback_url().removeprefix("http://127.0.0.1:8000"),
        {
            "felt_safe_before": "2",
            "felt_safe_after": "4",
            "confidence_in_police_before": "3",
            "confidence_in_police_after": "5",
            "comments": f"Better lighting{char} by the station",
        },
    )
    assert response.status_code == 400
    assert f"Your comments {SPECIAL}" in response.content.decode()
    assert not Feedback.objects.exists()


# --- The officers' debrief ------------------------------------------------------------------

WALK_START = datetime(2026, 11, 19, 18, 0, tzinfo=LONDON)


@pytest.mark.parametrize("field", ["location_text", "description"])
@refused
def test_the_debrief_refuses_them_in_a_concern_and_saves_nothing(client, char, field):
    with time_machine.travel(WALK_START + timedelta(hours=2), tick=False):
        walk = make_walk(starts_at=WALK_START)
        officer = make_user("Officers", officer_bcu="AS")
        make_assignment(walk, officer.officer)
        booking = make_booking(walk=walk)
        login_staff(client, officer)
        concern = {
            "category": "poorly_lit",
            "location_text": "Footpath by the railway",
            "lat": "",
            "lng": "",
            "times_unsafe": "after_dark",
            "description": "Three lamps out.",
        }
        concern[field] = f"Footpath{char} by the railway"
        response = client.post(
            reverse("staff:debrief", args=[walk.code]),
            {
                "concerns-TOTAL_FORMS": "1",
                "concerns-INITIAL_FORMS": "0",
                "concerns-MIN_NUM_FORMS": "0",
                "concerns-MAX_NUM_FORMS": "20",
                f"booking_{booking.pk}": "attended",
                **{f"concerns-0-{key}": value for key, value in concern.items()},
            },
        )
    assert response.status_code == 400
    noun = "Where it is" if field == "location_text" else "The description"
    assert f"Concern 1: {noun} {SPECIAL}" in response.content.decode()
    assert not Concern.objects.exists()
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    assert Walk.objects.get(pk=walk.pk).status == Walk.Status.SCHEDULED


# --- The admin ------------------------------------------------------------------------------


@pytest.fixture
def inspector(client):
    user = make_user("Inspectors", officer_bcu="AS")
    login_staff(client, user)
    return user


@pytest.mark.parametrize("field", ["title", "meeting_point", "route_notes"])
@refused
def test_the_walk_change_form_refuses_them_and_saves_nothing(client, inspector, char, field):
    walk = make_walk(route_notes="Along the high street")
    before = {name: getattr(walk, name) for name in ("title", "meeting_point", "route_notes")}
    url = reverse("admin:patrols_walk_change", args=[walk.pk])
    data = form_fields(client.get(url))
    data[field] = f"Evening{char} walk"
    response = client.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert SPECIAL in errors[field][0]
    assert SPECIAL in response.content.decode()
    walk.refresh_from_db()
    assert {name: getattr(walk, name) for name in before} == before


@refused
def test_the_walk_admin_names_the_field_in_the_message(client, inspector, char):
    walk = make_walk()
    url = reverse("admin:patrols_walk_change", args=[walk.pk])
    response = client.post(url, {**form_fields(client.get(url)), "title": f"Walk{char}"})
    assert response.context["adminform"].form.errors["title"] == [
        "Title must not contain special characters such as tabs, line breaks, control codes "
        "or invisible formatting characters"
    ]


@pytest.mark.parametrize("field", ["location_text", "description"])
@refused
def test_the_concern_change_form_refuses_them_and_saves_nothing(client, inspector, char, field):
    concern = make_concern()
    url = reverse("admin:concerns_concern_change", args=[concern.pk])
    data = form_fields(client.get(url))
    data[field] = f"The underpass{char} by the station"
    response = client.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert SPECIAL in errors[field][0]
    fresh = Concern.objects.get(pk=concern.pk)
    assert (fresh.location_text, fresh.description) == (
        concern.location_text,
        concern.description,
    )


@refused
def test_a_new_action_on_a_concern_refuses_them_in_its_note(client, inspector, char):
    concern = make_concern()
    url = reverse("admin:concerns_concern_change", args=[concern.pk])
    data = {k: v for k, v in form_fields(client.get(url)).items() if "__prefix__" not in k}
    (note,) = [key for key in data if key.endswith("-0-note")]  # the empty "add an action"
    data.update({note: f"Lamps{char} repaired", note.removesuffix("note") + "status": "actioned"})
    response = client.post(url, data)
    assert response.status_code == 200
    assert SPECIAL in response.content.decode()
    assert not ConcernAction.objects.exists()


@refused
def test_the_cancel_walks_action_refuses_them_in_the_reason(client, inspector, char):
    walk = make_walk()
    response = client.post(
        reverse("admin:patrols_walk_changelist"),
        {
            "action": "cancel_walks",
            "_selected_action": [walk.pk],
            "apply": "1",
            "reason": f"The officers{char} are needed elsewhere",
        },
    )
    assert response.status_code == 400
    assert f"Your answer {SPECIAL}" in response.content.decode()
    assert Walk.objects.get(pk=walk.pk).status == Walk.Status.SCHEDULED


# --- The public forms keep what they had, and now refuse zero-width characters too ----------


@pytest.mark.parametrize("char", ["\u200b", "\u200d", "\u2060", "\ufeff", "\u200f"])
def test_the_booking_form_refuses_invisible_characters_in_her_name(client, char):
    walk = make_walk()
    response = client.post(
        reverse("website:book", args=[walk.code]),
        {
            "full_name": f"Amira{char} Begum",
            "email": "amira@example.org",
            "age_confirmed": "on",
            "privacy_accepted": "on",
        },
    )
    assert response.status_code == 400
    assert f"Full name {SPECIAL}" in response.content.decode()
    assert not Booking.objects.exists()


def test_joiners_are_kept_in_multi_line_text_for_emoji_and_scripts_that_need_them(client):
    walk = make_walk()
    family = "\U0001f469\u200d\U0001f467"  # woman, ZWJ, girl: one emoji
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # "I want", with a ZWNJ
    response = client.post(
        reverse("website:book", args=[walk.code]),
        {
            "full_name": "Amira Begum",
            "email": "amira@example.org",
            "topics": f"{family} {persian}",
            "age_confirmed": "on",
            "privacy_accepted": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Booking.objects.get().topics == f"{family} {persian}"


# --- The CSV --------------------------------------------------------------------------------


def test_the_csv_never_carries_them_even_from_rows_stored_before_the_rule(client):
    login_staff(client, make_user("Commanders", officer_bcu=""))
    hidden = "\x1b\x07\u202e\u2066\u200e\u200b\u2060\ufeff\x85"
    make_concern(
        logged_at=timezone.now() - timedelta(days=1),
        location_text=f"The underpass\x1b[31m{hidden} by the station",
        description=f"=Lamps out{hidden}\nand the path is dark",
    )
    response = client.get("/reports/concerns.csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # the one byte-order mark, for Excel
    text = body.removeprefix("\ufeff")
    for char in hidden:
        assert char not in text, f"U+{ord(char):04X} in the CSV"
    (row,) = csv.DictReader(io.StringIO(text))
    assert row["Location"].startswith("The underpass\ufffd")
    assert row["Location"].endswith(" by the station")
    assert row["What was said"].startswith("'=Lamps out")  # still no formula
    assert row["What was said"].endswith("\nand the path is dark")


# --- Every form the project renders has the rule ---------------------------------------------

PROJECT = (*settings.PROJECT_APPS, "walkandtalk")


def project_form_classes():
    for package in PROJECT:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            if ".migrations" not in info.name and not info.name.endswith((".wsgi", ".settings")):
                importlib.import_module(info.name)
    found, todo = set(), [forms.BaseForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.split(".")[0] in PROJECT:
                found.add(sub)
    return found


def text_fields(form):
    return {
        name: field
        for name, field in form.fields.items()
        if isinstance(field, forms.CharField) and not isinstance(field.widget, forms.PasswordInput)
    }


def unguarded(form) -> list[str]:
    return [
        f"{type(form).__name__}.{name}"
        for name, field in text_fields(form).items()
        if not any(isinstance(v, PlainText) for v in field.validators)
    ]


def test_every_form_class_of_the_project_has_the_rule():
    classes = project_form_classes()
    assert len(classes) > 15  # the search found the forms
    assert sorted(c.__qualname__ for c in classes if not issubclass(c, PlainTextForm)) == []


@pytest.mark.parametrize("editing", [False, True], ids=["add", "change"])
def test_every_admin_form_and_inline_has_the_rule_on_every_text_box(editing):
    request = RequestFactory().get("/admin/")
    request.user = make_user(is_superuser=True)
    missing, checked = [], 0
    for model, model_admin in admin.site._registry.items():
        obj = model() if editing else None
        form = model_admin.get_form(request, obj)()
        missing += unguarded(form)
        checked += len(text_fields(form))
        for formset, _ in model_admin.get_formsets_with_inlines(request, obj):
            inline_form = formset.form()
            missing += unguarded(inline_form)
            checked += len(text_fields(inline_form))
    assert checked > 10  # the walk's, the concern's, the users'...
    assert missing == []
