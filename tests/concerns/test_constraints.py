import pytest
from django.db import IntegrityError

from concerns.models import Feedback
from tests.factories import make_booking, make_concern

pytestmark = pytest.mark.django_db


def scores(**overrides):
    fields = {
        "felt_safe_before": 2,
        "felt_safe_after": 4,
        "confidence_in_police_before": 3,
        "confidence_in_police_after": 4,
    }
    fields.update(overrides)
    return fields


@pytest.mark.parametrize("field", list(scores()))
@pytest.mark.parametrize("value", [0, 6])
def test_survey_scores_are_one_to_five(field, value):
    with pytest.raises(IntegrityError, match="feedback_scores_one_to_five"):
        Feedback.objects.create(booking=make_booking(), **scores(**{field: value}))


def test_one_survey_answer_per_booking():
    booking = make_booking()
    Feedback.objects.create(booking=booking, **scores())
    with pytest.raises(IntegrityError):
        Feedback.objects.create(booking=booking, **scores())


def test_a_concern_position_has_both_coordinates_or_none():
    assert make_concern(lat=None, lng=None).pk
    assert make_concern(lat="51.4613", lng="-0.1156").pk
    with pytest.raises(IntegrityError, match="concern_position_is_whole_and_valid"):
        make_concern(lat="51.4613", lng=None)


def test_a_concern_position_is_on_the_earth():
    with pytest.raises(IntegrityError, match="concern_position_is_whole_and_valid"):
        make_concern(lat="91.0", lng="0.1")
