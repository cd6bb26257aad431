"""Concerns' own messages in the outbox, registered with bookings (bookings/messages.py) from
ConcernsConfig.ready: the survey after the walk, and "you said, we did". Bookings sends them
like any other row without knowing what a concern or a survey is."""

from datetime import datetime

from bookings import messages
from bookings.emails import neutral
from bookings.models import Booking, Notification

from .models import ConcernAction, Feedback

Kind = Notification.Kind
NO_LONGER_APPLIES = "Not sent: the booking has changed since, and this no longer applies."


def survey_context(notification: Notification, *, discreet: bool, now: datetime) -> dict:
    return {"feedback_url": notification.booking.feedback_url()}


def survey_stale(notification: Notification, now: datetime) -> str:
    """The survey is for women who came, once: not after she was marked as not having come,
    nor once she has answered."""
    booking = notification.booking
    if booking.status != Booking.Status.ATTENDED:
        return NO_LONGER_APPLIES
    if Feedback.objects.filter(booking=booking).exists():
        return NO_LONGER_APPLIES
    return ""


def action_key(action: ConcernAction) -> str:
    """The outbox key of a "you said, we did" row: one message per action per woman."""
    return f"action:{action.pk}"


def concern_action(key: str) -> ConcernAction | None:
    """The action a "you said, we did" row is about, or None if it is gone."""
    prefix, _, pk = key.partition(":")
    if prefix != "action" or not pk.isdigit():
        return None
    return ConcernAction.objects.select_related("concern").filter(pk=int(pk)).first()


def action_context(notification: Notification, *, discreet: bool, now: datetime) -> dict:
    action = concern_action(notification.key)
    return {
        "action": {
            "category": action.concern.get_category_display(),
            "location": neutral(action.concern.location_text, discreet),
            "note": neutral(action.note, discreet),
            "status": action.get_status_display(),
            "partner": neutral(action.get_partner_display(), discreet),
        }
    }


def action_stale(notification: Notification, now: datetime) -> str:
    if concern_action(notification.key) is None:
        return "Not sent: the action has been deleted."
    return ""


def register() -> None:
    messages.register(Kind.FEEDBACK, context=survey_context, stale=survey_stale)
    messages.register(Kind.YOU_SAID_WE_DID, context=action_context, stale=action_stale)
