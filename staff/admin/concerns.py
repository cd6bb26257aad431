"""Concerns, their actions and the survey answers in the admin, scoped to the viewer's BCU.

A concern's status moves only through actions: each is added under the concern, saved by
record_action() (which also tells the women who asked to hear, when it is actioned), and kept
as read-only history."""

from django.contrib import admin, messages
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from bookings.models import Notification
from concerns.models import Concern, ConcernAction, ConcernStatus, Feedback
from concerns.services import (
    NewConcern,
    log_concern,
    record_action,
)
from partners.models import CONCERN_SETTLED
from staff.forms import (
    ConcernActionForm,
    ConcernChecks,
    TimesUnsafeField,
    confirm_names_nobody_field,
)
from walkandtalk.audit import HistoryAdmin
from walkandtalk.text import PlainTextModelForm

from .patrols import BCUScopedAdmin, BCUScopedStackedInline, BCUScopedTabularInline


class ConcernAdminForm(ConcernChecks, PlainTextModelForm):
    times_unsafe = TimesUnsafeField(label="When it feels unsafe")
    confirm_names_nobody = confirm_names_nobody_field()

    class Meta:
        model = Concern
        fields = [
            "borough",
            "category",
            "location_text",
            "lat",
            "lng",
            "times_unsafe",
            "description",
            "confirm_names_nobody",
        ]
        help_texts = {
            "location_text": "A street, landmark or stretch of path. Shown on the public "
            "“You said, we did” page once something is done.",
            "lat": "Optional. With the longitude, somewhere in Greater London.",
            "description": "No names, and nothing that identifies anyone. Not for crimes.",
        }
        labels = {"lat": "Latitude", "lng": "Longitude"}

    def clean_times_unsafe(self) -> int:
        """The boxes ticked, as the model stores them."""
        return Concern.times_mask(self.cleaned_data["times_unsafe"])

    def clean(self):
        data = super().clean()
        self.check_concern(data)
        return data


class TimesUnsafeFilter(admin.SimpleListFilter):
    """By a time of day: the concerns that gave it, whatever else they gave."""

    title = "when it feels unsafe"
    parameter_name = "times_unsafe"

    def lookups(self, request, model_admin):
        return Concern.TimeOfDay.choices

    def queryset(self, request, queryset):
        if self.value() in Concern.TimeOfDay.values:
            return queryset.filter(times_unsafe__in=Concern.masks_with(self.value()))
        return queryset


class ActionHistoryInline(BCUScopedTabularInline):
    """What has been done so far, oldest first. History is never edited or deleted."""

    model = ConcernAction
    fields = ["at", "status", "partner", "note", "by"]
    readonly_fields = fields
    ordering = ["at", "pk"]
    extra = 0
    can_delete = False
    verbose_name = "action"
    verbose_name_plural = "What has been done"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AddActionInline(BCUScopedStackedInline):
    """One empty action to fill in; ConcernAdmin.save_formset hands it to record_action()."""

    model = ConcernAction
    form = ConcernActionForm
    fields = ["note", "status", "partner"]
    extra = 1
    max_num = 1
    can_delete = False
    verbose_name = "new action"
    verbose_name_plural = "Add an action"

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_add_permission(self, request, obj=None):
        # Only on an existing concern: a new one starts open, with no history.
        return obj is not None and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Concern)
