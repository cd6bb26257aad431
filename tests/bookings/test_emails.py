"""What each outbox row says: every kind, in text and HTML, in plain words, and discreetly."""

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings

from bookings.emails import DiscreetLeak, build_message, message_texts
from bookings.models import PARTNER_KINDS, Booking, Notification, WalkRequest
from bookings.services import queue_notification
from patrols.models import Walk
from tests.factories import make_action, make_booking, make_concern, make_request, make_walk

pytestmark = pytest.mark.django_db
Kind = Notification.Kind
# Messages to staff (tests/patrols/test_daily_digest.py, test_welfare.py) and to partner teams
# (tests/partners/test_referrals.py); every other kind is written to her.
STAFF_KINDS = [Kind.DAILY_DIGEST, Kind.WELFARE_ALERT, *PARTNER_KINDS]
HER_KINDS = [kind for kind in Kind.values if kind not in STAFF_KINDS]
BOOKING_KINDS = [kind for kind in HER_KINDS if not kind.startswith("request_")]
REQUEST_KINDS = [kind for kind in HER_KINDS if kind.startswith("request_")]

# 17:30 UTC on 1 July 2026 is 6:30pm in London (BST).
SUMMER_EVENING = datetime(2026, 7, 1, 17, 30, tzinfo=UTC)


def queue(**kwargs) -> Notification:
    with transaction.atomic():
        return queue_notification(**kwargs)


def every_kind(*, discreet: bool, **walk_fields) -> list[Notification]:
    """One outbox row of every kind, for one woman's booking and one route request."""
    walk = make_walk(starts_at=SUMMER_EVENING, **walk_fields)
    booking = make_booking(walk=walk, full_name="Jo O'Brien", discreet_emails=discreet)
    action = make_action(make_concern(walk=walk), partner="council_lighting")
    route_walk = make_walk(kind=Walk.Kind.ROUTE, starts_at=SUMMER_EVENING, capacity=1)
    request = make_request(
        full_name="Sam Okafor",
        discreet_emails=discreet,
        status=WalkRequest.Status.SCHEDULED,
        walk=route_walk,
        decline_reason="No officers are free on those evenings.",
    )
    make_booking(walk=route_walk, email=request.email, discreet_emails=discreet)
    rows = []
    for kind in BOOKING_KINDS:
        key = f"action:{action.pk}" if kind == Kind.YOU_SAID_WE_DID else ""
        rows.append(queue(kind=kind, booking=booking, key=key))
    rows += [queue(kind=kind, request=request) for kind in REQUEST_KINDS]
    return rows


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def test_every_kind_has_a_subject_a_text_part_and_an_html_part():
    for notification in every_kind(discreet=False):
        message = build_message(notification)
        assert message.subject.strip(), notification.kind
        assert "Dear " in message.body, notification.kind
        assert "<h1>" in html_of(message), notification.kind
        assert "{{" not in message.body + html_of(message) + message.subject, notification.kind


def test_booking_messages_give_the_walks_london_time_meeting_point_and_manage_link():
    for notification in every_kind(discreet=False):
        if notification.booking is None or notification.kind in (
            Kind.FEEDBACK,
            Kind.YOU_SAID_WE_DID,
            Kind.WALK_CANCELLED,
            Kind.BOOKING_CANCELLED,
        ):
            continue
        message = build_message(notification)
        booking = notification.booking
        for part in (message.body, html_of(message)):
            assert "Wednesday 1 July 2026, 6:30pm to 8pm" in part, notification.kind
            assert "Brixton station, Brixton Road exit" in part, notification.kind
            assert booking.manage_url() in part, notification.kind
            assert booking.reference in part, notification.kind
        assert "What to bring" in message.body or notification.kind in (
            Kind.WAITLISTED,
            Kind.WALK_CHANGED,
            Kind.MANAGE_LINK,
            Kind.WALK_MESSAGE,
        ), notification.kind


def test_the_text_part_is_plain_text_not_html_escaped():
    notification = every_kind(discreet=False)[0]
    message = build_message(notification)
    assert "Dear Jo O'Brien," in message.body
    assert "Dear Jo O&#x27;Brien," in html_of(message)


