"""Her texts are her personal data as her emails are: the rows go with her booking when it is
purged or erased, her export lists them, the privacy notice names GOV.UK Notify while texts
are on, and her BCU's inspector sees and retries a failed text, and no other BCU's does."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bookings.models import Channel, Notification
from bookings.services import queue_notification
from privacy.services import erase_personal_data, export_personal_data, purge_personal_data
from tests.factories import borough, login_staff, make_booking, make_user, make_walk

pytestmark = pytest.mark.django_db
Kind = Notification.Kind
CHANGELIST = reverse("admin:bookings_notification_changelist")


def texting(**walk_fields):
    walk = make_walk(**walk_fields)
    booking = make_booking(walk=walk, phone="+447700900982", reminder_channel=Channel.SMS)
    with transaction.atomic():
        queue_notification(kind=Kind.BOOKING_CONFIRMED, booking=booking)
        text = queue_notification(kind=Kind.REMINDER_24H, booking=booking)
    return booking, text


def test_the_purge_deletes_her_text_rows_with_her_number():
    ended = timezone.now() - timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS + 1)
    booking, text = texting(starts_at=ended - timedelta(hours=2))
    purge_personal_data()
    booking.refresh_from_db()
    assert booking.phone == "" and booking.anonymised_at is not None
    assert not Notification.objects.filter(pk=text.pk).exists()


def test_erasure_deletes_her_text_rows_and_her_export_lists_them_first():
    booking, text = texting()
    [exported] = export_personal_data(email=booking.email)["bookings"]
    assert exported["reminders_by"] == "Text message"
    assert exported["phone"] == "+447700900982"
    assert {(m["message"], m["sent_by"]) for m in exported["emails"]} == {
        ("Booking confirmed", "Email"),
        ("Reminder, 24 hours before", "Text message"),
    }
    erase_personal_data(email=booking.email)
    assert not Notification.objects.filter(booking=booking).exists()


def test_the_privacy_notice_names_gov_uk_notify_only_while_texts_are_on(client, settings):
    assert "GOV.UK Notify" in client.get("/privacy/").content.decode()
    settings.SMS_BACKEND = ""
    assert "GOV.UK Notify" not in client.get("/privacy/").content.decode()


def failed_text(**walk_fields) -> Notification:
    _, text = texting(**walk_fields)
    Notification.objects.filter(pk=text.pk).update(
        failed_at=timezone.now(),
        attempts=1,
        last_error="SmsError: Notify 400 ValidationError: phone_number Not a valid mobile number",
    )
    return text


def test_her_bcus_inspector_sees_a_failed_text_and_tries_it_again(client):
    login_staff(client, make_user("Inspectors", officer_bcu="AS"))
    ours = failed_text()
    theirs = failed_text(borough=borough("camden"))
    page = client.get(CHANGELIST, {"channel": "sms", "failed": "yes"}).content.decode()
    assert ours.booking.reference in page and theirs.booking.reference not in page
    assert "Not a valid mobile number" in page and "+447700900982" not in page
    response = client.post(
        CHANGELIST,
        {"action": "retry_failed", "_selected_action": [ours.pk, theirs.pk]},
    )
    assert response.status_code == 302
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.failed_at is None and ours.attempts == 0 and ours.channel == Channel.SMS
    assert theirs.failed_at is not None
    # Another BCU's row is not there for her, even by its address.
    detail = reverse("admin:bookings_notification_change", args=[theirs.pk])
    assert client.get(detail).status_code in (302, 404)
