"""A message to the women on a walk ("meet at the other gate"): written by an inspector in the
admin, kept with the walk, and sent through the outbox once to each woman with a place. The
clock is pinned: a winter evening's walk, three days ahead."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from bookings.delivery import deliver_notification
from bookings.models import Booking, Notification, WalkMessage
from bookings.services import cancel_booking, cancel_walk, message_walk
from tests.factories import borough, login_staff, make_booking, make_user, make_walk

pytestmark = pytest.mark.django_db
Kind = Notification.Kind

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
SEVEN_PM = datetime(2026, 11, 5, 19, 0, tzinfo=UTC)  # GMT: 7pm in London
GATE = "Meet at the Albany Road gate: the main gate is closed."


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def walk():
    return make_walk(starts_at=SEVEN_PM, capacity=2)


def rows(message):
    return Notification.objects.filter(kind=Kind.WALK_MESSAGE, key=message.notification_key)


def test_each_woman_with_a_place_is_sent_it_once_even_if_it_is_sent_twice(walk, mailoutbox):
    first = make_booking(walk=walk)
    second = make_booking(walk=walk)
    make_booking(walk=walk, status=Booking.Status.WAITLISTED)
    make_booking(walk=walk, status=Booking.Status.CANCELLED)
    by = make_user("Inspectors", officer_bcu="AS")

    message = message_walk(walk=walk, text=f"  {GATE}\n", by=by)
    assert (message.text, message.sent_by, message.told, message.repeat) == (GATE, by, 2, False)
    assert {row.booking_id for row in rows(message)} == {first.pk, second.pk}
    for row in rows(message):
        assert deliver_notification(notification_id=row.pk) == "sent"

    again = message_walk(walk=walk, text=GATE, by=by)  # a double submit, or the work run twice
    assert (again.pk, again.told, again.repeat) == (message.pk, 2, True)
    assert WalkMessage.objects.count() == 1
    assert rows(message).count() == 2
    assert all(row.sent_at is not None for row in rows(message))  # not re-armed
    assert sorted(m.to[0] for m in mailoutbox) == sorted([first.email, second.email])
    email = mailoutbox[0]
    assert email.subject == "Walk and Talk: a message about your walk on Thu 5 Nov"
    assert GATE in email.body and "from the local police team" in email.body
    assert GATE in email.alternatives[0][0]
    assert "7pm" in email.body  # the walk as it is


def test_the_same_words_later_are_a_new_message(walk, clock):
    make_booking(walk=walk)
    message_walk(walk=walk, text=GATE)
    clock.shift(timedelta(minutes=30))
    later = message_walk(walk=walk, text=GATE)
    assert not later.repeat and WalkMessage.objects.count() == 2
    assert Notification.objects.filter(kind=Kind.WALK_MESSAGE).count() == 2


def test_a_discreet_email_says_no_police_and_sends_her_to_her_page(walk, mailoutbox, client):
    booking = make_booking(walk=walk, discreet_emails=True)
    message = message_walk(walk=walk, text=GATE)
    deliver_notification(notification_id=rows(message).get().pk)
    [email] = mailoutbox
    assert email.subject == "A message about your walk on Thu 5 Nov"
    assert GATE in email.body
    assert "police" not in email.body.lower()

    told = message_walk(walk=walk, text="The police van is parked at the gate.")
    deliver_notification(notification_id=rows(told).get().pk)
    discreet = mailoutbox[1]
    assert "police" not in discreet.body.lower()
    assert "read it on your booking page" in discreet.body
    page = client.get(booking.manage_url()).content.decode()
    assert "The police van is parked at the gate." in page  # where she reads it
    assert GATE in page


def test_a_booking_cancelled_before_sending_is_skipped(walk, mailoutbox):
    booking = make_booking(walk=walk)
    message = message_walk(walk=walk, text=GATE)
    cancel_booking(booking=booking)
    assert deliver_notification(notification_id=rows(message).get().pk) == "skipped"
    assert not [m for m in mailoutbox if GATE in m.body]


def test_no_message_about_a_walk_called_off_or_over_nor_an_empty_one(walk, clock):
    with pytest.raises(ValidationError, match="Write the message"):
        message_walk(walk=walk, text="   ")
    over = make_walk(starts_at=NOW - timedelta(hours=3))
    with pytest.raises(ValidationError, match="over"):
        message_walk(walk=over, text=GATE)
    cancel_walk(walk=walk, reason="Storm warning")
    with pytest.raises(ValidationError, match="cancelled"):
        message_walk(walk=walk, text=GATE)
    assert not WalkMessage.objects.exists()


# --- In the admin ----------------------------------------------------------------------------


def message_page(walk):
    return reverse("admin:patrols_walk_message", args=[walk.pk])


def test_an_inspector_sends_it_from_the_walk_page_and_sees_it_kept_there(client, walk):
    make_booking(walk=walk)
    login_staff(client, make_user("Inspectors", officer_bcu="AS"))
    change = client.get(reverse("admin:patrols_walk_change", args=[walk.pk])).content.decode()
    assert f'href="{message_page(walk)}"' in change
    page = client.get(message_page(walk))
    assert page.status_code == 200
    assert 'name="text"' in page.content.decode()
    response = client.post(message_page(walk), {"text": GATE}, follow=True)
    assert "Message sent to 1 woman with a place on the walk." in response.content.decode()
    assert GATE in response.content.decode()  # listed on the walk page
    assert WalkMessage.objects.get().sent_by.officer.bcu.code == "AS"


def test_an_empty_message_or_control_characters_are_refused_on_the_form(client, walk):
    login_staff(client, make_user("Inspectors", officer_bcu="AS"))
    empty = client.post(message_page(walk), {"text": ""})
    assert empty.status_code == 400
    assert "Enter the message to send to the women booked." in empty.content.decode()
    hidden = client.post(message_page(walk), {"text": "Meet at the gate\u202e"})
    assert hidden.status_code == 400
    assert not WalkMessage.objects.exists()


def test_another_bcus_walk_is_a_404(client):
    login_staff(client, make_user("Inspectors", officer_bcu="AS"))
    westminster = make_walk(borough=borough("westminster"), starts_at=SEVEN_PM)
    assert client.get(message_page(westminster)).status_code == 404
    assert client.post(message_page(westminster), {"text": GATE}).status_code == 404
    assert not WalkMessage.objects.exists()


def test_an_officer_without_change_permission_cannot_send_one(client, walk):
    login_staff(client, make_user("Officers", officer_bcu="AS"))
    assert client.post(message_page(walk), {"text": GATE}).status_code in (302, 403)
    assert not WalkMessage.objects.exists()
