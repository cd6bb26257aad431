"""The public information pages: about, what to expect, privacy, accessibility, getting help.

Plain pages with no data of their own. The privacy notice states the retention period from
settings, so the page cannot drift from what the purge actually does.
"""

from django.conf import settings
from django.shortcuts import render


def _render(request, template: str, **context):
    return render(
        request, f"pages/{template}", {"contact_email": settings.CONTACT_EMAIL, **context}
    )


def about(request):
    return _render(request, "about.html")


def what_to_expect(request):
    return _render(request, "what_to_expect.html")


def privacy(request):
    return _render(request, "privacy.html", retention_days=settings.PERSONAL_DATA_RETENTION_DAYS)


def accessibility(request):
    return _render(request, "accessibility.html")


def help_page(request):
    return _render(request, "help.html")
