import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from bookings.models import Booking, Notification
from patrols.models import Walk
from tests.factories import make_booking, make_walk

pytestmark = pytest.mark.django_db

VALID = {
    "full_name": "Amira Begum",
    "email": "amira@example.org",
    "phone": "07700 900982",
    "accessibility_needs": "I walk slowly.",
    "topics": "The path by the railway.",
    "discreet_emails": "on",
    "age_confirmed": "on",
    "privacy_accepted": "on",
}
FIELDS = list(VALID)


def book(client, walk, **changes):
    data = {**VALID, **changes}
    return client.post(
        f"/walks/{walk.code}/book/", {k: v for k, v in data.items() if v is not None}
    )


def test_the_form_has_the_contract_field_names_and_links_the_privacy_notice(client):
    body = client.get(f"/walks/{make_walk().code}/book/").content.decode()
    for name in FIELDS:
        assert f'name="{name}"' in body
    assert 'href="/privacy/"' in body
    assert 'autocomplete="email"' in body
    assert "18 or over" in body
    assert "live or work in London" in body


def test_booking_a_place_redirects_to_a_confirmation_that_points_to_her_email(client):
    walk = make_walk()
    response = book(client, walk)
    assert response.status_code == 302
    assert response["Location"] == f"/walks/{walk.code}/booked/"
    booking = Booking.objects.get()
    assert (booking.full_name, booking.email, booking.discreet_emails) == (
        "Amira Begum",
        "amira@example.org",
        True,
    )
    confirmation = client.get(response["Location"])
    body = confirmation.content.decode()
    assert "Booking confirmed" in body
    # Whoever typed the form may not be her: the reference and address go to her inbox only.
    assert booking.reference not in body
    assert "amira@example.org" not in body
    assert "We have sent an email to the address you gave" in body
    assert walk.meeting_point in body
    assert "What happens next" in body
    assert "no-store" in confirmation["Cache-Control"]


def test_the_confirmation_is_shown_only_in_the_browser_that_booked(client):
    walk = make_walk()
    location = book(client, walk)["Location"]
    assert "Booking confirmed" in client.get(location).content.decode()
    body = Client().get(location).content.decode()
    assert "Booking confirmed" not in body
    assert "Check your email" in body


def test_the_confirmation_expires_after_half_an_hour(client, time_machine):
    time_machine.move_to(timezone.now())
    walk = make_walk()
    location = book(client, walk)["Location"]
    time_machine.shift(timedelta(minutes=29))
    assert "Booking confirmed" in client.get(location).content.decode()
    time_machine.shift(timedelta(minutes=2))
    assert "Booking confirmed" not in client.get(location).content.decode()


def test_a_full_walk_puts_her_on_the_waiting_list(client):
    walk = make_walk(capacity=1)
    make_booking(walk=walk)
    assert "Join the waiting list" in client.get(f"/walks/{walk.code}/book/").content.decode()
    response = book(client, walk)
    body = client.get(response["Location"]).content.decode()
    assert "You are on the waiting list" in body
    assert Booking.objects.get(email="amira@example.org").status == Booking.Status.WAITLISTED


def confirmation_text(client, response):
    body = client.get(response["Location"]).content.decode()
    main = body[body.index("<main") : body.index("</main>")]
    main = re.sub(r"WT-[A-Z0-9]{4}-[A-Z0-9]{4}", "REFERENCE", main)
    return re.sub(r"[\w.]+@example\.org", "EMAIL", main)


def test_booking_twice_with_the_same_email_looks_the_same_as_a_first_booking():
    walk = make_walk(capacity=1)
    book(Client(), walk, email="amira@example.org")  # she holds the only place
    newcomer = Client()
    first_time = confirmation_text(newcomer, book(newcomer, walk, email="bea@example.org"))
    again = Client()
    second_time = confirmation_text(again, book(again, walk, email="AMIRA@example.org"))
    assert second_time == first_time
    assert Booking.objects.filter(walk=walk).count() == 2
    amira = Booking.objects.get(email="amira@example.org")
    assert amira.status == Booking.Status.CONFIRMED
    assert amira.notifications.filter(kind=Notification.Kind.MANAGE_LINK).exists()


def test_line_breaks_in_her_text_are_kept(client):
    book(client, make_walk(), topics="The station.\r\nThe park.")
    assert Booking.objects.get().topics == "The station.\nThe park."


def test_the_optional_fields_may_be_left_empty(client):
    book(
        client,
        make_walk(),
        phone="",
        accessibility_needs="",
        topics="",
        discreet_emails=None,
    )
    booking = Booking.objects.get()
    assert (booking.phone, booking.topics, booking.discreet_emails) == ("", "", False)


