"""Her rights in the admin: a copy of everything held about an email address (JSON), or
erasing it now. Superusers only: a subject access request must cover every BCU, and one
inspector sees only her own, so these requests are answered centrally (the privacy notice sends
them to the scheme's contact address and the Data Protection Officer)."""

import json
import logging

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone

from privacy.services import erase_personal_data, export_personal_data
from walkandtalk.forms import StyledForm

logger = logging.getLogger(__name__)


class PersonalDataForm(StyledForm):
    email = forms.EmailField(
        label="Her email address",
        max_length=254,
        help_text="The address she booked or asked for a walk with. Check the request came "
        "from this address.",
        error_messages={
            "required": "Enter her email address",
            "invalid": "Enter an email address like name@example.com",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    confirm = forms.BooleanField(
        required=False,
        label="She has asked for everything to be erased now. Her places on walks still to "
        "come will be given back.",
    )


def personal_data(request):
    if not request.user.is_superuser:
        raise PermissionDenied("Only superusers answer personal data requests.")
    form = PersonalDataForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            email = form.cleaned_data["email"]
            if "erase" in request.POST:
                if not form.cleaned_data["confirm"]:
                    form.add_error("confirm", "Tick the box to confirm she asked for this")
                else:
                    try:
                        counts = erase_personal_data(email=email)
                    except ValidationError as error:
                        form.add_error("email", error)
                    else:
                        logger.info("Personal data erased by user %s", request.user.pk)
                        messages.success(
                            request,
                            f"Erased: {counts.get('bookings', 0)} booking(s) and "
                            f"{counts.get('requests', 0)} route request(s); "
                            f"{counts['cancelled']} place(s) or walk(s) still to come given "
                            "back.",
                        )
                        return redirect("personal_data")
            else:
                data = export_personal_data(email=email)
                logger.info(
                    "Personal data exported by user %s: %d booking(s), %d request(s)",
                    request.user.pk,
                    len(data["bookings"]),
                    len(data["route_requests"]),
                )
                response = HttpResponse(
                    json.dumps(data, indent=2, ensure_ascii=False),
                    content_type="application/json; charset=utf-8",
                )
                day = timezone.localdate().isoformat()
                response["Content-Disposition"] = (
                    f'attachment; filename="walk-and-talk-personal-data-{day}.json"'
                )
                return response
    context = {
        **admin.site.each_context(request),
        "title": "Personal data requests",
        "form": form,
        "retention_days": settings.PERSONAL_DATA_RETENTION_DAYS,
    }
    return TemplateResponse(request, "admin/personal_data.html", context, status=status)
