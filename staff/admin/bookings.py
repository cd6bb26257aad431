"""The admin of the public side: route requests (and the outbox). Scoped to the viewer's BCU
by staff.admin.patrols.BCUScopedAdmin."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from bookings.delivery import retry_notifications
from bookings.models import Notification, WalkRequest
from bookings.services import decline_request, schedule_request
from patrols.models import Officer
from walkandtalk.forms import StyledForm

from .patrols import BCUScopedAdmin, DefaultListFilter

OVERDUE = timedelta(days=3)  # the daily digest chases requests older than this


class RequestStatusFilter(DefaultListFilter):
    """Open requests unless asked otherwise: the queue is what needs doing."""

    title = "status"
    parameter_name = "status"
    default = WalkRequest.Status.OPEN

    def lookups(self, request, model_admin):
        return [*WalkRequest.Status.choices, ("all", "All")]

    def queryset(self, request, queryset):
        value = self.value() or self.default
        return queryset if value == "all" else queryset.filter(status=value)


DURATIONS = [(60, "1 hour"), (90, "1 and a half hours"), (120, "2 hours")]


class ScheduleRequestForm(StyledForm):
    starts_at = forms.DateTimeField(
        label="When does the walk start?",
        help_text="London time. Check it against the times she asked for.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M"],
        error_messages={"required": "Enter the date and time the walk starts."},
    )
    duration = forms.TypedChoiceField(
        label="How long?", choices=DURATIONS, coerce=int, initial=90, widget=forms.RadioSelect
    )
    meeting_point = forms.CharField(
        label="Meeting point",
        max_length=200,
        help_text="Somewhere easy to find on her route, such as a station exit.",
        error_messages={"required": "Enter where she meets the officers."},
    )
    officers = forms.ModelMultipleChoiceField(
        label="Officers",
        queryset=Officer.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Two officers make the walk fully staffed.",
        error_messages={"required": "Choose the officers who will walk with her."},
    )

    def __init__(self, *args, walk_request: WalkRequest, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officers"].queryset = Officer.objects.filter(
            is_active=True, bcu_id=walk_request.borough.bcu_id
        ).order_by("name")

    def clean_starts_at(self):
        starts_at = self.cleaned_data["starts_at"]
        if starts_at <= timezone.now():
            raise ValidationError("The walk must start in the future.")
        return starts_at


class DeclineRequestForm(StyledForm):
    reason = forms.CharField(
        label="Why can the police not walk her route?",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=1000,
        help_text="She is sent this, so write it for her. Suggest a group walk nearby if "
        "there is one.",
        error_messages={"required": "Enter the reason: she is told it."},
    )


@admin.register(WalkRequest)
class WalkRequestAdmin(BCUScopedAdmin):
    list_display = ["reference", "borough", "waiting", "preferred_times", "status"]
    list_filter = [RequestStatusFilter, "borough"]
    list_select_related = ["borough"]
    search_fields = ["reference"]
    ordering = ["created_at", "pk"]  # oldest first: she has waited longest
    readonly_fields = [
        "reference",
        "status",
        "borough",
        "created_at",
        "full_name",
        "email",
        "phone",
        "reminder_channel",
        "discreet_emails",
        "route_description",
        "preferred_times",
        "accessibility_needs",
        "decided_at",
        "decline_reason",
        "walk_link",
    ]
    fieldsets = [
        (None, {"fields": ["reference", "status", "borough", "created_at"]}),
        ("Her route", {"fields": ["route_description", "preferred_times", "accessibility_needs"]}),
        (
            "Contact",
            {"fields": ["full_name", "email", "phone", "reminder_channel", "discreet_emails"]},
        ),
        ("Decision", {"fields": ["decided_at", "walk_link", "decline_reason"]}),
    ]

    def has_add_permission(self, request):
        return False  # requests come from the public form

    @admin.display(description="waiting", ordering="created_at")
    def waiting(self, walk_request):
        age = (walk_request.decided_at or timezone.now()) - walk_request.created_at
        text = f"{age.days} days" if age.days != 1 else "1 day"
        if age.days < 1:
            hours = age.seconds // 3600
            text = f"{hours} hours" if hours != 1 else "1 hour"
        if walk_request.status == WalkRequest.Status.OPEN and age > OVERDUE:
            return format_html('<strong class="wt-understaffed">{}</strong>', text)
        return text

    @admin.display(description="walk")
    def walk_link(self, walk_request):
        if walk_request.walk_id is None:
            return "–"
        url = reverse("admin:patrols_walk_change", args=[walk_request.walk_id])
        return format_html('<a href="{}">{}</a>', url, walk_request.walk)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/schedule/",
                wrap(self.schedule_view),
                name="bookings_walkrequest_schedule",
            ),
            path(
                "<path:object_id>/decline/",
                wrap(self.decline_view),
                name="bookings_walkrequest_decline",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Every field is read-only: she is answered with Schedule or Decline, not Save.
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def open_request(self, request, object_id) -> WalkRequest:
        walk_request = self.get_object(request, object_id)  # 404 for another BCU's request
        if not self.has_change_permission(request, walk_request):
            raise PermissionDenied
        return walk_request

    def schedule_view(self, request, object_id):
        walk_request = self.open_request(request, object_id)
        form = ScheduleRequestForm(
            request.POST if request.method == "POST" else None, walk_request=walk_request
        )
        if form.is_bound and form.is_valid():
            starts_at = form.cleaned_data["starts_at"]
            try:
                walk = schedule_request(
                    request=walk_request,
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(minutes=form.cleaned_data["duration"]),
                    meeting_point=form.cleaned_data["meeting_point"],
                    officers=list(form.cleaned_data["officers"]),
                    by=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    f"Walk scheduled for {walk_request.reference}. She is being told and her "
                    "place is booked.",
                    messages.SUCCESS,
                )
                return redirect("admin:patrols_walk_change", walk.pk)
        return self.decision_page(request, walk_request, form, "schedule", "Schedule her walk")

    def decline_view(self, request, object_id):
        walk_request = self.open_request(request, object_id)
        form = DeclineRequestForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                decline_request(request=walk_request, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    f"Request {walk_request.reference} declined. She is being told why.",
                    messages.SUCCESS,
                )
                return redirect("admin:bookings_walkrequest_changelist")
        return self.decision_page(request, walk_request, form, "decline", "Decline the request")

    def decision_page(self, request, walk_request, form, kind, title):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "original": walk_request,
            "walk_request": walk_request,
            "form": form,
            "is_open": walk_request.status == WalkRequest.Status.OPEN,
        }
        return TemplateResponse(
            request,
            f"admin/bookings/walkrequest/{kind}.html",
            context,
            status=400 if form.is_bound else 200,
        )


# --- The outbox (issue 4) --------------------------------------------------------------------


class YesNoFilter(admin.SimpleListFilter):
    """A filter on whether a timestamp is set: `?sent=yes`, `?failed=no`..."""

    field = ""

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(**{f"{self.field}__isnull": self.value() == "no"})
        return queryset


class SentFilter(YesNoFilter):
    title = parameter_name = "sent"
    field = "sent_at"


class FailedFilter(YesNoFilter):
    title = parameter_name = "failed"
    field = "failed_at"


class SkippedFilter(YesNoFilter):
    title = "not sent on purpose"
    parameter_name = "skipped"
    field = "skipped_at"


@admin.register(Notification)
class NotificationAdmin(BCUScopedAdmin):
    """The outbox, read-only: what was sent to whom (by reference, never by address), what is
    waiting, and what failed and why. Failed rows can be tried again once the cause is fixed."""

    # Scoped by Notification.bcu_path: her booking's walk, her request's borough, or the BCU.
    list_display = ["kind", "channel", "recipient", "state", "due_at", "attempts", "error"]
    list_filter = ["kind", "channel", SentFilter, FailedFilter, SkippedFilter]
    list_select_related = ["booking", "request", "bcu"]
    search_fields = ["booking__reference", "request__reference"]
    date_hierarchy = "due_at"
    ordering = ["-due_at", "-pk"]
    actions = ["retry_failed"]
    fields = [
        "kind",
        "channel",
        "recipient",
        "key",
        "state",
        "created_at",
        "due_at",
        "claimed_at",
        "sent_at",
        "failed_at",
        "skipped_at",
        "attempts",
        "last_error",
    ]
    readonly_fields = fields

    # Scoped by Notification.bcu_path: her booking's walk, her request's borough, or the BCU.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return request.user.has_perm("bookings.retry_notification")

    @admin.display(description="to", ordering="booking__reference")
    def recipient(self, notification):
        return notification.addressee

    @admin.display(description="state")
    def state(self, notification):
        if notification.sent_at:
            return "Sent"
        if notification.failed_at:
            return "Failed"
        if notification.skipped_at:
            return "Not sent on purpose"
        if notification.attempts:
            return "Trying again"
        return "Waiting"

    @admin.display(description="last error or reason")
    def error(self, notification):
        text = notification.last_error
        return text if len(text) <= 80 else f"{text[:79]}…"

    @admin.action(description="Try the selected failed messages again", permissions=["retry"])
    def retry_failed(self, request, queryset):
        count = retry_notifications(notifications=queryset)
        if count:
            self.message_user(
                request, f"{count} failed message(s) will be sent again.", messages.SUCCESS
            )
        else:
            self.message_user(
                request, "None of the selected messages had failed.", messages.WARNING
            )
