"""Whoever types a woman's email address into a public form learns nothing of her bookings:
not from the page, the headers, the cookies, the status code, or the work the server does
(which is what its response time is made of)."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bookings.models import Booking, Notification
from tests.factories import make_booking, make_walk

pytestmark = pytest.mark.django_db

FORM = {
    "full_name": "Someone",
    "phone": "07700 900123",
    "age_confirmed": "on",
    "privacy_accepted": "on",
}
VICTIM = "victim@example.com"


def book(walk, email, client=None):
    """Book as a person in her own browser would; everything she receives, in order."""
    client = client or Client()
    posted = client.post(f"/walks/{walk.code}/book/", {**FORM, "email": email})
    shown = client.get(posted["Location"])
    return posted, shown


def everything_received(*responses) -> str:
    """Bodies, headers and cookies (raw, and their signed payloads decoded), as one text."""
    parts = []
    for response in responses:
        parts.append(str(response.status_code))
        parts.append(response.content.decode())
        parts += [f"{name}: {value}" for name, value in response.headers.items()]
        for morsel in response.cookies.values():
            parts.append(morsel.OutputString())
            parts.append(str(signing.loads(morsel.value, salt="bookings.booked")))
    return "\n".join(parts)


def outcome_payloads(*responses) -> list:
    return [
        signing.loads(morsel.value, salt="bookings.booked")
        for response in responses
        for morsel in response.cookies.values()
        if morsel.value
    ]


def comparable(text: str) -> str:
    """What may differ between any two visitors: the CSP nonce and the signed cookie's time."""
    text = re.sub(r'nonce="[^"]+"', 'nonce=""', text)
    text = re.sub(r"'nonce-[^']+'", "'nonce-'", text)
    text = re.sub(r"(booked=)[^;\s]+", r"\1SIGNED", text)
    return text.replace("someone@example.com", "EMAIL").replace(VICTIM.upper(), "EMAIL")


def test_a_stranger_who_books_with_her_address_receives_nothing_of_her_booking():
    walk = make_walk(capacity=5)
    book(walk, VICTIM)
    victim = Booking.objects.get(email=VICTIM)
    stranger = book(walk, VICTIM.upper())
    received = everything_received(*stranger)
    assert victim.reference not in received
    assert VICTIM not in received.lower()
    assert victim.full_name not in received.replace("Someone", "")
    for payload in outcome_payloads(*stranger):
        assert payload == {"walk": str(walk.code), "status": "confirmed"}
        assert victim.pk not in payload.values()
    # Her booking stands, and she alone is told of the attempt, by email.
    assert Booking.objects.filter(walk=walk).count() == 1
    assert victim.notifications.filter(kind=Notification.Kind.MANAGE_LINK).exists()


@pytest.mark.parametrize("capacity", [1, 5])
@time_machine.travel(datetime(2026, 6, 10, 12, 0, tzinfo=UTC), tick=False)
def test_a_repeat_booking_answers_exactly_as_a_first_booking_does(capacity):
    """On a full walk (she holds its only place) and on one with places left. The clock stands
    still: the headers' dates (Expires) would differ whenever a second passed between them."""
    walk = make_walk(capacity=capacity)
    make_booking(walk=walk, email=VICTIM)
    newcomer = book(walk, "someone@example.com")
    stranger = book(walk, VICTIM.upper())
    assert [r.status_code for r in stranger] == [r.status_code for r in newcomer]
    assert outcome_payloads(*stranger) == outcome_payloads(*newcomer)
    assert comparable(everything_received(*stranger)) == comparable(everything_received(*newcomer))


@pytest.mark.parametrize("capacity", [1, 5])
@time_machine.travel(datetime(2026, 6, 10, 12, 0, tzinfo=UTC), tick=False)
def test_the_page_after_booking_says_nothing_of_earlier_bookings(capacity):
    """A woman booking for the first time is not told about bookings she never made. The page
    is the same for a repeat (above), so it says nothing of them to anyone: the email does."""
    walk = make_walk(capacity=capacity)
    _, shown = book(walk, "first.time@example.com")
    page = shown.content.decode()
    assert shown.status_code == 200
    assert "We have emailed your booking reference" in page
    for words in ("already booked", "earlier booking", "booked before"):
        assert words not in page, words


def work_done(path, data, django_capture_on_commit_callbacks):
    """The statements a POST runs and the publishes it makes, as a repeat or a first would."""
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks() as callbacks,
    ):
        response = Client().post(path, data)
    assert response.status_code == 302
    # The form's own statements: the tests' cache lives in the database too (the rate limit,
    # the public pages' version), where production keeps it in Redis.
    statements = [
        query["sql"]
        for query in queries.captured_queries
        if "walkandtalk_cache" not in query["sql"]
        and not query["sql"].startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))
    ]
    # Publishes to the broker among the on-commit callbacks (the public pages' version is
    # renewed after a booking is written, as after any change to a walk's bookings).
    publishes = sum(callback.__module__ == "bookings.services" for callback in callbacks)
    return response["Location"], len(statements), publishes


@pytest.mark.querycount
def test_a_repeat_booking_does_the_same_work_as_a_first_one(django_capture_on_commit_callbacks):
    walk = make_walk(capacity=5)
    make_booking(walk=walk, email=VICTIM)

    def booking(email):
        data = {**FORM, "email": email}
        return work_done(f"/walks/{walk.code}/book/", data, django_capture_on_commit_callbacks)

    first = booking("someone@example.com")
    # One read of her row where a first booking writes one; one publish each, even within
    # the resend spacing (the last), when no second email goes to her.
    assert first == booking(VICTIM.upper()) == booking(VICTIM)
    assert first[2] == 1
    assert Notification.objects.filter(kind=Notification.Kind.MANAGE_LINK).count() == 1


@pytest.mark.querycount
def test_the_lost_link_form_does_the_same_work_for_a_known_and_an_unknown_address(
    django_capture_on_commit_callbacks,
):
    make_booking(email=VICTIM)
    make_booking(email=VICTIM)

    def lost_link(email):
        path = "/bookings/lost-link/"
        return work_done(path, {"email": email}, django_capture_on_commit_callbacks)

    assert lost_link(VICTIM) == lost_link("nobody@example.com") == lost_link(VICTIM)
    assert Notification.objects.filter(kind=Notification.Kind.MANAGE_LINK).count() == 2
