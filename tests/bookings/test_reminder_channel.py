"""She chooses how her reminders reach her: by email, or by text to a UK mobile, on the booking
form and later on her manage page. Her confirmation and her links are always emailed."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from bookings.models import Booking, Channel, Notification
from tests.factories import make_booking, make_walk
from tests.security.test_booking_outcome import comparable, everything_received, outcome_payloads

pytestmark = pytest.mark.django_db
Kind = Notification.Kind
FORM = {
    "full_name": "Jo Bloggs",
    "email": "jo@example.org",
    "age_confirmed": "on",
    "privacy_accepted": "on",
}
NOT_A_MOBILE = "Enter a UK mobile number, like 07700 900 982, to get text messages"


def book(client, walk, **fields):
    return client.post(f"/walks/{walk.code}/book/", {**FORM, **fields})


def channels(booking) -> dict[str, str]:
    return dict(booking.notifications.values_list("kind", "channel"))


def test_the_form_offers_email_or_texts_as_radios_with_email_chosen(client):
    page = client.get(f"/walks/{make_walk().code}/book/").content.decode()
    assert "How should we send your reminders?" in page
    assert '<legend class="form-label">How should we send your reminders?</legend>' in page
    assert 'type="radio" name="reminder_channel" value="email"' in page
    assert 'value="email" id="id_reminder_channel_0" class="form-check-input" checked' in page
    assert 'type="radio" name="reminder_channel" value="sms"' in page


def test_booking_with_texts_stores_her_mobile_in_e164_and_texts_only_her_reminders(client):
    walk = make_walk()
    response = book(client, walk, reminder_channel="sms", phone="07700 900 982")
    assert response.status_code == 302
    assert "We will remind you by text message" in client.get(response["Location"]).content.decode()
    booking = Booking.objects.get(walk=walk)
    assert booking.reminder_channel == Channel.SMS
    assert booking.phone == "+447700900982"
    assert channels(booking) == {
        Kind.BOOKING_CONFIRMED: Channel.EMAIL,
        Kind.REMINDER_24H: Channel.SMS,
        Kind.REMINDER_2H: Channel.SMS,
    }


def test_booking_without_choosing_gets_email_reminders(client):
    walk = make_walk()
    response = book(client, walk, phone="020 7946 0000")
    assert response.status_code == 302
    assert "We will remind you by email" in client.get(response["Location"]).content.decode()
    booking = Booking.objects.get(walk=walk)
    assert booking.reminder_channel == Channel.EMAIL
    assert set(channels(booking).values()) == {Channel.EMAIL}


@pytest.mark.parametrize("phone", ["", "020 7946 0000", "+33 6 12 34 56 78", "0800 123 456"])
def test_texts_need_a_uk_mobile_and_nothing_is_booked_without_one(client, phone):
    walk = make_walk()
    response = book(client, walk, reminder_channel="sms", phone=phone)
    assert response.status_code == 400
    page = response.content.decode()
    assert NOT_A_MOBILE in page
    assert 'href="#id_phone"' in page  # the error summary links to the field
    assert not Booking.objects.filter(walk=walk).exists()


def test_an_unknown_channel_is_refused(client):
    response = book(client, make_walk(), reminder_channel="pigeon")
    assert response.status_code == 400
    assert "Choose email or text message for your reminders" in response.content.decode()


def test_with_texts_off_the_form_offers_email_only_and_books_by_email(client, settings):
    settings.SMS_BACKEND = ""
    walk = make_walk()
    assert "reminder_channel" not in client.get(f"/walks/{walk.code}/book/").content.decode()
    assert book(client, walk, reminder_channel="sms", phone="07700 900 982").status_code == 302
    assert Booking.objects.get(walk=walk).reminder_channel == Channel.EMAIL


@time_machine.travel(datetime(2026, 6, 10, 12, 0, tzinfo=UTC), tick=False)
def test_choosing_texts_with_a_known_address_answers_as_a_new_address_does():
    """Her booking stands as it is; whoever typed her address learns nothing from the page."""
    walk = make_walk(capacity=5)
    victim = make_booking(walk=walk, email="victim@example.com")
    fields = {**FORM, "reminder_channel": "sms", "phone": "07700 900 123"}

    def attempt(email):
        client = Client()
        posted = client.post(f"/walks/{walk.code}/book/", {**fields, "email": email})
        return posted, client.get(posted["Location"])

    newcomer = attempt("someone@example.com")
    stranger = attempt("VICTIM@EXAMPLE.COM")
    assert [r.status_code for r in stranger] == [r.status_code for r in newcomer]
    assert outcome_payloads(*stranger) == outcome_payloads(*newcomer)
    assert comparable(everything_received(*stranger)) == comparable(everything_received(*newcomer))
    victim.refresh_from_db()
    assert victim.reminder_channel == Channel.EMAIL and victim.phone == ""


# --- her manage page -------------------------------------------------------------------------


def manage_url(booking) -> str:
    return f"/bookings/manage/{booking.manage_token()}/"


def test_her_page_offers_the_choice_and_says_how_she_is_reminded(client):
    booking = make_booking(phone="+447700900982", reminder_channel=Channel.SMS)
    page = client.get(manage_url(booking)).content.decode()
    assert "Your reminders" in page
    assert "by text message to your mobile ending 982" in page
    assert 'name="action" value="reminders"' in page
    assert 'value="sms" id="id_reminder_channel_1" class="form-check-input" checked' in page


def test_switching_to_texts_moves_her_unsent_reminders_and_leaves_sent_ones(client):
    walk = make_walk(starts_at=timezone.now() + timedelta(days=3))
    assert book(client, walk).status_code == 302
    booking = Booking.objects.get(walk=walk)
    booking.notifications.filter(kind=Kind.BOOKING_CONFIRMED).update(sent_at=timezone.now())
    due = dict(booking.notifications.values_list("kind", "due_at"))

    response = client.post(
        manage_url(booking),
        {"action": "reminders", "reminder_channel": "sms", "phone": "07700900982"},
    )
    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.reminder_channel, booking.phone) == (Channel.SMS, "+447700900982")
    rows = {(row.kind, row.channel): row.due_at for row in booking.notifications.all()}
    assert rows == {
        (Kind.BOOKING_CONFIRMED, Channel.EMAIL): due[Kind.BOOKING_CONFIRMED],
        (Kind.REMINDER_24H, Channel.SMS): due[Kind.REMINDER_24H],
        (Kind.REMINDER_2H, Channel.SMS): due[Kind.REMINDER_2H],
    }
    assert (
        "we will send your reminders by text message"
        in client.get(manage_url(booking)).content.decode()
    )

    # And back again.
    client.post(manage_url(booking), {"action": "reminders", "reminder_channel": "email"})
    booking.refresh_from_db()
    assert booking.reminder_channel == Channel.EMAIL
    assert set(channels(booking).values()) == {Channel.EMAIL}


def test_a_changed_walks_message_keeps_what_changed_when_it_moves_to_texts(client):
    booking = make_booking()
    changed_from = {
        "starts_at": "2026-07-01T17:30:00+00:00",
        "ends_at": "2026-07-01T19:00:00+00:00",
        "meeting_point": "Old gate",
    }
    Notification.objects.create(booking=booking, kind=Kind.WALK_CHANGED, changed_from=changed_from)
    client.post(
        manage_url(booking),
        {"action": "reminders", "reminder_channel": "sms", "phone": "07700900982"},
    )
    [row] = booking.notifications.all()
    assert (row.channel, row.changed_from) == (Channel.SMS, changed_from)


def test_her_page_refuses_a_landline_for_texts_and_changes_nothing(client):
    booking = make_booking()
    response = client.post(
        manage_url(booking),
        {"action": "reminders", "reminder_channel": "sms", "phone": "020 7946 0000"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert NOT_A_MOBILE in page and "Error:" in page
    booking.refresh_from_db()
    assert booking.reminder_channel == Channel.EMAIL


def test_a_wrong_token_or_her_survey_token_changes_nothing(client):
    booking = make_booking()
    data = {"action": "reminders", "reminder_channel": "sms", "phone": "07700900982"}
    for token in ("0" * 64, booking.survey_token()):
        assert client.post(f"/bookings/manage/{token}/", data).status_code == 404
    booking.refresh_from_db()
    assert booking.reminder_channel == Channel.EMAIL


def test_a_cancelled_booking_has_no_choice_to_make(client):
    booking = make_booking(status=Booking.Status.CANCELLED)
    assert 'value="reminders"' not in client.get(manage_url(booking)).content.decode()
    data = {"action": "reminders", "reminder_channel": "sms", "phone": "07700900982"}
    assert client.post(manage_url(booking), data).status_code == 400
    booking.refresh_from_db()
    assert booking.reminder_channel == Channel.EMAIL
