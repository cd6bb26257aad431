"""What a text says, and how long it is: every kind she may get by text fits two SMS with the
longest walk, borough, meeting point and message the models allow, carries her manage link,
and in discreet mode names neither the police nor the scheme."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction

from bookings.models import Booking, Channel, Notification
from bookings.services import message_walk, queue_notification, uk_mobile
from bookings.texts import NOT_DISCREET, build_text
from patrols.models import Borough, Walk
from tests.factories import bcu, make_booking, make_walk
from walkandtalk.sms import gsm7_length, segments

pytestmark = pytest.mark.django_db
Kind = Notification.Kind
TEXT_KINDS = sorted(Notification.CHANNEL_CHOSEN_KINDS)
# 17:30 UTC on 1 July 2026 is 6:30pm in London (BST).
SUMMER_EVENING = datetime(2026, 7, 1, 17, 30, tzinfo=UTC)


def max_length(model, field: str) -> int:
    return model._meta.get_field(field).max_length


def longest(model, field: str, words: str) -> str:
    """The longest value the model allows, made of these words repeated."""
    limit = max_length(model, field)
    return (words * (limit // len(words) + 1))[:limit]


def queue(**kwargs) -> Notification:
    with transaction.atomic():
        return queue_notification(**kwargs)


# --- counting --------------------------------------------------------------------------------


def test_gsm7_counts_extension_characters_twice_and_gives_up_outside_gsm7():
    assert gsm7_length("Meet at 6:30pm") == 14
    assert gsm7_length("£5 é ü") == 6  # in GSM-7's own table
    assert gsm7_length("[€]") == 6  # each from its extension table: escape + character
    assert gsm7_length("Łódź") is None  # outside GSM-7: the text goes as UCS-2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # 160 GSM-7 characters
        ("€" * 81, 2),
        ("ł" * 70, 1),  # UCS-2: 70 alone, 67 a part
        ("ł" * 71, 2),
        ("ł" * 134, 2),
        ("ł" * 135, 3),
        ("a" * 100 + "😀", 2),  # an emoji is two UTF-16 units, and makes it UCS-2
    ],
)
def test_segments_follow_the_gsm7_and_ucs2_limits(text, expected):
    assert segments(text) == expected


# --- her number ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("07700 900 982", "+447700900982"),
        ("+44 7700 900982", "+447700900982"),
        ("+44 (0)7700 900982", "+447700900982"),
        ("07400 123456", "+447400123456"),
    ],
)
def test_a_uk_mobile_is_stored_in_e164(typed, stored):
    assert uk_mobile(typed) == stored


@pytest.mark.parametrize(
    "typed", ["020 7946 0000", "0800 123 456", "+33 6 12 34 56 78", "+1 202 555 0100", "07700", ""]
)
def test_a_landline_a_number_abroad_or_nonsense_is_refused_for_texts(typed):
    with pytest.raises(ValidationError) as refused:
        uk_mobile(typed)
    assert refused.value.code == "not_uk_mobile"
    assert "Enter a UK mobile number, like 07700 900 982" in refused.value.messages[0]


# --- which channel ---------------------------------------------------------------------------


def test_her_confirmation_and_links_are_emailed_and_her_reminders_go_as_she_chose():
    booking = make_booking(phone="+447700900982", reminder_channel=Channel.SMS)
    for kind in Kind.values:
        expected = Channel.SMS if kind in Notification.CHANNEL_CHOSEN_KINDS else Channel.EMAIL
        assert booking.channel_for(kind) == expected
    assert booking.channel_for(Kind.BOOKING_CONFIRMED) == Channel.EMAIL
    assert booking.channel_for(Kind.MANAGE_LINK) == Channel.EMAIL
    assert booking.channel_for(Kind.REMINDER_24H) == Channel.SMS


def test_a_reminder_queued_for_a_texting_booking_is_a_text_row():
    booking = make_booking(phone="+447700900982", reminder_channel=Channel.SMS)
    assert queue(kind=Kind.REMINDER_2H, booking=booking).channel == Channel.SMS
    assert queue(kind=Kind.BOOKING_CONFIRMED, booking=booking).channel == Channel.EMAIL


# --- what each text says ---------------------------------------------------------------------


def longest_booking(*, discreet: bool, words: str = "Walk police Met officer ") -> Booking:
    """A booking on a walk with every name as long as the models allow, all saying "police"
    (which discreet texts must leave out), with a long cancel reason and message."""
    borough = Borough.objects.create(
        bcu=bcu(),
        name=longest(Borough, "name", "Kingston upon Thames "),
        slug="longest-borough",
    )
    walk = make_walk(
        borough=borough,
        starts_at=SUMMER_EVENING,
        title=longest(Walk, "title", words),
        meeting_point=longest(Walk, "meeting_point", words),
        cancel_reason="The officers were called away to police an event. " * 10,
    )
    return make_booking(
        walk=walk, phone="+447700900982", reminder_channel=Channel.SMS, discreet_emails=discreet
    )


def every_text(booking: Booking, now: datetime) -> dict[str, str]:
    with time_machine.travel(now - timedelta(minutes=1), tick=False):
        message = message_walk(walk=booking.walk, text="Meet at the police box. " * 40)
    texts = {}
    for kind in TEXT_KINDS:
        key = message.notification_key if kind == Kind.WALK_MESSAGE else ""
        texts[kind] = build_text(queue(kind=kind, booking=booking, key=key), now=now)
    return texts


@pytest.mark.parametrize("discreet", [False, True])
@pytest.mark.parametrize("words", ["Walk police Met officer ", "Łódź’s “walk” police "])
def test_every_text_fits_two_sms_with_the_longest_names_and_ends_with_her_link(
    discreet, words, settings
):
    settings.SITE_URL = "https://walk-and-talk.london.example.org"
    booking = longest_booking(discreet=discreet, words=words)
    now = SUMMER_EVENING - timedelta(hours=3)
    for kind, text in every_text(booking, now).items():
        assert segments(text) <= 2, (kind, len(text), text)
        assert text.endswith(booking.manage_url()), kind


def test_every_discreet_text_names_neither_the_police_nor_the_scheme(settings):
    settings.SITE_URL = "https://walkandtalk.police.example.org"  # her link may say anything
    booking = longest_booking(discreet=True)
    for kind, text in every_text(booking, SUMMER_EVENING - timedelta(hours=3)).items():
        assert not NOT_DISCREET.search(text.replace(booking.manage_url(), "")), (kind, text)


def test_a_text_says_when_and_where_in_london_time_and_names_the_scheme():
    walk = make_walk(
        starts_at=SUMMER_EVENING, title="Evening walk", meeting_point="Brixton station"
    )
    booking = make_booking(walk=walk, phone="+447700900982", reminder_channel=Channel.SMS)
    text = build_text(
        queue(kind=Kind.REMINDER_24H, booking=booking), now=SUMMER_EVENING - timedelta(hours=24)
    )
    assert text == (
        "Walk and Talk: Reminder: your walk is tomorrow at 6:30pm, Evening walk. "
        f"Meet at Brixton station. To change or cancel: {booking.manage_url()}"
    )


def test_a_short_message_from_the_inspector_is_in_the_text_itself():
    walk = make_walk(starts_at=SUMMER_EVENING)
    booking = make_booking(walk=walk, phone="+447700900982", reminder_channel=Channel.SMS)
    now = SUMMER_EVENING - timedelta(hours=5)
    with time_machine.travel(now, tick=False):
        message = message_walk(walk=walk, text="Meet at the other gate: the main one is shut.")
    row = Notification.objects.get(booking=booking, kind=Kind.WALK_MESSAGE)
    assert row.key == message.notification_key
    text = build_text(row, now=now)
    assert '"Meet at the other gate: the main one is shut."' in text
    assert "today at 6:30pm" in text
