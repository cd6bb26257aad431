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
The content is kept in Django's cache framework (the per-process "pages" cache), under the
version: a new version leaves the old entries unread until they expire. For a visitor whose
cookies cannot change the page (none, or only the form protection's) the whole page is kept
too, for the benchmark's target (see _whole and _sees_the_shared_page).

Every response says `Vary: Cookie`: the page differs by her cookies (her messages), so no cache
between her and the site may hand one visitor's copy to another.
"""

import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.core.cache import cache, caches
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers

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


def respond(
    request, template: str, name: tuple, render_page: Callable[[], tuple[dict, datetime | None]]
) -> HttpResponse:
    """The page named by `name` (the view and its parameters) in `template`'s layout.

    `render_page` renders the content without the request: it returns the template's context
    (status, title, content) and the moment from which the time alone changes the page (None if
    never). That is kept in the "pages" cache under the data's current version, for every
    visitor; the layout is rendered around it for each request, with this response's CSP nonce
    and her messages. For a visitor whose cookies cannot change the page the whole page is kept
    too (_whole)."""
    response = _respond(request, template, name, render_page)
    patch_vary_headers(response, ("Cookie",))
    return response


def _respond(request, template, name, render_page) -> HttpResponse:
    version = current_version()
    if version is None:
        page, _ = render_page()
        return render(request, template, page, status=page["status"])
    pages = caches["pages"]
    # The parameters come from the query string: hashed, any of them makes a valid key.
    key = "public-walks:" + hashlib.sha256(repr(name).encode()).hexdigest()
    whole = _sees_the_shared_page(request)
    if whole and (kept := pages.get(f"{key}:whole", version=version)) is not None:
        return _whole(request, kept)
    page = pages.get(key, version=version)
    if page is None:
        page, changes_at = render_page()
        page["expires"] = timezone.now().timestamp() + MAX_AGE
        if changes_at is not None:
            page["expires"] = min(page["expires"], changes_at.timestamp())
        _keep(pages, key, version, page, page["expires"])
    response = render(request, template, page, status=page["status"])
    if whole and _nothing_of_hers(request, response):
        kept = (page["status"], response.content.decode().split(str(request.csp_nonce)))
        _keep(pages, f"{key}:whole", version, kept, page["expires"])
    return response


def _sees_the_shared_page(request) -> bool:
    """Whether nothing this visitor sends can change the page, so the whole page kept for
    everyone is hers too. The layout around the content shows her messages, which live in the
    messages cookie or her session: a visitor with either (or with any cookie not named here)
    has the layout rendered for her. The CSRF cookie changes nothing on these pages, which hold
    no form token (a page that used one is never kept whole: _nothing_of_hers)."""
    return all(name == settings.CSRF_COOKIE_NAME for name in request.COOKIES)


def _nothing_of_hers(request, response) -> bool:
    """Whether a page rendered for this request holds nothing of this visitor's, so it may be
    kept whole for others: it used no CSRF token (whose masked value would give away her
    cookie's secret), had no message to show her, set no cookie and read no session."""
    session = getattr(request, "session", None)
    return not (
        request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        or len(getattr(request, "_messages", ()))
        or response.cookies
        or (session is not None and session.accessed)
    )


def _whole(request, kept: tuple[int, list[str]]) -> HttpResponse:
    """The one hand-written piece left: the whole page kept for visitors whose cookies cannot
    change it (no session, no messages, no identity: nothing of anyone), cut at its CSP nonce
    and joined with this response's own. Rendering the layout around the kept content for every
    request instead held the public pages below half the bare view's throughput
    (docs/benchmarks.md, "Standard parts")."""
    status, parts = kept
    return HttpResponse(str(request.csp_nonce).join(parts), status=status)


def _keep(pages, key: str, version: str, value, expires: float) -> None:
    timeout = int(expires - timezone.now().timestamp())
    if timeout >= 1:
        pages.set(key, value, timeout=timeout, version=version)
