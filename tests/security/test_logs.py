"""Logs hold no email address and no token: a booking, her manage page and a bad link, as
written by the real console handler (its scrubbing filter and production JSON format)."""

import io
import json
import logging

import pytest

from bookings import links
from bookings.models import Booking
from tests.factories import make_request, make_walk
from walkandtalk.logs import ScrubFilter

pytestmark = pytest.mark.django_db

EMAIL = "amira.begum@example.org"


@pytest.fixture
def console():
    """What the console handler configured in settings.LOGGING writes, as it writes it."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, ScrubFilter) for f in h.filters)
    )
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)


def test_a_booking_and_visits_to_her_manage_page_log_no_email_and_no_token(
    client, console, django_capture_on_commit_callbacks
):
    walk = make_walk()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/walks/{walk.code}/book/",
            {
                "full_name": "Amira Begum",
                "email": EMAIL,
                "phone": "07700 900123",
                "age_confirmed": "on",
                "privacy_accepted": "on",
            },
            follow=True,
        )
    assert response.status_code == 200
    booking = Booking.objects.get(email=EMAIL)
    token = booking.manage_token()
    assert client.get(f"/bookings/manage/{token}/").status_code == 200
    # A link mangled by a mail client: one character lost. Django logs the 404 with its path.
    assert client.get(f"/bookings/manage/{token[:-1]}/").status_code == 404
    assert client.get(f"/feedback/{token}/?email={EMAIL}").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/bookings/manage/{token}/", {"action": "cancel"})
    # Something in the app logs her address by mistake: the handler removes it.
    logging.getLogger("bookings").warning("Could not reach %s about %s", EMAIL, booking)

    written = console.getvalue()
    lines = written.strip().splitlines()
    assert lines, "the handler wrote nothing: the test would prove nothing"
    records = [json.loads(line) for line in lines]  # production logs are JSON, one per line
    messages = [record["message"] for record in records]
    assert "Not Found: /bookings/manage/[token]/" in messages
    assert any(m.startswith("Not Found: /feedback/[token]/") for m in messages)
    assert f"Could not reach [email] about {booking.reference}" in messages
    assert EMAIL not in written
    assert "amira" not in written.lower()
    assert token not in written
    assert token[:-1] not in written
    assert token[:16] not in written


def test_her_request_link_is_scrubbed_from_the_logs(client, console):
    token = links.make_token(make_request().reference, links.REQUEST)
    assert client.get(f"/requests/{token[:-1]}/").status_code == 404
    written = console.getvalue()
    assert "Not Found: /requests/[token]/" in written
    assert token[:16] not in written
