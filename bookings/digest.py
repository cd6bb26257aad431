"""The inspectors' daily digest: each BCU's upcoming walks short of officers, and its route
requests waiting more than 3 days; and what apps above bookings add with `register_section`
(partners: referrals overdue or handed back). Nothing to report, no email.

It goes through the outbox like every other email: the 7am task queues one row per BCU per
London day (the key is the day, so a task run twice, or handed out twice by the broker, queues
one), and delivery sends it with its retries. The row holds no address and no content: the
digest is written when it is sent, to the BCU's inspectors as they are then, from the walks
and requests as they are then.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from patrols.models import BCU, Walk
from patrols.services import INSPECTORS
from walkandtalk.mail import build_email

from . import messages
from .links import site_url
from .models import Notification, WalkRequest
from .services import queue_bcu_notification

REQUEST_OVERDUE = timedelta(days=3)
LISTED = 30  # an email that goes on for pages is not read
TEMPLATE = "patrols/digest_email"

# Sections other apps add: section(bcu, now) -> None (nothing to report) or a dict with
# "template" (drawn from <template>.txt and <template>.html with the section as `section`),
# "count" (how many things it lists, for the subject) and "subject" (its words there).
_sections: list[Callable] = []


def register_section(section: Callable) -> None:
    """Add a section to every BCU's digest (once, however often this is called)."""
    if section not in _sections:
        _sections.append(section)


def sections_for(bcu: BCU, now: datetime) -> list[dict]:
    return [found for section in _sections if (found := section(bcu, now)) is not None]


def inspector_emails(bcu: BCU) -> list[str]:
    users = get_user_model().objects.filter(
        is_active=True,
        groups__name=INSPECTORS,
        officer__bcu=bcu,
        officer__is_active=True,
    )
    return sorted(set(users.exclude(email="").values_list("email", flat=True)))


def digest_for(bcu: BCU, now: datetime) -> dict | None:
    """What the BCU's inspectors need to act on, or None when there is nothing."""
    walks = (
        Walk.objects.in_bcu(bcu)
        .upcoming(now)
        .filter(status=Walk.Status.SCHEDULED)
        .with_counts()
        .filter(officer_count__lt=settings.WALK_MIN_OFFICERS)
        .select_related("borough")
        .order_by("starts_at")
    )
    requests = (
        WalkRequest.objects.filter(
            borough__bcu=bcu,
            status=WalkRequest.Status.OPEN,
            created_at__lte=now - REQUEST_OVERDUE,
        )
        .select_related("borough")
        .order_by("created_at")
    )
    walk_count, request_count = walks.count(), requests.count()
    sections = sections_for(bcu, now)
    if not (walk_count or request_count or sections):
        return None
    listed_requests = list(requests[:LISTED])
    for walk_request in listed_requests:
        walk_request.days_waiting = (now - walk_request.created_at).days
    return {
        "bcu": bcu,
        "walks": list(walks[:LISTED]),
        "walk_count": walk_count,
        "requests": listed_requests,
        "request_count": request_count,
        "minimum": settings.WALK_MIN_OFFICERS,
        "walks_url": f"{site_url('admin:patrols_walk_changelist')}?when=upcoming&staffing=short",
        "requests_url": site_url("admin:bookings_walkrequest_changelist"),
        "sections": sections,
    }


def digest_day(now: datetime) -> str:
    """The row's key: the London day it is for."""
    return timezone.localdate(now).isoformat()


def queue_daily_digests(now: datetime | None = None) -> int:
    """Queue today's digest for each BCU with something to report and an inspector to read it;
    one row per BCU per day however often this runs. Returns how many rows it added."""
    now = now or timezone.now()
    queued = 0
    for bcu in BCU.objects.all():
        if not inspector_emails(bcu) or digest_for(bcu, now) is None:
            continue
        if queue_bcu_notification(
            bcu_id=bcu.pk, kind=Notification.Kind.DAILY_DIGEST, key=digest_day(now), due_at=now
        ):
            queued += 1  # else already queued today
    return queued


def digest_stale(notification: Notification, now: datetime) -> str:
    if notification.key != digest_day(now):
        return "Not sent: a later day's digest replaces it."
    if not inspector_emails(notification.bcu):
        return "Not sent: the BCU has no inspector with an email address."
    if digest_for(notification.bcu, now) is None:
        return "Not sent: nothing to report any more."
    return ""


def build_digest(notification: Notification, now: datetime):
    bcu = notification.bcu
    return build_email(template=TEMPLATE, context=digest_for(bcu, now), to=inspector_emails(bcu))


def register() -> None:
    messages.register(Notification.Kind.DAILY_DIGEST, build=build_digest, stale=digest_stale)
