"""Random and hostile values posted to every public form: never a 500, nothing written by a
form that was refused, and whatever she typed shown back escaped."""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings.models import Booking, Notification, WalkRequest
from concerns.models import Feedback
from patrols.models import Walk
from tests.factories import make_booking, make_walk

pytestmark = pytest.mark.django_db

MARKUP = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(1)//<a>",
]
HOSTILE = [
    *MARKUP,
    "' OR 1=1 --",
    "Robert'); DROP TABLE bookings_booking;--",
    "a\x00b",
    "\x1b[31m",
    "{{ 7|add:7 }}{% debug %}",
    "${7*7}%s%n",
    "\u202eevil",
    "😀 ✓ ü",
    '=HYPERLINK("http://evil.example")',
    "../../../../etc/passwd",
    "amira@example.org\r\nBcc: everyone@example.org",
    "x" * 5000,
    " ",
    "",
]
EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    database=None,  # no example files left in the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def value(**text):
    return st.one_of(st.sampled_from(HOSTILE), st.text(**text))


def email():
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.emails().map(lambda address: address[:254]),
        st.text(max_size=80),
    )


def checkbox():
    return st.sampled_from(["on", "", "off", "0", "true", "<b>on</b>", "\x00"])


def borough():
    return st.one_of(
        st.sampled_from(["lambeth", "westminster", "1", "0", "-1", "99999999999999999999"]),
        st.sampled_from(HOSTILE),
        st.text(max_size=40),
    )


def score():
    return st.one_of(st.sampled_from(["1", "3", "5", "0", "6", "-1", "3.5", "", "٣"]), value())


CONTACT = {
    "full_name": value(max_size=150),
    "email": email(),
    "phone": value(max_size=40),
    "accessibility_needs": value(max_size=300),
    "discreet_emails": checkbox(),
    "age_confirmed": checkbox(),
    "privacy_accepted": checkbox(),
}
BOOKING = st.fixed_dictionaries({**CONTACT, "topics": value(max_size=300)})
REQUEST = st.fixed_dictionaries(
    {
        **CONTACT,
        "borough": borough(),
        "route_description": value(max_size=300),
        "preferred_times": value(max_size=300),
    }
)
LOST_LINK = st.fixed_dictionaries({"email": email()})
SURVEY = st.fixed_dictionaries(
    {
        "felt_safe_before": score(),
        "felt_safe_after": score(),
        "confidence_in_police_before": score(),
        "confidence_in_police_after": score(),
        "comments": value(max_size=300),
        "wants_updates": checkbox(),
    }
)


def rows() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Booking, WalkRequest, Feedback, Notification))


@pytest.fixture(autouse=True)
def unlimited(settings):
    settings.PUBLIC_FORM_RATE_LIMIT = "1000000/600"


def post_and_check(client, url, data):
    before = rows()
    response = client.post(url, data)
    assert response.status_code < 500, (url, data)
    if response.status_code >= 400:
        assert rows() == before, ("a refused form wrote rows", data)
    body = response.content.decode()
    for typed in data.values():
        if typed in MARKUP:
            assert typed not in body, ("shown unescaped", typed)
    return response


@pytest.fixture
def walk():
    return make_walk(capacity=1000)


@EXAMPLES
@given(data=BOOKING)
def test_the_booking_form(client, walk, data):
    post_and_check(client, f"/walks/{walk.code}/book/", data)


@EXAMPLES
@given(data=REQUEST)
def test_the_route_request_form(client, data):
    post_and_check(client, "/request/", data)


@EXAMPLES
@given(data=LOST_LINK)
def test_the_lost_link_form(client, data):
    post_and_check(client, "/bookings/lost-link/", data)


@pytest.fixture
def survey_url():
    starts = timezone.now() - timedelta(days=1)
    walk = make_walk(starts_at=starts, status=Walk.Status.COMPLETED)
    return f"/feedback/{make_booking(walk=walk, status='attended').survey_token()}/"


@EXAMPLES
@given(data=SURVEY)
def test_the_survey_form(client, survey_url, data):
    response = post_and_check(client, survey_url, data)
    if response.status_code == 302:
        Feedback.objects.all().delete()  # one answer per booking: let the next example answer


@EXAMPLES
@given(action=value(max_size=50), token=value(max_size=100))
def test_the_manage_page(client, action, token):
    before = rows()
    booking = make_booking()
    response = client.post(f"/bookings/manage/{booking.manage_token()}/", {"action": action})
    assert response.status_code < 500
    booking.refresh_from_db()
    assert booking.status == (Booking.Status.CANCELLED if action == "cancel" else "confirmed")
    guessed = client.get(f"/bookings/manage/{token.replace('/', '')}x/")
    assert guessed.status_code < 500
    assert booking.reference not in guessed.content.decode()
    assert rows() >= before
