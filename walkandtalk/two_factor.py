"""The staff second factor: a 6-digit code from an authenticator app (TOTP, django-otp).

After her password (the admin's login form, guarded by django-axes), a staff member enters the
code on /staff/two-factor/. Someone without an app set up yet scans a QR code on
/staff/two-factor/setup/ and enters her first code. The QR image is drawn here (qrcode's SVG
factory): the secret never leaves this site. A lost phone is reset by a superuser, who deletes
the device in the admin; she then sets up her new phone the same way.
"""

import logging
from base64 import b32encode

import django_otp
import qrcode
import qrcode.image.svg
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_http_methods
from django_otp.plugins.otp_totp.models import TOTPDevice

from walkandtalk.forms import StyledForm

logger = logging.getLogger(__name__)

DEVICE_NAME = "Authenticator app"


class CodeForm(StyledForm):
    code = forms.RegexField(
        label="Code from your authenticator app",
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        help_text="The 6 numbers your app shows for Met Walk and Talk. A new code appears "
        "every 30 seconds.",
        error_messages={
            "required": "Enter the 6-digit code from your authenticator app",
            "invalid": "Enter the 6-digit code, numbers only",
        },
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "spellcheck": "false",
                "class": "form-control form-control-code",
            }
        ),
    )

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip()


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index" if request.user.is_staff else "staff:home")


def _verified(request, device) -> HttpResponse:
    """The session is now two-factor: a new session key for the raised privilege."""
    request.session.cycle_key()
    django_otp.login(request, device)
    logger.info("Second factor verified for user %s", request.user.pk)
    return redirect(_next_url(request))


def _with_next(name: str, request) -> str:
    url = reverse(name)
    target = request.POST.get("next") or request.GET.get("next")
    return f"{url}?{urlencode({'next': target})}" if target else url


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request):
    """Enter the code from her app to open the staff pages for this session."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device is None:
        return redirect(_with_next("two_factor_setup", request))
    form = CodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            allowed, _ = device.verify_is_allowed()
            verified = allowed and django_otp.verify_token(
                request.user, device.persistent_id, form.cleaned_data["code"]
            )
            if verified:
                return _verified(request, verified)
            logger.warning("Second factor refused for user %s", request.user.pk)
            form.add_error(
                "code",
                "That code is not right. Enter the code your app shows now"
                if allowed
                else "Too many wrong codes. Wait a minute, then enter the code your app shows",
            )
    context = {"form": form, "next": _next_url(request)}
    return render(request, "otp/verify.html", context, status=status)


def _new_device(user) -> TOTPDevice:
    """Her unconfirmed device: the same one until she confirms it, so the QR code she scanned
    stays valid if she reloads the page."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def _grouped_secret(device) -> str:
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def setup(request):
    """Set up an authenticator app: scan the QR code (or type the key), enter the first code."""
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        # One app per person; a lost phone is reset by a superuser, not from a password alone.
        return redirect(_with_next("two_factor", request))
    device = _new_device(request.user)
    form = CodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            if device.verify_token(form.cleaned_data["code"]):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                TOTPDevice.objects.filter(user=request.user, confirmed=False).delete()
                logger.info("Authenticator app set up for user %s", request.user.pk)
                return _verified(request, device)
            form.add_error(
                "code",
                "That code is not right. Check the app shows Met Walk and Talk, then enter "
                "the code it shows now",
            )
    context = {"form": form, "secret": _grouped_secret(device), "next": _next_url(request)}
    return render(request, "otp/setup.html", context, status=status)


@login_required
@require_GET
def qr_code(request):
    """The QR code of her unconfirmed device, as SVG drawn here."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).order_by("pk").first()
    if device is None:
        raise Http404("No authenticator app waiting to be set up.")
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathFillImage)
    return HttpResponse(image.to_string(), content_type="image/svg+xml")
