"""Security by path: who the client is, the headers each kind of page gets, and the staff
second factor.

- `client_ip(request)`: the one answer to "which address is this?", for the rate limiter and
  django-axes alike. X-Forwarded-For is believed only as far as TRUSTED_PROXY_COUNT says.
- `PathHeadersMiddleware`: `Cache-Control: no-store` on every staff, report and token page and
  on every answer to a form sent (it may repeat what she typed: a form shown again with its
  errors holds her name and phone number), and `Referrer-Policy: no-referrer` on token pages
  (their address is the secret), whatever the view returned: a page, a redirect, a 404, a 500.
- `StaffTwoFactorMiddleware`: when STAFF_OTP_REQUIRED, a signed-in user reaches no staff page
  until she has entered a code from her authenticator app in this session.
"""

import ipaddress
import logging
from urllib.parse import quote

from django.conf import settings
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

logger = logging.getLogger(__name__)

# Staff pages: the admin, the officers' pages (debrief included) and the commanders' reports.
STAFF_PREFIXES = ("/admin/", "/staff/", "/reports/")
# Pages opened by a secret link in an email: the token is in the address.
TOKEN_PREFIXES = ("/bookings/manage/", "/feedback/", "/requests/", "/partners/")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Nothing on the site needs the camera, the microphone or payments; the debrief may ask for
# the officer's position, on this site only.
PERMISSIONS_POLICY = "camera=(), microphone=(), payment=(), usb=(), geolocation=(self)"


def client_ip(request) -> str:
    """The client's address. REMOTE_ADDR, unless TRUSTED_PROXY_COUNT proxies stand in front:
    then the address the outermost trusted proxy saw, which is that many entries from the right
    of X-Forwarded-For (everything left of it the client could have typed herself)."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def is_staff_path(path: str) -> bool:
    return path.startswith(STAFF_PREFIXES)


def is_token_path(path: str) -> bool:
    return path.startswith(TOKEN_PREFIXES)


class PathHeadersMiddleware:
    """Headers decided by the kind of page, so no view can forget them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        path = request.path_info
        if is_staff_path(path) or is_token_path(path) or request.method not in SAFE_METHODS:
            # Never kept by the browser or a proxy: a shared device shows nothing afterwards.
            add_never_cache_headers(response)
        if is_token_path(path):
            response["Referrer-Policy"] = "no-referrer"
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


def two_factor_exempt_paths() -> set[str]:
    """Staff paths reachable before the second factor: signing in and out, and the second
    factor's own pages."""
    return {
        reverse("admin:login"),
        reverse("admin:logout"),
        reverse("two_factor"),
        reverse("two_factor_setup"),
        reverse("two_factor_qr"),
    }


class StaffTwoFactorMiddleware:
    """Every staff page needs a session verified by a TOTP code when STAFF_OTP_REQUIRED.

    Signed-out visitors are left to the page itself (it sends them to sign in); a signed-in
    user without a verified session is sent to enter her code, or to set up her app first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.STAFF_OTP_REQUIRED and is_staff_path(request.path_info):
            user = request.user
            if (
                user.is_authenticated
                and not user.is_verified()
                and request.path not in two_factor_exempt_paths()
            ):
                target = reverse("two_factor")
                if request.method in ("GET", "HEAD"):
                    target += "?next=" + quote(request.get_full_path())
                return HttpResponseRedirect(target)
        return self.get_response(request)


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer once a username and address are locked out: a calm page, 429."""
    minutes = max(int(settings.AXES_COOLOFF_TIME.total_seconds() // 60), 1)
    logger.warning("Sign-in locked out after repeated failures from %s", client_ip(request))
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
