import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from bookings.models import Booking, Notification
from bookings.services import resend_manage_links
from tests.factories import make_booking, make_walk

pytestmark = pytest.mark.django_db

MANAGE_LINK = Notification.Kind.MANAGE_LINK


def sent_links():
    return Notification.objects.filter(kind=MANAGE_LINK, key="")


def test_she_gets_the_link_of_each_active_booking_on_an_upcoming_walk():
    now = timezone.now()
    upcoming = make_booking(email="amira@example.org")
    waiting = make_booking(email="Amira@example.org", status=Booking.Status.WAITLISTED)
    make_booking(email="amira@example.org", status=Booking.Status.CANCELLED)
    make_booking(email="amira@example.org", walk=make_walk(starts_at=now - timedelta(days=1)))
    make_booking(email="someone@example.org")
    assert resend_manage_links(email=" AMIRA@example.org ") == 2
    assert {n.booking_id for n in sent_links()} == {upcoming.pk, waiting.pk}


def test_asking_again_soon_after_sends_no_second_email(time_machine):
    time_machine.move_to(timezone.now())
    booking = make_booking(email="amira@example.org")
    resend_manage_links(email="amira@example.org")
    sent_links().update(sent_at=timezone.now())
    resend_manage_links(email="amira@example.org")
    assert sent_links().get().sent_at is not None
    time_machine.shift(timedelta(minutes=6))
    resend_manage_links(email="amira@example.org")
    assert sent_links().get(booking=booking).sent_at is None  # re-armed


def answer(email):
    client = Client()
    response = client.post("/bookings/lost-link/", {"email": email})
    assert response.status_code == 302
    page = client.get(response["Location"])
    body = page.content.decode()
    main = body[body.index("<main") : body.index("</main>")]
    return page, re.sub(r"[\w.]+@example\.org", "EMAIL", main)


def test_the_page_answers_the_same_whether_or_not_the_email_has_a_booking():
    make_booking(email="amira@example.org")
    booked, booked_text = answer("amira@example.org")
    _, unknown_text = answer("nobody@example.org")
    assert booked_text == unknown_text
    assert "Check your email" in booked_text
    assert "no-store" in booked["Cache-Control"]
    assert sent_links().count() == 1


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter your email address"),
        ("not-an-email", "Enter an email address in the correct format"),
        ("a" * 250 + "@example.org", "254 characters or fewer"),
        ("amira@example.org\x00", "Null characters are not allowed"),
    ],
)
def test_bad_input_gets_an_error_summary_a_400_and_sends_nothing(client, email, message):
    make_booking(email="amira@example.org")
    response = client.post("/bookings/lost-link/", {"email": email})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'href="#id_email"' in body
    assert message in body
    assert not sent_links().exists()


def test_the_walk_list_and_the_confirmation_point_to_the_lost_link_form(client):
    assert 'href="/bookings/lost-link/"' in client.get("/walks/").content.decode()
