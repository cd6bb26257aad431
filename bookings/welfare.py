"""The welfare alert: a walk its officers started (patrols/welfare.py) and nobody has marked
safe WELFARE_CHECK_AFTER after its planned end. Its BCU's inspectors and its officers other than
the one who started it are each emailed, once.

Raised by beat's outbox sweep (bookings.tasks.deliver_due_notifications) before it delivers, so
an alert goes out within the minute it falls due. One outbox row per walk per recipient: the
key names both, and the outbox's unique (bcu, kind, key) keeps a second sweep, or two at once,
from adding another. The row holds no address: the email is written when it is sent, to her
address as it is then. When the walk is marked safe before that, the row is skipped (`stale`).

The email names the walk, its meeting point, its planned end and the officer who started it;
never a woman booked on it.
"""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from patrols.models import Walk
from patrols.services import INSPECTORS
from walkandtalk.mail import build_email

from . import messages
from .links import site_url
from .models import Notification
from .services import queue_bcu_notification

TEMPLATE = "patrols/welfare_alert_email"
KEY_PREFIX = "welfare"


def alert_key(walk: Walk, user_id: int) -> str:
    """The row's key: one alert per walk per person."""
    return f"{KEY_PREFIX}:{walk.pk}:{user_id}"


def parse_key(key: str) -> tuple[int, int] | None:
    """(walk id, user id) from a row's key, or None when it is not an alert's."""
    prefix, _, rest = key.partition(":")
    walk_id, _, user_id = rest.partition(":")
    if prefix != KEY_PREFIX or not (walk_id.isdigit() and user_id.isdigit()):
        return None
    return int(walk_id), int(user_id)


def alert_recipients(walk: Walk):
    """Who is alerted: the active inspectors of the walk's BCU, and its active officers other
    than the one who started it, each with an email address."""
    started_by = walk.check_in.started_by_id
    team = Q(groups__name=INSPECTORS, officer__bcu=walk.bcu_id) | Q(officer__assignments__walk=walk)
    return (
        get_user_model()
        .objects.filter(team, is_active=True, officer__is_active=True)
        .exclude(officer__pk=started_by)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def raise_welfare_alerts(now: datetime | None = None) -> int:
    """Queue an alert to each recipient of every walk overdue at `now` (Walk.welfare_overdue).
    Safe to run often and at the same time as itself: a row already there is left as it is.
    Returns how many rows it added."""
    now = now or timezone.now()
    queued = 0
    overdue = (
        Walk.objects.welfare_overdue(now)
        .exclude(status=Walk.Status.CANCELLED)
        .select_related("check_in")
    )
    for walk in overdue:
        for user_id in alert_recipients(walk).values_list("pk", flat=True):
            if queue_bcu_notification(
                bcu_id=walk.bcu_id,
                kind=Notification.Kind.WELFARE_ALERT,
                key=alert_key(walk, user_id),
                due_at=now,
            ):
                queued += 1  # else already raised, by an earlier or a parallel sweep
    return queued


def _alert_subject(notification: Notification):
    """(walk, user) the row is about; either None when gone."""
    parsed = parse_key(notification.key)
    if parsed is None:
        return None, None
    walk_id, user_id = parsed
    walk = Walk.objects.select_related("borough", "check_in__started_by").filter(pk=walk_id).first()
    user = get_user_model().objects.filter(pk=user_id, is_active=True).exclude(email="").first()
    return walk, user


def alert_stale(notification: Notification, now: datetime) -> str:
    """Not sent once the walk is marked safe (or called off), nor to someone who has left."""
    walk, user = _alert_subject(notification)
    if walk is None:
        return "Not sent: the walk has been deleted."
    if user is None:
        return "Not sent: the recipient has no active account with an email address."
    if walk.status == Walk.Status.CANCELLED:
        return "Not sent: the walk was called off."
    if not walk.is_welfare_overdue(now):
        return "Not sent: the walk was marked safe."
    return ""


def build_alert(notification: Notification, now: datetime):
    walk, user = _alert_subject(notification)
    is_inspector = user.groups.filter(name=INSPECTORS).exists()
    check_in = walk.check_in
    context = {
        "walk": walk,
        "started_by": check_in.started_by,
        "started_at": check_in.started_at,
        "due_at": check_in.due_at(),
        "is_inspector": is_inspector,
        "url": site_url("admin:patrols_walk_change", walk.pk)
        if is_inspector
        else site_url("staff:home"),
    }
    return build_email(template=TEMPLATE, context=context, to=[user.email])


def register() -> None:
    messages.register(Notification.Kind.WELFARE_ALERT, build=build_alert, stale=alert_stale)