def test_a_cancelled_walk_points_her_to_other_walks_and_gives_the_reason():
    walk = make_walk(status=Walk.Status.CANCELLED, cancel_reason="The officers were called away.")
    booking = make_booking(walk=walk, status=Booking.Status.CANCELLED)
    message = build_message(queue(kind=Kind.WALK_CANCELLED, booking=booking))
    assert "cancelled" in message.subject
    assert f"{settings.SITE_URL}/walks/" in message.body
    assert f'href="{settings.SITE_URL}/walks/"' in html_of(message)
    assert "The officers were called away." in message.body


def test_the_survey_email_carries_her_survey_link():
    booking = make_booking(status=Booking.Status.ATTENDED)
    message = build_message(queue(kind=Kind.FEEDBACK, booking=booking))
    assert booking.feedback_url() in message.body
    assert booking.feedback_url() in html_of(message)


def test_you_said_we_did_tells_her_what_was_done_about_the_concern():
    booking = make_booking(status=Booking.Status.ATTENDED)
    concern = make_concern(walk=booking.walk, location_text="The railway footpath")
    action = make_action(concern, note="Six lamps replaced.", partner="council_lighting")
    message = build_message(
        queue(kind=Kind.YOU_SAID_WE_DID, booking=booking, key=f"action:{action.pk}")
    )
    assert "The railway footpath" in message.body
    assert "Six lamps replaced." in message.body
    assert "Council street lighting" in html_of(message)


def test_a_repeat_booking_email_says_she_already_has_a_place():
    booking = make_booking()
    message = build_message(queue(kind=Kind.MANAGE_LINK, booking=booking, key="repeat_booking"))
    assert "already have a place" in message.body
    assert booking.manage_url() in message.body


def test_a_route_walk_email_does_not_repeat_her_route():
    request = make_request(route_description="From my flat on Acre Lane to the station.")
    walk = make_walk(
        kind=Walk.Kind.ROUTE, capacity=1, route_notes=request.route_description, title="x"
    )
    make_booking(walk=walk, email=request.email)
    request.walk, request.status = walk, WalkRequest.Status.SCHEDULED
    request.save()
    for kind in (Kind.REQUEST_RECEIVED, Kind.REQUEST_SCHEDULED):
        message = build_message(queue(kind=kind, request=request))
        assert "Acre Lane" not in "".join(message_texts(message))
    assert "Walk on your route in Lambeth" in message.body


def test_normal_messages_come_from_the_scheme():
    message = build_message(every_kind(discreet=False)[0])
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert "Walk and Talk" in message.subject


def test_discreet_messages_of_every_kind_never_say_police():
    rows = every_kind(
        discreet=True,
        title="Police walk and talk in Brixton",
        meeting_point="Brixton Police Station, front steps",
        route_notes="Past the police box.",
    )
    assert {row.kind for row in rows} == set(HER_KINDS)
    for notification in rows:
        message = build_message(notification)
        assert message.from_email == settings.DISCREET_FROM_EMAIL
        everything = "\n".join(message_texts(message)) + str(message.message())
        assert "police" not in everything.lower(), notification.kind
        assert "walk and talk" not in message.subject.lower(), notification.kind


def test_in_discreet_mode_a_meeting_point_naming_the_police_is_left_to_her_booking_page():
    walk = make_walk(meeting_point="Brixton Police Station, front steps")
    booking = make_booking(walk=walk, discreet_emails=True)
    message = build_message(queue(kind=Kind.BOOKING_CONFIRMED, booking=booking))
    assert "on your booking page" in message.body
    assert booking.manage_url() in message.body


def test_a_discreet_message_that_would_still_say_police_is_refused():
    booking = make_booking(discreet_emails=True)
    notification = queue(kind=Kind.BOOKING_CONFIRMED, booking=booking)
    with (
        override_settings(DISCREET_FROM_EMAIL="Police bookings <b@example.org>"),
        pytest.raises(DiscreetLeak),
    ):
        build_message(notification)
