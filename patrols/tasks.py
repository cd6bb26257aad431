"""Celery tasks of the police side: the inspectors' daily digest."""

import logging
from datetime import datetime, timedelta

from celery import shared_task
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from walkandtalk.mail import build_email

from .models import BCU, Walk

logger = logging.getLogger(__name__)

REQUEST_OVERDUE = timedelta(days=3)
LISTED = 30  # an email that goes on for pages is not read


def inspector_emails(bcu: BCU) -> list[str]:
    users = get_user_model().objects.filter(
        is_active=True,
        groups__name="Inspectors",
        officer__bcu=bcu,
        officer__is_active=True,
    )
    return sorted(set(users.exclude(email="").values_list("email", flat=True)))


def digest_for(bcu: BCU, now: datetime) -> dict | None:
    """What the BCU's inspectors need to act on, or None when there is nothing."""
    # Route requests belong to the bookings app, which sits above patrols: look the model up
    # rather than import it, so this module keeps the imports pointing one way.
    WalkRequest = apps.get_model("bookings", "WalkRequest")
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
            borough__bcu=bcu, status="open", created_at__lte=now - REQUEST_OVERDUE
        )
        .select_related("borough")
        .order_by("created_at")
    )
    walk_count, request_count = walks.count(), requests.count()
    if not (walk_count or request_count):
        return None
    listed_requests = list(requests[:LISTED])
    for walk_request in listed_requests:
        walk_request.days_waiting = (now - walk_request.created_at).days
    admin = settings.SITE_URL + reverse("admin:patrols_walk_changelist")
    return {
        "bcu": bcu,
        "walks": list(walks[:LISTED]),
        "walk_count": walk_count,
        "requests": listed_requests,
        "request_count": request_count,
        "minimum": settings.WALK_MIN_OFFICERS,
        "walks_url": f"{admin}?when=upcoming&staffing=short",
        "requests_url": settings.SITE_URL + reverse("admin:bookings_walkrequest_changelist"),
    }


@shared_task(name="patrols.tasks.send_daily_digest", ignore_result=True)
def send_daily_digest() -> int:
    """Email each BCU's inspectors its understaffed upcoming walks and its route requests
    waiting more than 3 days. Nothing to report, no email. Returns how many were sent."""
    now = timezone.now()
    sent = 0
    for bcu in BCU.objects.all():
        to = inspector_emails(bcu)
        if not to:
            continue
        context = digest_for(bcu, now)
        if context is None:
            continue
        try:
            build_email(template="patrols/digest_email", context=context, to=to).send()
        except Exception:  # one BCU's failure must not stop the others' digests
            logger.exception("Daily digest for %s was not sent", bcu.code)
            continue
        sent += 1
    return sent
