"""The public walk pages (the list and each walk's page) are read far more often than walks and
bookings change: each web process keeps what it rendered until the data or the time changes it.

A version in the shared cache names the current state of the public walk data. Every save or
delete of a walk, a booking, a borough or a BCU replaces it: at once, and again when the
transaction commits, so that a page rendered from the old rows between the two is never kept
under the version that follows the commit. A kept page also expires when the time alone would
change it (a listed walk starting) and after MAX_AGE, as a backstop for writes that send no
signal (QuerySet.update). If the shared cache cannot be reached, pages are rendered afresh.

Only the content of a page is kept, never the layout around it: the layout carries this
response's CSP nonce, this session's messages, and the navigation's current page.
"""

import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime

from django.core.cache import cache, caches
from django.db import transaction
from django.db.models.signals import post_delete, post_save
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
    from patrols.models import BCU, Borough, Walk

    from .models import Booking

    for model in (Walk, Booking, Borough, BCU):
        for signal in (post_save, post_delete):
            signal.connect(
                public_walks_changed, sender=model, dispatch_uid=f"pagecache.{model.__name__}"
            )


def kept(name: tuple, render: Callable[[], tuple[dict, datetime | None]]) -> dict:
    """The page named by `name` (the view and its parameters), kept or rendered now.

    `render` returns the page (a dict of what the view needs: status, title, content) and the
    moment from which the time alone changes it (None if never)."""
    version = current_version()
    if version is None:
        return render()[0]
    pages = caches["pages"]
    key = hashlib.sha256(repr((version, name)).encode()).hexdigest()
    page = pages.get(key)
    if page is None:
        page, changes_at = render()
        seconds = MAX_AGE
        if changes_at is not None:
            seconds = min(seconds, (changes_at - timezone.now()).total_seconds())
        if seconds >= 1:
            pages.set(key, page, timeout=int(seconds))
    return page
