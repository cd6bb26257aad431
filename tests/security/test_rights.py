"""Her rights: a copy of everything held about her email address, and erasing it now."""

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Booking, Notification, WalkRequest
from bookings.services import book_place, schedule_request
from patrols.models import Walk
from privacy.services import erase_personal_data, export_personal_data
from tests.factories import (
    borough,
    login_staff,
    make_booking,
    make_feedback,
    make_officer,
    make_request,
    make_user,
    make_walk,
)
from tests.security.test_personal_data import assert_anonymised_as_declared

pytestmark = pytest.mark.django_db

EMAIL = "Amira.Begum@example.org"


@pytest.fixture
def past_walk():
    starts = timezone.now() - timedelta(days=10)
    return make_walk(starts_at=starts, status=Walk.Status.COMPLETED)


@pytest.fixture
def her_data(past_walk):
    """Her past walk in Lambeth with a survey, a walk to come in Westminster, a route request
    and, for contrast, another woman's booking."""
    past = make_booking(
        walk=past_walk,
        full_name="Amira Begum",
        email=EMAIL,
        phone="07700 900123",
        accessibility_needs="I walk with a stick.",
        status=Booking.Status.ATTENDED,
    )
    make_feedback(past, comments="The lamps matter most.")
    Notification.objects.create(booking=past, kind="booking_confirmed", sent_at=past_walk.starts_at)
    coming = make_booking(
        walk=make_walk(borough=borough("westminster")),
        full_name="Amira Begum",
        email=EMAIL.lower(),
        topics="Leicester Square late at night",
    )
    Notification.objects.create(booking=coming, kind="reminder_24h")
    walk_request = make_request(full_name="Amira Begum", email=EMAIL.upper())
    other = make_booking(walk=past_walk, full_name="Grace Lewis", email="grace@example.org")
    return {"past": past, "coming": coming, "request": walk_request, "other": other}


def test_the_export_holds_every_booking_and_request_across_bcus(her_data):
    exported = export_personal_data(email=" amira.begum@EXAMPLE.org ")
    references = [b["reference"] for b in exported["bookings"]]
    assert references == [her_data["past"].reference, her_data["coming"].reference]
    past = exported["bookings"][0]
    assert past["full_name"] == "Amira Begum"
    assert past["phone"] == "07700 900123"
    assert past["accessibility_needs"] == "I walk with a stick."
    assert past["status"] == "Attended"
    assert past["survey"]["comments"] == "The lamps matter most."
    assert past["emails"][0]["message"] == "Booking confirmed"
    assert exported["bookings"][1]["walk"]["borough"] == "Westminster"
    assert exported["bookings"][1]["topics"] == "Leicester Square late at night"
    [walk_request] = exported["route_requests"]
    assert walk_request["reference"] == her_data["request"].reference
    assert "Coldharbour Lane" in walk_request["route_description"]
    assert "Grace" not in json.dumps(exported)
    json.dumps(exported)  # serialisable as it is


def test_an_address_with_nothing_held_exports_empty_lists():
    exported = export_personal_data(email="nobody@example.org")
    assert exported["bookings"] == [] and exported["route_requests"] == []


def test_erasing_removes_her_details_and_words_everywhere(her_data):
    counts = erase_personal_data(email=EMAIL)
    assert counts["bookings"] == 2
    assert counts["requests"] == 1
    for booking in (her_data["past"], her_data["coming"]):
        assert_anonymised_as_declared(booking)
        assert booking.anonymised_at is not None
    assert_anonymised_as_declared(her_data["past"].feedback)
    walk_request = her_data["request"]
    assert_anonymised_as_declared(walk_request)
    assert not Notification.objects.filter(booking__in=[her_data["past"], her_data["coming"]])
    assert not Notification.objects.filter(request=walk_request)
    nothing_left = export_personal_data(email=EMAIL)
    assert nothing_left["bookings"] == nothing_left["route_requests"] == []
    other = Booking.objects.get(pk=her_data["other"].pk)
    assert other.full_name == "Grace Lewis" and other.anonymised_at is None


