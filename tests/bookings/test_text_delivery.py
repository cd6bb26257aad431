"""Sending texts through the same outbox as emails, by GOV.UK Notify's own client against a
local stand-in of its API: sent once, failed for good on Notify's "never" (an invalid number,
a refused key) with its reason, tried again later on "not now" (rate limit, its own error, no
answer in time), shared out between parallel sweeps, and written to files in the demo."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from bookings.delivery import RETRY_DELAYS, deliver_due_notifications, deliver_notification
from bookings.models import Channel, Notification
from bookings.services import queue_notification
from tests.bookings.notify_standin import API_KEY, TEMPLATE_ID, notify_standin
from tests.bookings.test_delivery import run_in_threads
from tests.factories import make_booking, make_walk
from walkandtalk import sms

pytestmark = pytest.mark.django_db
Kind = Notification.Kind
MOBILE = "+447700900982"


@pytest.fixture
def notify(settings):
    """Texts through NotifyBackend (Notify's real client) to a stand-in on this machine."""
    with notify_standin() as (standin, base_url):
        settings.SMS_BACKEND = "walkandtalk.sms.NotifyBackend"
        settings.NOTIFY_API_KEY = API_KEY
        settings.NOTIFY_SMS_TEMPLATE_ID = TEMPLATE_ID
        settings.NOTIFY_BASE_URL = base_url
        settings.NOTIFY_TIMEOUT = 2
        yield standin


def texting_booking(**overrides):
    fields = {"phone": MOBILE, "reminder_channel": Channel.SMS}
    return make_booking(**{**fields, **overrides})


def queue_reminder(booking=None, kind=Kind.REMINDER_24H) -> Notification:
    """A 24-hour reminder by text, due now (the walk starts in 24 hours)."""
    if booking is None:
        booking = texting_booking(walk=make_walk(starts_at=timezone.now() + timedelta(hours=24)))
        type(booking).objects.filter(pk=booking.pk).update(
            created_at=timezone.now() - timedelta(days=2)
        )
        booking.refresh_from_db()
    with transaction.atomic():
        return queue_notification(kind=kind, booking=booking)


def reload(row: Notification) -> Notification:
    return Notification.objects.get(pk=row.pk)


def test_a_reminder_by_text_is_sent_once_through_notify(notify):
    row = queue_reminder()
    assert row.channel == Channel.SMS
    assert deliver_notification(notification_id=row.pk) == "sent"
    assert deliver_notification(notification_id=row.pk) is None
    assert deliver_due_notifications()["sent"] == 0

    [request] = notify.requests
    assert request["path"] == "/v2/notifications/sms"
    assert request["signed"]  # a JWT made from the key, as Notify checks
    assert request["json"]["phone_number"] == MOBILE
    assert request["json"]["template_id"] == TEMPLATE_ID
    body = request["json"]["personalisation"]["body"]
    assert body.startswith("Walk and Talk: Reminder: your walk is tomorrow")
    assert body.endswith(row.booking.manage_url())
    row = reload(row)
    assert row.sent_at is not None and row.attempts == 1 and row.last_error == ""


def test_notify_refusing_the_number_fails_the_row_with_its_reason(notify):
    notify.answer(400)
    row = queue_reminder()
    assert deliver_notification(notification_id=row.pk) == "failed"
    row = reload(row)
    assert row.failed_at is not None and row.sent_at is None
    assert "400" in row.last_error
    assert "ValidationError: phone_number Not a valid mobile number" in row.last_error
    assert MOBILE not in row.last_error
    # Failed is final: the sweep leaves it for a person to look at.
    assert deliver_due_notifications(now=timezone.now() + timedelta(days=1))["sent"] == 0
    assert len(notify.requests) == 1


def test_a_refused_api_key_fails_the_row_for_a_person_to_fix_and_retry(notify, settings):
    settings.NOTIFY_API_KEY = API_KEY[:-4] + "0000"  # signs with the wrong secret
    row = queue_reminder()
    assert deliver_notification(notification_id=row.pk) == "failed"
    row = reload(row)
    assert "403" in row.last_error and "AuthError" in row.last_error


@pytest.mark.parametrize("status", [500, 429])
def test_notify_down_or_busy_is_tried_again_later_with_the_outbox_back_off(notify, status):
    notify.answer(status)
    row = queue_reminder()
    now = timezone.now()
    assert deliver_due_notifications(now=now)["retrying"] == 1
    row = reload(row)
    assert row.sent_at is None and row.failed_at is None
    assert row.due_at == now + RETRY_DELAYS[0]
    assert str(status) in row.last_error
    # Not before its time; then once, and sent.
    assert deliver_due_notifications(now=now + timedelta(seconds=30))["sent"] == 0
    assert deliver_due_notifications(now=now + RETRY_DELAYS[0])["sent"] == 1
    assert len(notify.requests) == 2
    assert reload(row).sent_at is not None


def test_notify_not_answering_in_time_is_tried_again_later(notify, settings):
    settings.NOTIFY_TIMEOUT = 0.3
    notify.delay = 1
    row = queue_reminder()
    assert deliver_notification(notification_id=row.pk) == "retrying"
    row = reload(row)
    assert row.sent_at is None and row.failed_at is None and row.attempts == 1


def test_a_text_notify_took_is_not_sent_again_when_its_answer_is_unreadable(notify):
    notify.garbled = True
    row = queue_reminder()
    assert deliver_notification(notification_id=row.pk) == "sent"
    assert deliver_due_notifications(now=timezone.now() + timedelta(hours=1))["sent"] == 0
    assert len(notify.requests) == 1


def test_with_notify_down_a_sweep_stops_texting_and_goes_on_emailing(notify):
    notify.answer(500, times=10)
    walk = make_walk(starts_at=timezone.now() + timedelta(hours=24))
    texting = [texting_booking(walk=walk) for _ in range(3)]
    emailing = make_booking(walk=walk)
    with transaction.atomic():
        for booking in texting:
            queue_notification(kind=Kind.WALK_CHANGED, booking=booking)
        queue_notification(kind=Kind.WALK_CHANGED, booking=emailing)
    outcomes = deliver_due_notifications()
    assert outcomes["sent"] == 1  # the email
    assert outcomes["retrying"] == 1  # the first text, after which Notify is left alone
    assert len(notify.requests) == 1
    untried = Notification.objects.filter(channel=Channel.SMS, attempts=0, claimed_at=None)
    assert untried.count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_parallel_sweeps_send_each_text_once(notify):
    walk = make_walk(capacity=40)
    bookings = [texting_booking(walk=walk, phone=f"+4477009009{n:02d}") for n in range(30)]
    Notification.objects.bulk_create(
        Notification(booking=booking, kind=Kind.WALK_CHANGED, channel=Channel.SMS)
        for booking in bookings
    )
    now = timezone.now()

    def sweep():
        return deliver_due_notifications(now=now, batch_size=3)

    first, second = run_in_threads(sweep, sweep)

    numbers = [request["json"]["phone_number"] for request in notify.requests]
    assert sorted(numbers) == sorted(booking.phone for booking in bookings)
    assert first["sent"] + second["sent"] == 30
    assert first["sent"] and second["sent"]  # they shared the work
    assert not Notification.objects.filter(sent_at=None).exists()
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}


