"""Which rows a person may see, declared once per model (`bcu_path`) and decided once per person
(`bcu_scope`): an inspector of Central South (AS) sees only AS's rows of every scoped model, a
commander with no BCU and a superuser see all of London, staff with no officer record nothing."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings.models import Booking, Notification, WalkMessage
from concerns.models import ActionDay, ConcernDay, Debrief, FirstActionDay, PlaceDay
from partners.models import Referral
from patrols.models import WalkCheckIn, bcu_scope, is_visible_to
from staff.admin.patrols import BCUScopedMixin
from tests.factories import (
    borough,
    make_action,
    make_assignment,
    make_booking,
    make_concern,
    make_feedback,
    make_officer,
    make_request,
    make_unavailability,
    make_user,
    make_walk,
)
from tests.partners.helpers import make_partner

pytestmark = pytest.mark.django_db


def walk_in(place):
    return make_walk(borough=place)


def booking_in(place):
    return make_booking(walk=walk_in(place))


# name: make a row of that model belonging to the borough's BCU
CASES = {
    "bcu": lambda place: place.bcu,
    "borough": lambda place: place,
    "officer": lambda place: make_officer(bcu=place.bcu),
    "walk": walk_in,
    "roster assignment": lambda place: make_assignment(walk_in(place), make_officer(bcu=place.bcu)),
    "time an officer cannot walk": lambda place: make_unavailability(make_officer(bcu=place.bcu)),
    "welfare check of a walk": lambda place: WalkCheckIn.objects.create(
        walk=walk_in(place), started_at=timezone.now(), started_by=make_officer(bcu=place.bcu)
    ),
    "booking": booking_in,
    "walk request": lambda place: make_request(borough=place),
    "message about a booking": lambda place: Notification.objects.create(
        booking=booking_in(place), kind=Notification.Kind.BOOKING_CONFIRMED
    ),
    "message about a route request": lambda place: Notification.objects.create(
        request=make_request(borough=place), kind=Notification.Kind.REQUEST_RECEIVED
    ),
    "message to the women on a walk": lambda place: WalkMessage.objects.create(
        walk=walk_in(place), text="Meet at the other gate."
    ),
    "concern": lambda place: make_concern(borough=place),
    "concern action": lambda place: make_action(make_concern(borough=place)),
    "feedback": lambda place: make_feedback(booking_in(place)),
    "a walk's debrief": lambda place: Debrief.objects.create(walk=walk_in(place), walk_ins=1),
    # Written by concerns.rollup whenever a concern is saved.
    "a day's concerns counted": lambda place: ConcernDay.objects.get(
        pk=ConcernDay.objects.filter(borough=make_concern(borough=place).borough).latest("pk").pk
    ),
    "a day's times to the first action": lambda place: FirstActionDay.objects.get(
        pk=FirstActionDay.objects.filter(
            borough=make_action(make_concern(borough=place)).concern.borough
        )
        .latest("pk")
        .pk
    ),
    "a day's actions counted": lambda place: ActionDay.objects.get(
        pk=ActionDay.objects.filter(
            borough=make_action(make_concern(borough=place)).concern.borough
        )
        .latest("pk")
        .pk
    ),
    "a day's places counted": lambda place: PlaceDay.objects.get(
        pk=PlaceDay.objects.filter(borough=make_concern(borough=place).borough).latest("pk").pk
    ),
    "partner": lambda place: make_partner(place.slug),
    "default partner": lambda place: make_partner(
        place.slug, default_for=["poorly_lit"]
    ).defaults.get(),
    "referral": lambda place: Referral.objects.create(
        concern=make_concern(borough=place), partner=make_partner(place.slug)
    ),
}


def rows(case):
    """One row in Lambeth (Central South, AS) and one in Westminster (Central West, AW)."""
    make = CASES[case]
    return make(borough("lambeth")), make(borough("westminster"))


def visible(user, row):
    return set(type(row).objects.visible_to(user).filter(pk__in=[row.pk]))


@pytest.mark.parametrize("case", CASES)
def test_an_inspector_sees_only_her_bcus_rows(case):
    inspector = make_user("Inspectors", officer_bcu="AS")
    own, other = rows(case)
    assert visible(inspector, own) == {own}
    assert visible(inspector, other) == set()
    assert is_visible_to(own, inspector)
    assert not is_visible_to(other, inspector)


@pytest.mark.parametrize("who", ["pan-London commander", "superuser"])
@pytest.mark.parametrize("case", CASES)
def test_a_commander_and_a_superuser_see_all_of_london(case, who):
    if who == "superuser":
        user = make_user(is_superuser=True)
    else:
        user = make_user("Commanders", officer_bcu="")
    own, other = rows(case)
    assert visible(user, own) == {own}
    assert visible(user, other) == {other}
    assert is_visible_to(own, user) and is_visible_to(other, user)


@pytest.mark.parametrize("case", CASES)
def test_staff_with_no_officer_record_see_nothing(case):
    nobody = make_user("Inspectors")
    own, other = rows(case)
    assert visible(nobody, own) == visible(nobody, other) == set()
    assert not is_visible_to(own, nobody)


def test_every_scoped_model_is_covered_here():
    declared = {model for model in apps.get_models() if getattr(model, "bcu_path", None)}
    covered = {type(row) for case in CASES for row in rows(case)[:1]}
    assert declared == covered


def test_every_model_the_admin_scopes_declares_its_path_to_its_bcu():
    scoped = [
        model
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, BCUScopedMixin)
    ]
    assert scoped
    for model in scoped:
        assert getattr(model, "bcu_path", None), model
        assert hasattr(model.objects, "visible_to"), model


def test_the_scope_is_read_once_per_user_and_not_per_row():
    inspector = make_user("Inspectors", officer_bcu="AS")
    for _ in range(5):
        make_booking(walk=walk_in(borough("lambeth")))
    with CaptureQueriesContext(connection) as first:
        assert len(list(Notification.objects.visible_to(inspector))) == 0
        assert len(list(Booking.objects.visible_to(inspector))) == 5
    # The officer record once, then each list in one query.
    assert len(first) == 3
    with CaptureQueriesContext(connection) as again:
        assert bcu_scope(inspector).code == "AS"
    assert len(again) == 0
