"""The public information pages: home, about, what to expect, privacy, accessibility, help.

Plain pages with no data of their own. The privacy notice states the retention period and the
cookies from settings, so the page cannot drift from what the site actually does.
"""

from django.conf import settings
from django.shortcuts import render

from .views import outcome_cookie


def _render(request, template: str, **context):
    return render(
        request, f"pages/{template}", {"contact_email": settings.CONTACT_EMAIL, **context}
    )


def home(request):
    return render(request, "home.html")


def about(request):
    return _render(request, "about.html")


def what_to_expect(request):
    return _render(request, "what_to_expect.html")


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
    )


def accessibility(request):
    return _render(request, "accessibility.html")


def help_page(request):
    return _render(request, "help.html")
