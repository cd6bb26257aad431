"""The public information pages: home, about, what to expect, privacy, accessibility, help.

Plain pages with little data of their own. The privacy notice states the retention period and
the cookies from settings, and "what to expect" the length of the walks on offer, so neither page
can drift from what the site actually does.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.shortcuts import render

from patrols.models import Walk
from reports.queries import aggregate_with_median
from walkandtalk.sms import texts_enabled

from .views import outcome_cookie


def _render(request, template: str, **context):
    return render(
        request, f"pages/{template}", {"contact_email": settings.CONTACT_EMAIL, **context}
    )


def home(request):
    return render(request, "home.html")


def about(request):
    return _render(request, "about.html")


def typical_walk_length() -> timedelta:
    """How long a walk lasts: the median length of the upcoming group walks open for booking,
    computed by the database (one query), or WALK_TYPICAL_MINUTES when none is coming up. The
    median, not the mean, so one long special walk does not stretch what every page promises."""
    walks = Walk.objects.upcoming().bookable()
    median = aggregate_with_median(walks, F("ends_at") - F("starts_at"))["median"]
    return median or timedelta(minutes=settings.WALK_TYPICAL_MINUTES)


def about_length(length: timedelta) -> str:
    """A length as the page says it, to the nearest quarter of an hour: "about 45 minutes",
    "about an hour", "about an hour and a half", "about 2 hours", "about 1 hour 15 minutes"."""
    quarters = max(1, round(length / timedelta(minutes=15)))
    hours, minutes = divmod(quarters * 15, 60)
    if not hours:
        return f"about {minutes} minutes"
    if hours == 1 and minutes in (0, 30):
        return "about an hour" + (" and a half" if minutes else "")
    words = f"{hours} hour{'s' if hours > 1 else ''}"
    return f"about {words}" + (f" {minutes} minutes" if minutes else "")


def what_to_expect(request):
    length = about_length(typical_walk_length())
    return _render(request, "what_to_expect.html", walk_length=length)


def privacy(request):
    cookies = {
        "csrf": settings.CSRF_COOKIE_NAME,
        "session": settings.SESSION_COOKIE_NAME,
        "session_hours": settings.SESSION_COOKIE_AGE // 3600,
        "booked": outcome_cookie("booked"),
        "requested": outcome_cookie("requested"),
    }
    return _render(
        request,
        "privacy.html",
        retention_days=settings.PERSONAL_DATA_RETENTION_DAYS,
        cookies=cookies,
        texts_enabled=texts_enabled(),
    )


def accessibility(request):
    return _render(request, "accessibility.html")


def help_page(request):
    return _render(request, "help.html")