class ConcernAdmin(HistoryAdmin, BCUScopedAdmin):
    form = ConcernAdminForm
    history_related = ((ConcernAction, "concern", "Actions", ("status", "partner", "note")),)
    list_display = [
        "category",
        "location_text",
        "borough",
        "when",
        "status",
        "partner",
        "action_count",
        "logged_at",
    ]
    list_display_links = ["category", "location_text"]
    list_filter = ["status", "category", TimesUnsafeFilter, "partner", "borough", "logged_at"]
    list_select_related = ["borough"]
    search_fields = ["location_text", "description"]
    ordering = ["-logged_at", "pk"]
    inlines = [ActionHistoryInline, AddActionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(number_of_actions=Count("actions"))

    @admin.display(description="when it feels unsafe")
    def when(self, obj):
        return obj.get_times_unsafe_display()

    @admin.display(description="actions", ordering="number_of_actions")
    def action_count(self, obj):
        return obj.number_of_actions

    def get_fields(self, request, obj=None):
        if obj is None:
            return ConcernAdminForm.Meta.fields
        return [
            "walk",
            "borough",
            "category",
            "location_text",
            "lat",
            "lng",
            "times_unsafe",
            "description",
            "confirm_names_nobody",
            "status",
            "partner",
            "referral",
            "logged_by",
            "logged_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # Status and partner move only through actions, so the history explains every change;
        # the place stays in the BCU and borough it was raised in.
        return ["walk", "borough", "status", "partner", "referral", "logged_by", "logged_at"]

    @admin.display(description="referral to a partner")
    def referral(self, obj):
        """The latest referral (partners/), and the way to refer it while it may be."""
        latest = obj.referrals.select_related("partner").order_by("-referred_at", "-pk").first()
        parts = []
        if latest is not None:
            url = reverse("admin:partners_referral_change", args=[latest.pk])
            parts.append(
                format_html(
                    '<a href="{}">{} to {}</a>: {}',
                    url,
                    latest.reference,
                    latest.partner,
                    latest.get_status_display().lower(),
                )
            )
        if obj.status not in CONCERN_SETTLED and (latest is None or not latest.is_answerable):
            url = f"{reverse('admin:partners_referral_add')}?concern={obj.pk}"
            parts.append(format_html('<a href="{}">Refer to a partner</a>', url))
        return format_html_join(mark_safe(" &middot; "), "{}", ((part,) for part in parts)) or "-"

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        saved = log_concern(
            borough=data["borough"],
            concern=NewConcern(
                category=data["category"],
                location_text=data["location_text"],
                times_unsafe=tuple(Concern.times_of(data["times_unsafe"])),
                description=data["description"],
                lat=data["lat"],
                lng=data["lng"],
            ),
            by=request.user,
        )
        # The admin goes on to use obj (its log, message and redirect): make it the saved row.
        vars(obj).update(vars(saved))

    def save_formset(self, request, form, formset, change):
        if not issubclass(formset.form, ConcernActionForm):
            return super().save_formset(request, form, formset, change)
        # What the admin's change message and history read from a saved formset.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for action_form in formset.forms:
            if not action_form.has_changed() or not action_form.cleaned_data:
                continue
            data = action_form.cleaned_data
            action = record_action(
                concern=form.instance,
                note=data["note"],
                status=data["status"],
                partner=data["partner"],
                by=request.user,
            )
            formset.new_objects.append(action)
            told = Notification.objects.filter(
                kind=Notification.Kind.YOU_SAID_WE_DID, key=f"action:{action.pk}"
            ).count()
            message = f"Action recorded: the concern is now “{action.get_status_display()}”."
            if action.status == ConcernStatus.ACTIONED:
                message += (
                    f" {told} woman from the walk who asked to hear will be emailed."
                    if told == 1
                    else f" {told} women from the walk who asked to hear will be emailed."
                )
            messages.success(request, message)
        return None


@admin.register(Feedback)
class FeedbackAdmin(BCUScopedAdmin):
    """Survey answers: read only. Nobody edits what a woman told us."""

    list_display = [
        "booking",
        "walk",
        "felt_safe_before",
        "felt_safe_after",
        "confidence_in_police_before",
        "confidence_in_police_after",
        "wants_updates",
        "submitted_at",
    ]
    list_filter = ["wants_updates", "submitted_at"]
    list_select_related = ["booking__walk"]
    ordering = ["-submitted_at", "pk"]
    fields = [
        "booking",
        "walk",
        "felt_safe_before",
        "felt_safe_after",
        "confidence_in_police_before",
        "confidence_in_police_after",
        "comments",
        "wants_updates",
        "submitted_at",
    ]
    readonly_fields = fields

    @admin.display(description="walk", ordering="booking__walk__starts_at")
    def walk(self, obj):
        return obj.booking.walk

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
