"""Message kinds register themselves with the outbox: the app that owns a kind says how it is
written and when it no longer applies, so bookings sends concerns' messages without reaching
into concerns."""

import pytest

from bookings import messages
from bookings.models import Notification

Kind = Notification.Kind


@pytest.mark.parametrize("kind", [Kind.FEEDBACK, Kind.YOU_SAID_WE_DID])
def test_concerns_registers_its_own_kinds(kind):
    registered = messages.kind(kind)
    assert registered.context.__module__ == "concerns.messages"
    assert registered.stale.__module__ == "concerns.messages"


def test_the_digest_is_registered_by_bookings_with_its_own_email():
    registered = messages.kind(Kind.DAILY_DIGEST)
    assert registered.build.__module__ == "bookings.digest"


def test_a_kind_has_one_owner():
    def other_rule(notification, now):
        return "no"

    with pytest.raises(ValueError, match="already registered"):
        messages.register(Kind.FEEDBACK, stale=other_rule)
    # Registering the same hooks again (an app's ready() run twice) changes nothing.
    registered = messages.kind(Kind.FEEDBACK)
    messages.register(
        Kind.FEEDBACK, context=registered.context, build=registered.build, stale=registered.stale
    )
    assert messages.kind(Kind.FEEDBACK) == registered