def test_the_demo_writes_each_text_to_a_file(settings, tmp_path):
    settings.SMS_BACKEND = "walkandtalk.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    row = queue_reminder()
    assert deliver_notification(notification_id=row.pk) == "sent"
    [written] = (tmp_path / "sms").glob("*.txt")
    content = written.read_text()
    assert content.startswith(f"To: {MOBILE}\nDate: ")
    assert row.booking.manage_url() in content
    assert written.name.endswith(".txt") and len(written.stem.split("-")) >= 6  # time-uuid


def test_texts_with_no_backend_set_up_fail_for_a_person_to_see(settings):
    settings.SMS_BACKEND = ""
    row = queue_reminder()
    assert deliver_notification(notification_id=row.pk) == "failed"
    assert "Texts are not set up" in reload(row).last_error


def test_her_confirmation_is_emailed_while_her_reminders_go_by_text():
    from django.core import mail

    walk = make_walk(starts_at=timezone.now() + timedelta(hours=30))
    booking = texting_booking(walk=walk)
    with transaction.atomic():
        confirmation = queue_notification(kind=Kind.BOOKING_CONFIRMED, booking=booking)
        reminder = queue_notification(kind=Kind.WALK_CHANGED, booking=booking)
    deliver_notification(notification_id=confirmation.pk)
    deliver_notification(notification_id=reminder.pk)
    assert [message.to for message in mail.outbox] == [[booking.email]]
    assert [
        (to, body.startswith("Walk and Talk: Your walk has changed")) for to, body, _ in sms.outbox
    ] == [(MOBILE, True)]
