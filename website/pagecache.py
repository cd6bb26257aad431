"""The public walk pages (the list and each walk's page) are read far more often than walks and
bookings change: each web process keeps what it rendered until the data or the time changes it.

A version in the shared cache names the current state of the public walk data. Every save or
delete of a walk, a booking, a borough or a BCU replaces it: at once, and again when the
transaction commits, so that a page rendered from the old rows between the two is never kept
under the version that follows the commit. A kept page also expires when the time alone would
change it (a listed walk starting) and after MAX_AGE, as a backstop for writes that send no
signal (QuerySet.update). If the shared cache cannot be reached, pages are rendered afresh.

What is kept for everyone is a page's content, rendered without the request; the layout around
it is rendered for each request (it shows her messages and carries this response's CSP nonce).
For a visitor who sends no cookie the whole page is kept too (see respond).
"""

import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime

from django.core.cache import cache, caches
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

logger = logging.getLogger(__name__)

VERSION_KEY = "public-walks:version"
MAX_AGE = 60  # seconds


def current_version() -> str | None:
    """The version of the public walk data, or None when the shared cache cannot say."""
    try:
        return cache.get_or_set(VERSION_KEY, secrets.token_hex(8), timeout=None)
    except Exception:  # Redis down or the cache table unreachable: render afresh.
        logger.warning("page cache: the version could not be read", exc_info=True)
        return None


def _new_version() -> None:
    try:
        cache.set(VERSION_KEY, secrets.token_hex(8), timeout=None)
    except Exception:  # The kept pages then last until MAX_AGE.
        logger.warning("page cache: the version could not be replaced", exc_info=True)


def public_walks_changed(*, using: str = "default", **kwargs) -> None:
    """Signal receiver: whatever the public walk pages show may have changed."""
    _new_version()
    transaction.on_commit(_new_version, using=using)


def connect_signals() -> None:
    from bookings.models import Booking
    from patrols.models import BCU, Borough, Walk
    from patrols.signals import walks_changed

    for model in (Walk, Booking, Borough, BCU):
        for signal in (post_save, post_delete):
            signal.connect(
                public_walks_changed, sender=model, dispatch_uid=f"pagecache.{model.__name__}"
            )
    # The walk lifecycle's own signal: sent for every change it makes, by update() too.
    walks_changed.connect(public_walks_changed, dispatch_uid="pagecache.walks_changed")


def _key(version: str, *name) -> str:
    return hashlib.sha256(repr((version, *name)).encode()).hexdigest()


def respond(
    request, template: str, name: tuple, render_page: Callable[[], tuple[dict, datetime | None]]
) -> HttpResponse:
    """The page named by `name` (the view and its parameters) in `template`'s layout.

    `render_page` renders the content without the request: it returns the template's context
    (status, title, content) and the moment from which the time alone changes the page (None if
    never). That is kept for every visitor. A visitor who sends no cookie at all carries nothing
    of anyone (no session, no messages, no identity), so the whole page rendered for her is kept
    too, for the next such visitor, less this response's CSP nonce."""
    version = current_version()
    if version is None:
        page, _ = render_page()
        return render(request, template, page, status=page["status"])
    pages = caches["pages"]
    whole = not request.COOKIES
    if whole and (kept := pages.get(_key(version, name, "whole"))) is not None:
        status, parts = kept
        return HttpResponse(str(request.csp_nonce).join(parts), status=status)
    page = pages.get(_key(version, name))
    if page is None:
        page, changes_at = render_page()
        page["expires"] = timezone.now().timestamp() + MAX_AGE
        if changes_at is not None:
            page["expires"] = min(page["expires"], changes_at.timestamp())
        _keep(pages, _key(version, name), page, page["expires"])
    response = render(request, template, page, status=page["status"])
    if whole:
        parts = response.content.decode().split(str(request.csp_nonce))
        _keep(pages, _key(version, name, "whole"), (page["status"], parts), page["expires"])
    return response


def _keep(pages, key: str, value, expires: float) -> None:
    seconds = int(expires - timezone.now().timestamp())
    if seconds >= 1:
        pages.set(key, value, timeout=seconds)
