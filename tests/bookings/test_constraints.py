import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings import links
from bookings.models import Booking, Notification
from tests.factories import make_booking, make_request, make_walk

pytestmark = pytest.mark.django_db


def test_one_active_booking_per_walk_and_email_whatever_the_case():
    booking = make_booking(email="Jo@Example.org")
    with pytest.raises(IntegrityError, match="one_active_booking_per_walk_and_email"):
        make_booking(walk=booking.walk, email="jo@example.ORG")


def test_a_waitlisted_booking_is_active_too():
    booking = make_booking(status=Booking.Status.WAITLISTED)
    with pytest.raises(IntegrityError, match="one_active_booking_per_walk_and_email"):
        make_booking(walk=booking.walk, email=booking.email)


def test_after_cancelling_she_can_book_the_same_walk_again():
    booking = make_booking(status=Booking.Status.CANCELLED)
    again = make_booking(walk=booking.walk, email=booking.email)
    assert again.pk != booking.pk


def test_the_same_email_may_book_different_walks():
    booking = make_booking()
    assert make_booking(walk=make_walk(), email=booking.email).pk


def test_booking_references_are_unique():
    booking = make_booking()
    with pytest.raises(IntegrityError):
        make_booking(reference=booking.reference)


def test_references_are_short_and_readable():
    reference = make_booking().reference
    assert len(reference) == 12
    assert reference.startswith("WT-")
    assert not set(reference) & set("0O1IL2Z5S")


def test_request_references_are_unique():
    request = make_request()
    with pytest.raises(IntegrityError):
        make_request(reference=request.reference)


def test_manage_token_is_256_bits_and_only_its_hash_is_stored():
    booking = make_booking()
    token = booking.manage_token()
    assert len(token) == 64
    assert token not in booking.manage_token_hash
    assert Booking.objects.by_manage_token(token).get() == booking
    tampered = token[:-1] + ("1" if token[-1] == "0" else "0")  # always one character off
    assert not Booking.objects.by_manage_token(tampered).exists()


def test_each_link_has_its_own_256_bit_token_and_only_hashes_are_stored():
    booking = make_booking()
    manage, survey = booking.manage_token(), booking.survey_token()
    assert len(survey) == 64 and survey != manage
    for token in (manage, survey):
        assert token not in booking.manage_token_hash + booking.survey_token_hash
    assert booking.survey_token_hash != booking.manage_token_hash
    assert Booking.objects.filter(links.opens(survey, links.SURVEY)).get() == booking
    assert not Booking.objects.filter(links.opens(manage, links.SURVEY)).exists()
    assert not Booking.objects.by_manage_token(survey).exists()


def test_a_notification_has_exactly_one_recipient():
    booking, request = make_booking(), make_request()
    with pytest.raises(IntegrityError, match="notification_has_one_recipient"):
        with transaction.atomic():
            Notification.objects.create(kind="booking_confirmed")
    with pytest.raises(IntegrityError, match="notification_has_one_recipient"):
        with transaction.atomic():
            Notification.objects.create(booking=booking, bcu=booking.walk.bcu, kind="feedback")
    with pytest.raises(IntegrityError, match="notification_has_one_recipient"):
        Notification.objects.create(booking=booking, request=request, kind="booking_confirmed")


def test_one_notification_per_booking_and_kind():
    booking = make_booking()
    Notification.objects.create(booking=booking, kind="reminder_24h")
    Notification.objects.create(booking=booking, kind="you_said_we_did", key="action:1")
    Notification.objects.create(booking=booking, kind="you_said_we_did", key="action:2")
    with pytest.raises(IntegrityError, match="one_notification_per_booking_kind"):
        Notification.objects.create(booking=booking, kind="reminder_24h", due_at=timezone.now())


def test_one_notification_per_request_and_kind():
    request = make_request()
    Notification.objects.create(request=request, kind="request_received")
    with pytest.raises(IntegrityError, match="one_notification_per_request_kind"):
        Notification.objects.create(request=request, kind="request_received")