BAD_INPUT = [
    # field, value (None: not sent), what she is told
    ("full_name", None, "Enter your full name"),
    ("full_name", "   ", "Enter your full name"),
    ("full_name", "A" * 101, "Full name must be 100 characters or fewer"),
    ("full_name", "Amira\x00Begum", "Null characters are not allowed"),
    ("full_name", "Amira\x1b[31mBegum", "Full name must not contain special characters"),
    ("full_name", "Amira\u202eBegum", "Full name must not contain special characters"),
    ("full_name", "Amira\nBegum", "Full name must not contain special characters"),
    ("email", None, "Enter your email address"),
    ("email", "amira", "Enter an email address in the correct format"),
    ("email", "amira@", "Enter an email address in the correct format"),
    ("email", "a" * 250 + "@example.org", "Email address must be 254 characters or fewer"),
    ("email", "amira\x07@example.org", "Enter an email address in the correct format"),
    ("phone", "call me after six", "Enter a phone number, like 07700 900 982"),
    ("phone", "12", "Enter a phone number, like 07700 900 982"),
    ("phone", "0" * 33, "Phone number must be 32 characters or fewer"),
    ("phone", "07700\t900982", "Phone number must not contain special characters"),
    ("topics", "x" * 1001, "must be 1000 characters or fewer"),
    ("topics", "The park\x08", "must not contain special characters"),
    ("accessibility_needs", "x" * 1001, "must be 1000 characters or fewer"),
    ("accessibility_needs", "\x1b[2J", "must not contain special characters"),
    ("discreet_emails", "perhaps", "Tick or untick"),
    ("age_confirmed", None, "Confirm that you are 18 or over"),
    ("age_confirmed", "", "Confirm that you are 18 or over"),
    ("age_confirmed", "I am 17", "Tick or untick"),
    ("privacy_accepted", None, "Confirm that you have read how your information is used"),
    ("privacy_accepted", "false", "Confirm that you have read how your information is used"),
    ("privacy_accepted", "yes please", "Tick or untick"),
]


@pytest.mark.parametrize(("field", "value", "message"), BAD_INPUT)
def test_bad_input_gets_an_error_summary_a_400_and_writes_nothing(client, field, value, message):
    walk = make_walk()
    response = book(client, walk, **{field: value})
    assert response.status_code == 400
    body = response.content.decode()
    summary = body[body.index('class="error-summary"') :]
    summary = summary[: summary.index("</div>")]
    assert f'href="#id_{field}"' in summary
    assert message in summary
    assert 'aria-invalid="true"' in body
    assert f"{field}_error" in body  # the message is tied to its field
    assert "<title>Error:" in body
    assert not Booking.objects.exists()
    assert not Notification.objects.exists()


def test_an_empty_post_gets_every_required_field_in_the_summary(client):
    walk = make_walk()
    response = client.post(f"/walks/{walk.code}/book/", {})
    assert response.status_code == 400
    body = response.content.decode()
    for field in ("full_name", "email", "age_confirmed", "privacy_accepted"):
        assert f'href="#id_{field}"' in body
    assert not Booking.objects.exists()


def test_what_she_typed_is_kept_when_the_form_comes_back(client):
    body = book(client, make_walk(), email="not an email").content.decode()
    assert 'value="Amira Begum"' in body
    assert "The path by the railway." in body


def test_what_she_typed_comes_back_escaped(client):
    body = book(client, make_walk(), full_name="<script>alert(1)</script>", email="x").content
    assert b"<script>alert(1)" not in body
    assert b"&lt;script&gt;alert(1)" in body


@pytest.mark.parametrize(
    "fields",
    [
        {"status": Walk.Status.CANCELLED},
        {"starts_at": timezone.now() - timedelta(hours=1)},
    ],
)
def test_a_walk_that_cannot_be_booked_says_so_and_a_post_writes_nothing(client, fields):
    walk = make_walk(**fields)
    page = client.get(f"/walks/{walk.code}/book/")
    assert page.status_code == 200
    assert "This walk cannot be booked" in page.content.decode()
    assert 'name="full_name"' not in page.content.decode()
    response = book(client, walk)
    assert response.status_code == 409
    assert not Booking.objects.exists()


def test_the_booking_page_of_a_route_walk_does_not_exist(client):
    walk = make_walk(kind=Walk.Kind.ROUTE)
    assert client.get(f"/walks/{walk.code}/book/").status_code == 404
    assert book(client, walk).status_code == 404
    assert not Booking.objects.exists()


def test_a_walk_cancelled_while_she_fills_the_form_is_refused_clearly(client, monkeypatch):
    walk = make_walk()
    # The walk is cancelled between the page's check and the service's locked check.
    monkeypatch.setattr(Walk, "is_bookable", lambda self, now=None: True)
    Walk.objects.filter(pk=walk.pk).update(status=Walk.Status.CANCELLED)
    response = book(client, walk)
    assert response.status_code == 409
    assert "This walk has been cancelled." in response.content.decode()
    assert not Booking.objects.exists()
