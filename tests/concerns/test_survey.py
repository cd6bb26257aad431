"""The survey after the walk, opened from the link in her email: one answer per booking."""

import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from concerns.models import Feedback
from concerns.services import SurveyAnswers, submit_feedback
from tests.factories import make_booking, make_walk

pytestmark = pytest.mark.django_db

ANSWERS = {
    "felt_safe_before": "2",
    "felt_safe_after": "4",
    "confidence_in_police_before": "3",
    "confidence_in_police_after": "5",
    "comments": "Better lighting by the station, please.",
    "wants_updates": "on",
}


@pytest.fixture
def booking():
    starts = timezone.now() - timedelta(days=2)
    walk = make_walk(starts_at=starts, status="completed")
    return make_booking(walk=walk, full_name="Grace Lewis", status="attended")


def path(booking):
    return booking.feedback_url().removeprefix("http://127.0.0.1:8000")


def test_her_link_opens_the_survey_privately(client, booking):
    response = client.get(path(booking))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    html = response.content.decode()
    assert '<meta name="referrer" content="no-referrer">' in html  # the page does not relax it
    assert '<legend class="form-label">Before the walk, how safe did you feel' in html
    assert 'id="id_felt_safe_before_4"' in html  # five choices, 0 to 4
    assert "Please do not include anyone’s name. This is not a way to report a crime." in html
    assert "Grace" not in html  # nothing on the page says who she is


def test_her_answers_are_saved_once(client, booking):
    response = client.post(path(booking), ANSWERS)
    assert response.status_code == 302
    feedback = Feedback.objects.get(booking=booking)
    assert (feedback.felt_safe_before, feedback.felt_safe_after) == (2, 4)
    assert (feedback.confidence_in_police_before, feedback.confidence_in_police_after) == (3, 5)
    assert feedback.comments == "Better lighting by the station, please."
    assert feedback.wants_updates is True
    thanks = client.get(path(booking))
    assert b"We have your answers" in thanks.content


def test_a_second_answer_is_refused_and_the_first_kept(client, booking):
    client.post(path(booking), ANSWERS)
    response = client.post(path(booking), {**ANSWERS, "felt_safe_before": "5", "comments": "x"})
    assert response.status_code == 409
    assert b"We have your answers" in response.content
    feedback = Feedback.objects.get()
    assert (feedback.felt_safe_before, feedback.comments) == (2, ANSWERS["comments"])


def test_not_wanting_updates_is_the_default(client, booking):
    answers = {k: v for k, v in ANSWERS.items() if k != "wants_updates"}
    client.post(path(booking), answers)
    assert Feedback.objects.get().wants_updates is False


def test_a_missing_answer_is_an_error_and_nothing_is_saved(client, booking):
    answers = {k: v for k, v in ANSWERS.items() if k != "felt_safe_after"}
    response = client.post(path(booking), answers)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    assert '<a href="#id_felt_safe_after_0">Choose how safe you feel after the walk</a>' in html
    kept = re.search(r'<input[^>]* id="id_felt_safe_before_1"[^>]*>', html).group(0)
    assert " checked" in kept  # what she chose is kept
    assert not Feedback.objects.exists()


@pytest.mark.parametrize("value", ["0", "6", "many"])
def test_an_answer_off_the_scale_is_an_error(client, booking, value):
    response = client.post(path(booking), {**ANSWERS, "felt_safe_before": value})
    assert response.status_code == 400
    assert not Feedback.objects.exists()


def test_comments_over_2000_characters_are_an_error(client, booking):
    response = client.post(path(booking), {**ANSWERS, "comments": "x" * 2001})
    assert response.status_code == 400
    assert (
        "Your comments must be 2,000 characters or fewer (it is 2,001)" in response.content.decode()
    )
    assert not Feedback.objects.exists()


def assert_not_found(response):
    assert response.status_code == 404
    html = response.content.decode()
    assert "Lambeth" not in html
    assert "How was your walk" not in html
    assert response["Referrer-Policy"] == "no-referrer"


def test_a_tampered_link_is_not_found(client, booking):
    token = booking.survey_token()
    tampered = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert_not_found(client.get(f"/feedback/{tampered}/"))
    assert_not_found(client.post(f"/feedback/{tampered}/", ANSWERS))
    assert_not_found(client.get(f"/feedback/{'x' * 500}/"))
    assert not Feedback.objects.exists()


@pytest.mark.parametrize("status", ["confirmed", "no_show", "cancelled", "waitlisted"])
def test_the_survey_is_only_for_women_who_came(client, booking, status):
    booking.status = status
    booking.save()
    assert_not_found(client.get(path(booking)))
    assert_not_found(client.post(path(booking), ANSWERS))


def test_the_link_works_for_30_days_after_the_walk(client, booking):
    with time_machine.travel(booking.walk.ends_at + timedelta(days=29, hours=23)):
        assert client.get(path(booking)).status_code == 200
    with time_machine.travel(booking.walk.ends_at + timedelta(days=30, minutes=1)):
        assert_not_found(client.get(path(booking)))
        assert_not_found(client.post(path(booking), ANSWERS))
    assert not Feedback.objects.exists()


def test_an_anonymised_booking_has_no_survey(client, booking):
    booking.anonymised_at = timezone.now()
    booking.save()
    assert_not_found(client.get(path(booking)))


def without_nonces(html: str) -> str:
    return re.sub(r'nonce="[^"]*"', "", html)


def test_her_manage_link_does_not_open_the_survey(client, booking):
    """Each link carries its own secret: a forwarded manage link cannot answer her survey.
    It is refused exactly as a made-up token is, so it does not even say it is a real one."""
    assert booking.manage_token() != booking.survey_token()
    unknown = client.get("/feedback/" + "0" * 64 + "/")
    for response in (
        client.get(f"/feedback/{booking.manage_token()}/"),
        client.post(f"/feedback/{booking.manage_token()}/", ANSWERS),
    ):
        assert_not_found(response)
        assert without_nonces(response.content.decode()) == without_nonces(unknown.content.decode())
    assert not Feedback.objects.exists()
    assert client.get(path(booking)).status_code == 200


def test_the_survey_page_has_no_manage_link_token_in_it(client, booking):
    # The page is public; its own address is the only place the secret appears.
    html = client.get(path(booking)).content.decode()
    assert booking.manage_token() not in html


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_answers_sent_at_once_save_one():
    walk = make_walk(starts_at=timezone.now() - timedelta(days=1), status="completed")
    booking = make_booking(walk=walk, status="attended")
    answers = SurveyAnswers(2, 4, 3, 4)
    barrier = threading.Barrier(2)
    outcomes = []

    def answer():
        try:
            barrier.wait()
            submit_feedback(booking=booking, answers=answers)
            outcomes.append("saved")
        except ValidationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=answer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already_answered", "saved"]
    assert Feedback.objects.count() == 1
