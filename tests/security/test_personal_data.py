"""Personal data declared once: each model's PERSONAL_DATA says which of its fields hold her
personal data and what each holds once anonymised. Every field that could hold personal data
is either declared there or reviewed below as not personal, and the purge, the erasure and the
export are checked against the declarations themselves, so a field declared tomorrow is
covered by these tests without touching them."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.db import models

from bookings.models import Booking, WalkRequest
from concerns.models import Feedback
from patrols.models import Walk
from privacy.services import erase_personal_data, export_personal_data, purge_personal_data
from tests.factories import make_booking, make_feedback, make_request, make_walk

# Field kinds that can hold what a person wrote or who, where or how to reach she is.
MAY_BE_PERSONAL = (
    models.CharField,  # with EmailField and SlugField
    models.TextField,
    models.JSONField,
    models.GenericIPAddressField,
    models.DecimalField,  # a position (latitude, longitude)
)

CHOICE = "a choice from a fixed list"

# Reviewed: the fields of those kinds that do not hold her personal data, and why. A new field
# of those kinds fails test_every_field_that_may_hold_personal_data_is_classified until it is
# declared in its model's PERSONAL_DATA or added here with its reason.
NOT_PERSONAL = {
    "patrols.BCU": {
        "code": "the Met's code for one of its areas",
        "name": "the Met's name for one of its areas",
    },
    "patrols.Borough": {"name": "a London borough", "slug": "a London borough"},
    "patrols.Officer": {
        "collar_number": "staff, not the public: an officer's work identity, kept while serving",
        "name": "staff, not the public: an officer's work identity, kept while serving",
        "rank": CHOICE,
        "calendar_nonce": "a random value her calendar feed's secret is made from",
        "calendar_token_hash": "a hash of her calendar feed's secret",
    },
    "patrols.Walk": {
        "title": "the police's title; a walk on her route is titled by its borough only",
        "status": CHOICE,
        "kind": CHOICE,
        "cancel_reason": "written by the police about the walk, to everyone booked on it",
    },
    "patrols.RosterAssignment": {"role": CHOICE},
    "patrols.Unavailability": {"reason": CHOICE},
    "bookings.Booking": {
        "reference": "a random code; who it was is gone with her declared fields",
        "status": CHOICE,
        "reminder_channel": CHOICE + " (email or text; the number is her declared phone)",
        "manage_token_hash": "a hash of a secret derived from the reference",
        "survey_token_hash": "a hash of a secret derived from the reference",
    },
    "bookings.WalkRequest": {
        "reference": "a random code; who it was is gone with her declared fields",
        "status": CHOICE,
        "reminder_channel": CHOICE + " (email or text; the number is her declared phone)",
        "token_hash": "a hash of a secret derived from the reference",
    },
    "bookings.WalkMessage": {
        "text": "written by the police about the walk, to everyone booked on it; the form "
        "says: name no one",
    },
    "bookings.Notification": {
        "kind": CHOICE,
        "channel": CHOICE + " (email or text)",
        "key": "tells apart messages of one kind, such as a concern action's id",
        "last_error": "the mail server's or the SMS provider's answer, her address and number "
        "taken out; the whole row goes with her booking or request",
        "changed_from": "the walk's earlier time and meeting point; the row goes with her booking",
    },
    "concerns.Concern": {
        "category": CHOICE,
        "location_text": "a place; the debrief tells officers to write down no one's name",
        "lat": "the position of that place, not of a person",
        "lng": "the position of that place, not of a person",
        "times_unsafe": CHOICE,
        "description": "what makes the place unsafe; the debrief says: no one's name",
        "status": CHOICE,
        "partner": CHOICE,
    },
    "concerns.ConcernDay": {"category": CHOICE},
    "concerns.ActionDay": {"category": CHOICE, "partner": CHOICE},
    "concerns.PlaceDay": {
        "category": CHOICE,
        "place": "a concern's location_text, lowered and trimmed: a place, as that is",
        "label": "a concern's location_text as written: a place, as that is",
    },
    "concerns.ConcernAction": {
        "note": "what was done about a place, published; the form says: no names",
        "status": CHOICE,
        "partner": CHOICE,
    },
    "partners.Partner": {
        "name": "a council or partner team's name: an organisation, not a person",
        "kind": CHOICE,
        "email": "the team's shared work address (the form asks for it, not a person's)",
    },
    "partners.DefaultPartner": {"category": CHOICE},
    "partners.Referral": {
        "reference": "a random code",
        "status": CHOICE,
        "token_hash": "a hash of a secret derived from the reference",
        "note": "the partner's answer about a place, plain text; the form says: name no one, "
        "and it is copied to the concern's action, published as those are",
    },
    # The audit history's own fields, on every history table. A history table's copy of a
    # model's field is classified with that model's field.
    "history": {
        "history_change_reason": "set only by code, and no code sets it; no screen offers it",
        "history_type": CHOICE,
    },
}


def project_models():
    for label in settings.PROJECT_APPS:
        yield from apps.get_app_config(label).get_models()


def declared(model) -> dict:
    return getattr(model, "PERSONAL_DATA", {})


def assert_anonymised_as_declared(row):
    """Every field its model declares personal holds what it holds once anonymised."""
    row.refresh_from_db()
    removals = declared(type(row))
    left = {name: getattr(row, name) for name in removals if getattr(row, name) != removals[name]}
    assert not left, (type(row).__name__, left)


def classify(model, field) -> str | None:
    """'personal', 'not personal' or None (not classified) for one field. A history table's
    copy of a tracked field is what the tracked model says of it."""
    owner = getattr(model, "instance_type", model)
    if field.name in declared(owner):
        return "personal"
    reviewed = NOT_PERSONAL.get(owner._meta.label, {})
    if owner is not model and field.name not in {f.name for f in model.tracked_fields}:
        reviewed = NOT_PERSONAL["history"]
    return "not personal" if field.name in reviewed else None


def test_every_field_that_may_hold_personal_data_is_classified():
    unclassified = [
        f"{model._meta.label}.{field.name}"
        for model in project_models()
        for field in model._meta.concrete_fields
        if isinstance(field, MAY_BE_PERSONAL) and classify(model, field) is None
    ]
    assert not unclassified, (
        "Declare these in their model's PERSONAL_DATA (with what each holds once anonymised) "
        f"or review them into NOT_PERSONAL with the reason: {unclassified}"
    )


def test_the_declarations_and_the_review_name_real_fields_once():
    for model in project_models():
        fields = {field.name for field in model._meta.concrete_fields}
        personal = set(declared(model))
        assert personal <= fields, (model, personal - fields)
        reviewed = set(NOT_PERSONAL.get(model._meta.label, {}))
        assert reviewed <= fields, ("no such field, remove it from NOT_PERSONAL", reviewed - fields)
        assert not personal & reviewed, ("both personal and not", personal & reviewed)
        for name, removed in declared(model).items():
            field = model._meta.get_field(name)
            assert removed is not None or field.null, (model, name, "cannot be emptied to None")
    labels = {model._meta.label for model in project_models()}
    assert set(NOT_PERSONAL) - {"history"} <= labels


# --- The purge, the erasure and the export follow the declarations ------------------------

LONDON = ZoneInfo("Europe/London")
WALK_START = datetime(2026, 3, 5, 18, 0, tzinfo=LONDON)
PURGE_DAY = (WALK_START + timedelta(minutes=90)).astimezone(UTC) + timedelta(
    days=settings.PERSONAL_DATA_RETENTION_DAYS
)
EMAIL = "amira.begum@example.org"


def her_value(field):
    """Something of hers for any declared field, unlike what it holds once anonymised."""
    if isinstance(field, models.EmailField):
        return EMAIL
    if isinstance(field, models.DecimalField):
        return Decimal("51.461234")
    if isinstance(field, models.JSONField):
        return {"said": "Amira Begum"}
    if isinstance(field, models.GenericIPAddressField):
        return "203.0.113.7"
    if isinstance(field, models.CharField | models.TextField):
        return f"Amira Begum, {field.name}"[: field.max_length]
    raise AssertionError(f"Give her_value a value of hers for {field!r}")


def hers(model) -> dict:
    return {name: her_value(model._meta.get_field(name)) for name in declared(model)}


@pytest.fixture
def her_rows(db):
    """One row of hers in every model that declares personal data, each declared field
    holding something of hers: a booking with her survey, and a route request with its walk."""
    with time_machine.travel(WALK_START - timedelta(days=7), tick=False):
        route_walk = make_walk(starts_at=WALK_START, kind=Walk.Kind.ROUTE, **hers(Walk))
        route_walk.save()  # a second history row, as a change would leave
        booking = make_booking(walk=make_walk(starts_at=WALK_START), **hers(Booking))
        rows = {
            Walk: route_walk,
            Booking: booking,
            Feedback: make_feedback(booking, **hers(Feedback)),
            WalkRequest: make_request(
                walk=route_walk, status=WalkRequest.Status.SCHEDULED, **hers(WalkRequest)
            ),
        }
    declaring = {model for model in apps.get_models() if declared(model)}
    assert declaring == set(rows), (
        "A model now declares personal data: make the purge, the erasure and the export cover "
        "it, and give her a row of it here."
    )
    return rows


def purge(email):
    purge_personal_data(now=PURGE_DAY)


def erase(email):
    with time_machine.travel(PURGE_DAY, tick=False):
        erase_personal_data(email=email)


@pytest.mark.parametrize("remove", [purge, erase])
def test_every_declared_field_is_anonymised_in_the_rows_and_their_history(her_rows, remove):
    remove(EMAIL)
    for model, row in her_rows.items():
        assert_anonymised_as_declared(row)
        history = getattr(model._meta, "simple_history_manager_attribute", None)
        if history:
            past = getattr(row, history).all()
            assert past.count() >= 2
            tracked = {field.name for field in past.model.tracked_fields}
            for name in declared(model).keys() & tracked:
                assert set(past.values_list(name, flat=True)) == {declared(model)[name]}, name


def plain(value):
    return str(value) if isinstance(value, Decimal) else value


def test_her_export_holds_every_declared_field_of_her_rows(her_rows):
    with time_machine.travel(PURGE_DAY - timedelta(days=1), tick=False):
        exported = export_personal_data(email=EMAIL)
    [booking] = exported["bookings"]
    [walk_request] = exported["route_requests"]
    for model, held in (
        (Booking, booking),
        (Feedback, booking["survey"]),
        (WalkRequest, walk_request),
        (Walk, walk_request["walk"]),
    ):
        for name in declared(model):
            assert held[name] == plain(getattr(her_rows[model], name)), (model.__name__, name)