def test_her_place_to_come_is_given_back_to_the_waiting_list_and_she_is_not_emailed(
    django_capture_on_commit_callbacks,
):
    walk = make_walk(capacity=1)
    with django_capture_on_commit_callbacks(execute=True):
        hers = book_place(walk=walk, full_name="Amira Begum", email=EMAIL)
        waiting = book_place(walk=walk, full_name="Grace Lewis", email="grace@example.org")
    assert waiting.status == Booking.Status.WAITLISTED
    with django_capture_on_commit_callbacks(execute=True):
        counts = erase_personal_data(email=EMAIL)
    assert counts["cancelled"] == 1
    hers.refresh_from_db()
    waiting.refresh_from_db()
    assert hers.status == Booking.Status.CANCELLED
    assert waiting.status == Booking.Status.CONFIRMED
    assert Notification.objects.filter(booking=waiting, kind="promoted").exists()
    assert not Notification.objects.filter(booking=hers).exists()


def test_a_walk_on_her_route_is_called_off_and_an_open_request_closed():
    scheduled = make_request(email=EMAIL)
    walk = schedule_request(
        request=scheduled,
        starts_at=timezone.now() + timedelta(days=5),
        ends_at=timezone.now() + timedelta(days=5, hours=1),
        meeting_point="Brixton station",
        officers=[make_officer()],
    )
    still_open = make_request(email=EMAIL)
    erase_personal_data(email=EMAIL)
    assert_anonymised_as_declared(walk)  # the meeting point was typed from her request
    assert walk.status == Walk.Status.CANCELLED
    assert not walk.roster.exists()  # her officers are free for other walks
    still_open.refresh_from_db()
    assert still_open.status == WalkRequest.Status.DECLINED
    assert still_open.anonymised_at is not None


def test_erasing_twice_does_nothing_more(her_data):
    erase_personal_data(email=EMAIL)
    again = erase_personal_data(email=EMAIL)
    assert again.get("bookings", 0) == again.get("requests", 0) == again["cancelled"] == 0


# --- In the admin -------------------------------------------------------------------------


URL = "/admin/personal-data/"


def test_only_superusers_answer_requests(client):
    login_staff(client, make_user("Inspectors", officer_bcu="AS"))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"email": EMAIL, "export": "1"}).status_code == 403


def test_the_page_explains_both_choices(client):
    login_staff(client, make_user(is_superuser=True))
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Download what is held" in page and "Erase now" in page
    assert 'href="/admin/personal-data/"' in client.get("/admin/").content.decode()


def test_download_gives_a_json_file_that_is_not_stored(client, her_data, caplog):
    user = login_staff(client, make_user(is_superuser=True))
    with caplog.at_level(logging.INFO):
        response = client.post(URL, {"email": EMAIL, "export": "1"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert len(data["bookings"]) == 2
    assert f"exported by user {user.pk}" in caplog.text
    assert "amira" not in caplog.text.lower()


def test_erase_needs_the_box_ticked(client, her_data):
    login_staff(client, make_user(is_superuser=True))
    response = client.post(URL, {"email": EMAIL, "erase": "1"})
    assert response.status_code == 400
    assert "Tick the box" in response.content.decode()
    her_data["past"].refresh_from_db()
    assert her_data["past"].anonymised_at is None


def test_erase_from_the_admin(client, her_data):
    login_staff(client, make_user(is_superuser=True))
    response = client.post(URL, {"email": EMAIL, "erase": "1", "confirm": "on"}, follow=True)
    assert response.status_code == 200
    assert "Erased: 2 booking(s) and 1 route request(s)" in response.content.decode()
    her_data["coming"].refresh_from_db()
    assert her_data["coming"].anonymised_at is not None


def test_a_bad_address_is_an_error_not_a_download(client):
    login_staff(client, make_user(is_superuser=True))
    response = client.post(URL, {"email": "not an address", "export": "1"})
    assert response.status_code == 400
    assert 'href="#id_email"' in response.content.decode()
