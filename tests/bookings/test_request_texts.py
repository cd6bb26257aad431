"""A woman asking for a walk on her own route chooses how its reminders reach her, as on the
booking form: by email, or by text to a UK mobile. The walk an inspector makes from her
request then reminds her that way; her acknowledgement, her link and the news that it is
scheduled are always emailed."""

import pytest

from bookings.models import Channel, Notification, WalkRequest
from tests.bookings.test_request_status import scheduled
from tests.bookings.test_request_walk import send

pytestmark = pytest.mark.django_db
Kind = Notification.Kind
NOT_A_MOBILE = "Enter a UK mobile number, like 07700 900 982, to get text messages"


def test_the_request_form_offers_email_or_texts_with_email_chosen(client):
    page = client.get("/request/").content.decode()
    assert '<legend class="form-label">How should we send your reminders?</legend>' in page
    assert 'value="email" id="id_reminder_channel_0" class="form-check-input" checked' in page
    assert 'type="radio" name="reminder_channel" value="sms"' in page


def test_texts_chosen_on_her_request_remind_her_of_the_walk_made_from_it(client):
    response = send(client, reminder_channel="sms", phone="07700 900 982")

    assert response.status_code == 302
    walk_request = WalkRequest.objects.get()
    assert (walk_request.reminder_channel, walk_request.phone) == (Channel.SMS, "+447700900982")
    assert walk_request.notifications.get().channel == Channel.EMAIL  # the acknowledgement

    walk = scheduled(walk_request)

    [booking] = walk.bookings.all()
    assert (booking.reminder_channel, booking.phone) == (Channel.SMS, "+447700900982")
    assert dict(booking.notifications.values_list("kind", "channel")) == {
        Kind.REMINDER_24H: Channel.SMS,
        Kind.REMINDER_2H: Channel.SMS,
    }
    assert walk_request.notifications.get(kind=Kind.REQUEST_SCHEDULED).channel == Channel.EMAIL


def test_email_stays_the_way_when_she_does_not_choose(client):
    assert send(client, phone="020 7946 0000").status_code == 302
    walk_request = WalkRequest.objects.get()
    assert walk_request.reminder_channel == Channel.EMAIL
    booking = scheduled(walk_request).bookings.get()
    assert set(booking.notifications.values_list("channel", flat=True)) == {Channel.EMAIL}


@pytest.mark.parametrize("phone", ["", "020 7946 0000"])
def test_texts_need_a_uk_mobile_and_nothing_is_kept_without_one(client, phone):
    response = send(client, reminder_channel="sms", phone=phone)

    assert response.status_code == 400
    assert NOT_A_MOBILE in response.content.decode()
    assert not WalkRequest.objects.exists()


def test_without_texts_set_up_the_choice_is_not_offered(client, settings):
    settings.SMS_BACKEND = ""
    assert "How should we send your reminders?" not in client.get("/request/").content.decode()
    assert send(client, reminder_channel="sms", phone="07700 900 982").status_code == 302
    assert WalkRequest.objects.get().reminder_channel == Channel.EMAIL
