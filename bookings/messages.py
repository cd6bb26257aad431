"""The message kinds other code adds to the outbox, each registered by the app that owns it.

The outbox (Notification) and its delivery belong to bookings, but some messages are about
another app's data: the survey and "you said, we did" are about concerns, which sits above
bookings and which bookings must not import. So such an app registers its kinds here, from its
AppConfig.ready, saying for each:

- `context(notification, discreet, now)`: what the kind adds to the usual email to her (her
  walk, her links, the brand) for its template, templates/emails/<kind>*;
- `build(notification, now)`: instead, the whole email, for a message not to her (the
  inspectors' digest);
- `stale(notification, now)`: why the message should no longer go ("" when it should), asked
  just before sending; a stale message is skipped with that reason, not failed.

Bookings' own messages to her (confirmations, reminders, changes, route requests) keep their
rules in bookings/emails.py and bookings/delivery.py. The kind's value stays in
Notification.Kind, which the database stores.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class MessageKind:
    context: Callable | None = None
    build: Callable | None = None
    stale: Callable | None = None


NOTHING = MessageKind()
_kinds: dict[str, MessageKind] = {}


def register(
    kind: str,
    *,
    context: Callable | None = None,
    build: Callable | None = None,
    stale: Callable | None = None,
) -> None:
    """Say how messages of `kind` are written and when they no longer apply. Registering a
    kind twice with other hooks is a mistake (two owners), and raises."""
    entry = MessageKind(context=context, build=build, stale=stale)
    if _kinds.setdefault(kind, entry) != entry:
        raise ValueError(f"Message kind {kind!r} is already registered.")


def kind(name: str) -> MessageKind:
    return _kinds.get(name, NOTHING)


def stale_reason(notification, now: datetime) -> str:
    """Why this row should not be sent, by its kind's own rule; "" to send."""
    entry = kind(notification.kind)
    return entry.stale(notification, now) if entry.stale else ""
