"""The inspectors' admin. Every model is scoped to the BCU of the person looking at it.

One mechanism does the scoping: `BCUScopedAdmin` (and `BCUScopedTabularInline` /
`BCUScopedStackedInline` for inlines). It asks the model which rows the viewer may see
(`Model.objects.visible_to(user)`, built on the path to its BCU that each model declares once as
`bcu_path`, and on `bcu_scope(user)`, both in patrols.models). It scopes the change list, the
change form's foreign-key choices, autocomplete results, the list filters' choices and object
access by guessed URL (404 for another BCU's object).
"""

import re
from datetime import date, datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.filters import RelatedFieldListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from bookings import services as booking_services
from bookings.models import Booking
from patrols.models import (
    BCU,
    Borough,
    Officer,
    RosterAssignment,
    Unavailability,
    Walk,
    bcu_paths,
    bcu_scope,
    is_visible_to,
    rows_visible_to,
)
from patrols.services import (
    LONDON,
    change_assignment,
    check_can_walk,
    roster_officer,
    rostered_during,
    unroster_officer,
)
from patrols.welfare import finish_walk
from walkandtalk.audit import HistoryAdmin
from walkandtalk.forms import StyledForm
from walkandtalk.text import PlainTextAdmin, PlainTextModelForm

admin.site.site_header = "Walk and Talk administration"
admin.site.site_title = "Walk and Talk admin"
admin.site.index_title = "Run the scheme"


def sees_anything(user) -> bool:
    """False for staff with no officer record: they may not even open an empty list."""
    try:
        bcu_scope(user)
    except PermissionDenied:
        return False
    return True


class BCUScopedRelatedFilter(RelatedFieldListFilter):
    """A list filter on a relation that offers only the related rows the viewer may see."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        related = field.related_model
        if not bcu_paths(related):
            return super().field_choices(field, request, model_admin)
        visible = rows_visible_to(related._default_manager.all(), request.user)
        return field.get_choices(
            include_blank=False, limit_choices_to=Q(pk__in=visible), ordering=ordering
        )


class BCUScopedMixin:
    """Scoping shared by model admins and inlines: the model declares its path to its BCU."""

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def scoped_choices(self, db_field, request, queryset=None):
        related = db_field.remote_field.model
        if queryset is None:
            queryset = self.get_field_queryset(None, db_field, request)
        if queryset is None:
            queryset = related._default_manager.all()
        return rows_visible_to(queryset, request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs["queryset"] = self.scoped_choices(db_field, request, kwargs.get("queryset"))
        try:
            scope = bcu_scope(request.user)
        except PermissionDenied:
            scope = None
        own_bcu_link = db_field.name in {path.split("__")[0] for path in bcu_paths(self.model)}
        if own_bcu_link and scope is not None and db_field.related_model is BCU:
            kwargs.setdefault("initial", scope.pk)
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None and own_bcu_link and scope is not None:
            # "No BCU" means pan-London: not something a BCU's inspector can grant.
            formfield.required = True
        return formfield

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs["queryset"] = self.scoped_choices(db_field, request, kwargs.get("queryset"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class BCUScopedAdmin(BCUScopedMixin, admin.ModelAdmin):
    """A model admin that shows and changes only the viewer's BCU."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            # Another BCU's object looks exactly like one that does not exist.
            raise Http404("No such record.")
        return obj

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            # A service refused under its lock after the form was checked (someone rostered
            # the same officer, or referred the same concern, a moment earlier): everything
            # was rolled back; say why and show the form again.
            for message in error.messages:
                self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def get_list_filter(self, request):
        return [self.scoped_filter(item) for item in super().get_list_filter(request)]

    def scoped_filter(self, item):
        if isinstance(item, str):
            field = get_fields_from_path(self.model, item)[-1]
            if field.is_relation:
                return (item, BCUScopedRelatedFilter)
        elif isinstance(item, tuple) and item[1] is RelatedFieldListFilter:
            return (item[0], BCUScopedRelatedFilter)
        return item

    def in_scope(self, request, obj) -> bool:
        if obj is None:
            return sees_anything(request.user)
        return is_visible_to(obj, request.user)

    def has_view_permission(self, request, obj=None):
        return self.in_scope(request, obj) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self.in_scope(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.in_scope(request, obj) and super().has_delete_permission(request, obj)

    def has_add_permission(self, request):
        return sees_anything(request.user) and super().has_add_permission(request)


class BCUScopedTabularInline(PlainTextAdmin, BCUScopedMixin, admin.TabularInline):
    """An inline whose rows and choices are scoped like BCUScopedAdmin."""


class BCUScopedStackedInline(PlainTextAdmin, BCUScopedMixin, admin.StackedInline):
    """A stacked inline whose rows and choices are scoped like BCUScopedAdmin."""


@admin.register(BCU)
class BCUAdmin(BCUScopedAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(Borough)
class BoroughAdmin(BCUScopedAdmin):
    list_display = ["name", "bcu"]
    list_filter = ["bcu"]
    list_select_related = ["bcu"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class UnavailabilityForm(PlainTextModelForm):
    class Meta:
        model = Unavailability
        fields = ["starts_at", "ends_at", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A table row has no label of its own: name each box for screen readers.
        for name, when in (("starts_at", "From"), ("ends_at", "Until")):
            field = self.fields.get(name)
            if field is not None and hasattr(field.widget, "widgets"):
                day, clock = field.widget.widgets
                day.attrs["aria-label"] = f"{when} date"
                clock.attrs["aria-label"] = f"{when} time"
        if "reason" in self.fields:
            self.fields["reason"].widget.attrs["aria-label"] = "Reason"


class UnavailabilityInline(BCUScopedTabularInline):
    """When she cannot walk (leave, training, court): the roster refuses her then."""

    model = Unavailability
    form = UnavailabilityForm
    fields = ["starts_at", "ends_at", "reason"]
    extra = 1
    verbose_name = "time she cannot walk"
    verbose_name_plural = "Times she cannot walk (leave, training, court)"


@admin.register(Officer)
class OfficerAdmin(BCUScopedAdmin):
    list_display = ["name", "collar_number", "rank", "bcu", "is_active"]
    list_filter = ["is_active", "rank", "bcu"]
    list_select_related = ["bcu"]
    search_fields = ["name", "collar_number"]
    fields = ["name", "collar_number", "rank", "bcu", "is_active", "user"]
    inlines = [UnavailabilityInline]

    def get_readonly_fields(self, request, obj=None):
        # Linking a login account to an officer grants her the account's access: superusers only.
        return [] if request.user.is_superuser else ["user"]

    def save_formset(self, request, form, formset, change):
        """A period recorded after she was rostered: name the walks it overlaps, so the
        inspector finds another officer for them (the roster refuses her for new ones)."""
        super().save_formset(request, form, formset, change)
        if formset.model is not Unavailability:
            return
        periods = [*formset.new_objects, *(period for period, _ in formset.changed_objects)]
        for period in periods:
            walks = [assignment.walk for assignment in rostered_during(period)]
            if walks:
                self.message_user(
                    request,
                    f"{period.officer.name} is rostered on "
                    f"{len(walks)} walk{pluralize(len(walks))} during this "
                    f"{period.get_reason_display().lower()}: "
                    f"{'; '.join(str(walk) for walk in walks)}. Find another officer for "
                    f"{'it' if len(walks) == 1 else 'them'}.",
                    messages.WARNING,
                )


# --- Walks -----------------------------------------------------------------------------------

ISO_WEEK = re.compile(r"(\d{4})-W(\d{2})")


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_iso_week(value: str) -> date:
    """The Monday of an ISO week written as the browser's week box writes it ("2026-W50").
    ValueError for anything else, week 53 of a year that has 52 included."""
    match = ISO_WEEK.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"Not an ISO week: {value!r}")
    year, week = (int(part) for part in match.groups())
    return date.fromisocalendar(year, week, 1)


def iso_week(day: date) -> str:
    """The ISO week `day` falls in, as "2026-W50"."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def london_week(monday: date) -> tuple[datetime, datetime]:
    """The first and the first-after-the-last instants of a London week: a clock-change week
    is an hour shorter or longer, so the bounds are London midnights, not seven times 24
    hours."""
    start = datetime.combine(monday, time.min, tzinfo=LONDON)
    end = datetime.combine(monday + timedelta(weeks=1), time.min, tzinfo=LONDON)
    return start, end


class DefaultListFilter(admin.SimpleListFilter):
    """A list filter with a choice taken when none is in the address (`default`), shown as
    selected: the admin's own filters always start from "All"."""

    default: str

    def choices(self, changelist):
        current = self.value() or self.default
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class WhenFilter(DefaultListFilter):
    """Upcoming walks unless asked otherwise: what an inspector plans is ahead of her."""

    title = "when"
    parameter_name = "when"
    default = "upcoming"

    def lookups(self, request, model_admin):
        return [
            ("upcoming", "Upcoming"),
            ("week", "This week"),
            ("past", "Past"),
            ("all", "All dates"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        value = self.value() or self.default
        if value == "upcoming":
            return queryset.upcoming(now)
        if value == "past":
            return queryset.past(now)
        if value == "week":
            start, end = london_week(monday_of(timezone.localdate(now)))
            return queryset.filter(starts_at__gte=start, starts_at__lt=end)
        return queryset


class StaffingFilter(admin.SimpleListFilter):
    title = "staffing"
    parameter_name = "staffing"

    def lookups(self, request, model_admin):
        return [("short", "Understaffed"), ("full", "Fully staffed")]

    def queryset(self, request, queryset):
        minimum = settings.WALK_MIN_OFFICERS
        if self.value() == "short":
            return queryset.filter(status=Walk.Status.SCHEDULED, officer_count__lt=minimum)
        if self.value() == "full":
            return queryset.filter(officer_count__gte=minimum)
        return queryset


class RosterFormSet(BaseInlineFormSet):
    """Checks the roster as a whole before anything is saved, so a clash is a form error: the
    same officer twice, an officer of another BCU, or one already on an overlapping walk. The
    roster service checks again under a lock when saving."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget.attrs["aria-label"] = "Take off this walk"

    def clean(self):
        # Before Django's own uniqueness check, so she reads a sentence rather than "Please
        # correct the duplicate data".
        walk = self.instance
        can_check_times = bool(walk.starts_at and walk.ends_at and walk.bcu_id)
        seen = set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            officer = form.cleaned_data.get("officer")
            if officer is None:
                continue
            if officer.pk in seen:
                form.add_error("officer", f"{officer.name} is already on this walk.")
                continue
            seen.add(officer.pk)
            if can_check_times:
                try:
                    check_can_walk(walk=walk, officer=officer)
                except ValidationError as error:
                    form.add_error("officer", error)
        super().clean()


class RosterForm(PlainTextModelForm):
    class Meta:
        model = RosterAssignment
        fields = ["officer", "role"]
        # A table row has no label of its own: name each box for screen readers.
        widgets = {
            "officer": forms.Select(attrs={"aria-label": "Officer"}),
            "role": forms.Select(attrs={"aria-label": "Role"}),
        }


class RosterInline(BCUScopedTabularInline):
    model = RosterAssignment
    form = RosterForm
    formset = RosterFormSet
    fields = ["officer", "role"]
    extra = 2
    verbose_name = "officer on this walk"
    verbose_name_plural = "Officers on this walk"

    def get_extra(self, request, obj=None, **kwargs):
        # Enough empty rows to reach full staffing, and at least one to add someone.
        have = obj.roster.count() if obj is not None and obj.pk else 0
        return max(settings.WALK_MIN_OFFICERS - have, 1)

    def has_add_permission(self, request, obj=None):
        return self.walk_is_open(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self.walk_is_open(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.walk_is_open(obj) and super().has_delete_permission(request, obj)

    @staticmethod
    def walk_is_open(walk) -> bool:
        """A cancelled or completed walk's roster is a record of who was to walk it."""
        return walk is None or walk.status == Walk.Status.SCHEDULED

    def get_formset(self, request, obj=None, **kwargs):
        request._roster_walk = obj
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name != "officer":
            return super().formfield_for_foreignkey(db_field, request, **kwargs)
        officers = Officer.objects.filter(is_active=True).select_related("bcu")
        walk = getattr(request, "_roster_walk", None)
        if walk is not None and walk.bcu_id:
            officers = officers.filter(bcu_id=walk.bcu_id)  # only her BCU's walks
            officers = officers.free_first(walk)
        kwargs["queryset"] = officers
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None and walk is not None and walk.bcu_id:
            formfield.label_from_instance = officer_choice_label
        return formfield


def officers_away_by_walk(walk_ids) -> dict[int, list[str]]:
    """For each walk, the names of its rostered officers recorded as unable to walk at its time
    (leave noted after she was rostered): one query for the whole list."""
    away = Unavailability.objects.filter(
        officer=OuterRef("officer"),
        starts_at__lt=OuterRef("ends_at"),
        ends_at__gt=OuterRef("starts_at"),
    )
    found = {}
    rows = (
        RosterAssignment.objects.filter(walk_id__in=walk_ids, walk__status=Walk.Status.SCHEDULED)
        .filter(Exists(away))
        .order_by("officer__name")
        .values_list("walk_id", "officer__name")
    )
    for walk_id, name in rows:
        found.setdefault(walk_id, []).append(name)
    return found


def officer_choice_label(officer) -> str:
    """The officer as the roster's choice list shows her: why she is not free, in words."""
    away = getattr(officer, "away", None)
    if away:
        return f"{officer} – cannot walk then: {Unavailability.Reason(away).label.lower()}"
    if getattr(officer, "elsewhere", False):
        return f"{officer} – on another walk then"
    return str(officer)


class BookingInline(BCUScopedTabularInline):
    """Who has booked, with the least personal data an inspector needs to plan: what each
    woman asked for (her needs, what she would like to talk about), never her name, email or
    phone number. Read-only; only her inspectors see it (view_booking, scoped to the BCU).
    Officers mark attendance in the debrief."""

    model = Booking
    fields = ["reference", "status", "created_at", "accessibility_needs", "topics"]
    readonly_fields = fields
    can_delete = False
    extra = 0
    verbose_name_plural = "Bookings"
    ordering = ["status", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class WalkAdminForm(PlainTextModelForm):
    class Meta:
        model = Walk
        fields = [
            "title",
            "kind",
            "borough",
            "meeting_point",
            "meeting_lat",
            "meeting_lng",
            "route_notes",
            "starts_at",
            "ends_at",
            "capacity",
        ]
        help_texts = {
            "meeting_point": "Where she meets the officers, as she would find it: "
            "'Brixton station, Brixton Road exit'.",
            "starts_at": "London time.",
            "ends_at": "London time.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The admin's date and time boxes say "Date:" and "Time:" as bare text: name them.
        for name, when in (("starts_at", "Start"), ("ends_at", "End")):
            field = self.fields.get(name)
            if field is not None and hasattr(field.widget, "widgets"):
                date, clock = field.widget.widgets
                date.attrs["aria-label"] = f"{when} date"
                clock.attrs["aria-label"] = f"{when} time"

    def clean(self):
        cleaned = super().clean()
        borough = cleaned.get("borough")
        if borough is not None:
            self.instance.bcu = borough.bcu
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", "The walk must end after it starts.")
        if starts_at and not self.instance.pk and starts_at <= timezone.now():
            self.add_error("starts_at", "A new walk must start in the future.")
        capacity = cleaned.get("capacity")
        if capacity and self.instance.pk and "capacity" in self.changed_data:
            # Checked here to show it on the form; the lifecycle checks again under the lock.
            try:
                booking_services.check_capacity(walk=self.instance, capacity=capacity)
            except ValidationError as error:
                self.add_error("capacity", error)
        return cleaned


# How many officers the walk's page suggests at most, those who walked least lately first.
SUGGESTED_SHOWN = 10

# What the walk lifecycle (booking_services.change_walk) changes: women are told of a new time
# or place, the roster follows, new places go to the waiting list.
LIFECYCLE_FIELDS = ("starts_at", "ends_at", "meeting_point", "capacity")


@admin.register(Walk)
class WalkAdmin(HistoryAdmin, BCUScopedAdmin):
    form = WalkAdminForm
    history_related = ((RosterAssignment, "walk", "Roster changes", ("officer", "role")),)
    list_display = [
        "when",
        "borough",
        "meeting_point",
        "places",
        "staffing",
        "status",
        "kind",
    ]
    list_display_links = ["when"]
    list_filter = [WhenFilter, StaffingFilter, "borough", "status", "kind"]
    list_select_related = ["borough"]
    search_fields = ["title", "meeting_point", "borough__name"]
    ordering = ["starts_at"]
    inlines = [RosterInline, BookingInline]
    readonly_fields = ["bcu", "status", "cancel_reason", "public_page", "briefing", "walk_messages"]
    actions = ["repeat_weekly", "cancel_walks"]
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["title", "kind", "borough", "bcu", "status", "cancel_reason"]}),
        ("When", {"fields": ["starts_at", "ends_at"]}),
        (
            "Where",
            {"fields": ["meeting_point", "meeting_lat", "meeting_lng", "route_notes"]},
        ),
        ("Places", {"fields": ["capacity", "public_page", "briefing"]}),
        ("Messages to the women booked", {"fields": ["walk_messages"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_counts()

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("kind")  # a group walk does not become one woman's walk
        if obj is not None and obj.status != Walk.Status.SCHEDULED:
            # A cancelled or completed walk is a record: nothing about it changes any more.
            fields += [f for f in WalkAdminForm.Meta.fields if f not in fields]
        return fields

    @admin.display(description="date", ordering="starts_at")
    def when(self, walk):
        return f"{timezone.localtime(walk.starts_at):%a %d %b %Y, %H:%M}"

    @admin.display(description="booked", ordering="booked")
    def places(self, walk):
        text = f"{walk.booked} of {walk.capacity}"
        if walk.waitlisted:
            text += f" (+{walk.waitlisted} waiting)"
        return text

    @admin.display(description="staffing", ordering="officer_count")
    def staffing(self, walk):
        text = f"{walk.officer_count} of {settings.WALK_MIN_OFFICERS} officers"
        needed = walk.officers_needed()
        if needed:
            return format_html(
                '<strong class="wt-understaffed">{} – needs {} more</strong>', text, needed
            )
        return text

    @admin.display(description="public page")
    def public_page(self, walk):
        if not walk.pk or walk.kind != Walk.Kind.GROUP:
            return "–"
        try:
            url = walk.get_absolute_url()
        except NoReverseMatch:  # the public pages are not installed
            return "–"
        return format_html('<a href="{}">{}</a>', url, "See it as she does")

    @admin.display(description="briefing")
    def briefing(self, walk):
        """The officers' briefing (staff:briefing): what each woman asked for, to print."""
        if not walk.pk:
            return "–"
        url = reverse("staff:briefing", args=[walk.code])
        return format_html('<a href="{}">{}</a>', url, "The officers' briefing, to read or print")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [  # before the admin's catch-all "<object_id>/"
            path("week/", wrap(self.week_view), name="patrols_walk_week"),
            path("<path:object_id>/message/", wrap(self.message_view), name="patrols_walk_message"),
            path(
                "<path:object_id>/roster-suggested/",
                wrap(self.roster_suggested_view),
                name="patrols_walk_roster_suggested",
            ),
            path("<path:object_id>/safe/", wrap(self.mark_safe_view), name="patrols_walk_safe"),
            *super().get_urls(),
        ]

    @admin.display(description="messages sent")
    def walk_messages(self, walk):
        """What the women with a place were told (message_walk), and a link to tell them more."""
        if not walk.pk:
            return "–"
        sent = format_html_join(
            "",
            "<li>{}: {}</li>",
            (
                (f"{timezone.localtime(m.created_at):%a %d %b %Y, %H:%M}", m.text)
                for m in walk.messages.order_by("created_at", "pk")
            ),
        )
        listed = format_html('<ul class="wt-walk-list">{}</ul>', sent) if sent else "None yet."
        if walk.status != Walk.Status.SCHEDULED:
            return listed
        url = reverse("admin:patrols_walk_message", args=[walk.pk])
        return format_html('{}<p><a href="{}">{}</a></p>', listed, url, "Send a message")

    def message_view(self, request, object_id):
        """Write to every woman with a place on one walk (bookings.services.message_walk)."""
        walk = self.get_object(request, object_id)  # 404 for another BCU's walk
        if not self.has_change_permission(request, walk):
            raise PermissionDenied
        form = WalkMessageForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                message = booking_services.message_walk(
                    walk=walk, text=form.cleaned_data["text"], by=request.user
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                told = message.told
                women = f"{told} {'woman' if told == 1 else 'women'}"
                text = (
                    f"This message was already sent to {women}; it is not sent again."
                    if message.repeat
                    else f"Message sent to {women} with a place on the walk."
                )
                self.message_user(request, text, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:patrols_walk_change", args=[walk.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Send a message to the women booked",
            "opts": self.model._meta,
            "original": walk,
            "walk": walk,
            "booked": walk.confirmed_count(),
            "form": form,
        }
        return TemplateResponse(
            request,
            "admin/patrols/walk/message.html",
            context,
            status=400 if form.is_bound else 200,
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """The walk's page adds its welfare check (started, marked safe, overdue) and, while
        officers can still be added, the officers suggested for it (Officer.suggested_for)."""
        if obj is not None and obj.pk:
            now = timezone.now()
            context["welfare"] = obj.welfare_check()
            context["welfare_overdue"] = obj.is_welfare_overdue(now)
            can_roster = (
                obj.status == Walk.Status.SCHEDULED
                and obj.ends_at > now
                and self.has_change_permission(request, obj)
            )
            if can_roster:
                suggested = Officer.objects.suggested_for(obj)[:SUGGESTED_SHOWN]
                context["suggested_officers"] = list(suggested)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def roster_suggested_view(self, request, object_id):
        """One click from "Suggested officers": roster her through the roster service, which
        checks again (she may have been rostered elsewhere or put on leave since the page was
        drawn) and refuses with its reason."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        walk = self.get_object(request, object_id)  # 404 for another BCU's walk
        if not self.has_change_permission(request, walk):
            raise PermissionDenied
        officer_id = request.POST.get("officer", "")
        officers = Officer.objects.visible_to(request.user)
        officer = get_object_or_404(officers, pk=officer_id if officer_id.isdigit() else None)
        if walk.status != Walk.Status.SCHEDULED:
            self.message_user(request, "This walk is no longer scheduled.", messages.ERROR)
        else:
            try:
                roster_officer(walk=walk, officer=officer)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(request, f"{officer} is now on this walk.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:patrols_walk_change", args=[walk.pk]))

    def mark_safe_view(self, request, object_id):
        """Her inspector marks a started walk safe (patrols.welfare.finish_walk): an alert not
        yet sent is then not sent."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        walk = self.get_object(request, object_id)  # 404 for another BCU's walk
        if not self.has_change_permission(request, walk):
            raise PermissionDenied
        try:
            check_in = finish_walk(walk=walk, user=request.user, now=timezone.now())
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            at = timezone.localtime(check_in.finished_at)
            self.message_user(request, f"Marked safe at {at:%H:%M}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:patrols_walk_change", args=[walk.pk]))

    def week_view(self, request):
        """The week at a glance (?week=2026-W50, an ISO week; this week without it): the
        viewer's BCU's walks day by day, London days, with their places and staffing, and a
        way to add a walk on each day still to come. Counts come from with_counts(), in the
        one query that fetches the walks."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        asked = request.GET.get("week", "")
        try:
            monday = parse_iso_week(asked) if asked else monday_of(today)
        except ValueError:
            monday = monday_of(today)
            self.message_user(
                request,
                f"“{asked[:20]}” is not a week such as {iso_week(today)}: this is this week.",
                messages.WARNING,
            )
        start, end = london_week(monday)
        walks = (
            self.get_queryset(request)
            .filter(starts_at__gte=start, starts_at__lt=end)
            .select_related("borough", "check_in")
            .order_by("starts_at")
        )
        walks = list(walks)
        away = officers_away_by_walk([walk.pk for walk in walks])
        by_day = {monday + timedelta(days=n): [] for n in range(7)}
        now = timezone.now()
        for walk in walks:
            walk.welfare_overdue = walk.is_welfare_overdue(now)
            walk.officers_away = away.get(walk.pk, [])
            by_day[timezone.localdate(walk.starts_at)].append(walk)
        can_add = self.has_add_permission(request)
        add_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_add")
        days = [
            {
                "date": day,
                "walks": day_walks,
                "add_url": f"{add_url}?{urlencode({'day': day.isoformat()})}"
                if can_add and day >= today
                else "",
            }
            for day, day_walks in by_day.items()
        ]
        every_walk = [walk for day in days for walk in day["walks"]]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Walks in the week of {monday:%A} {monday.day} {monday:%B %Y}",
            "opts": self.opts,
            "days": days,
            "week": iso_week(monday),
            "previous_week": iso_week(monday - timedelta(weeks=1)),
            "next_week": iso_week(monday + timedelta(weeks=1)),
            "this_week": iso_week(today),
            "today": today,
            "walk_count": len(every_walk),
            "understaffed_count": sum(1 for walk in every_walk if walk.officers_needed()),
            "minimum": settings.WALK_MIN_OFFICERS,
        }
        return TemplateResponse(request, "admin/patrols/walk/week.html", context)

    def get_changeform_initial_data(self, request):
        """`?day=2026-12-07` (the week's "Add a walk on this day") fills in the date of the
        start and of the end; she types the times. A SplitDateTime box takes [date, time]."""
        initial = super().get_changeform_initial_data(request)
        initial.pop("day", None)
        try:
            day = date.fromisoformat(request.GET.get("day", ""))
        except ValueError:
            return initial
        initial["starts_at"] = [day, None]
        initial["ends_at"] = [day, None]
        return initial

    def changelist_view(self, request, extra_context=None):
        short = (
            self.get_queryset(request)
            .upcoming()
            .filter(status=Walk.Status.SCHEDULED, officer_count__lt=settings.WALK_MIN_OFFICERS)
            .count()
        )
        extra_context = {**(extra_context or {}), "understaffed_count": short}
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        if not change:
            booking_services.create_walk(walk=obj)
            return
        changed = set(form.changed_data)
        if changed & {"starts_at", "ends_at"}:
            changed |= {"starts_at", "ends_at"}  # exactly the times she typed, not a shift
        lifecycle = {name: form.cleaned_data[name] for name in LIFECYCLE_FIELDS if name in changed}
        if lifecycle:
            # Through the walk lifecycle, under the walk's lock: every woman booked is told,
            # her reminders move with the walk, the roster follows, new places are filled.
            booking_services.change_walk(walk=obj, **lifecycle)
        others = [name for name in form.changed_data if name not in LIFECYCLE_FIELDS]
        if "borough" in others:
            others.append("bcu")
        if others:  # what no one is told of: the title, the borough, the route notes...
            obj.save(update_fields=others)

    def save_formset(self, request, form, formset, change):
        if formset.model is not RosterAssignment:
            return super().save_formset(request, form, formset, change)
        walk = form.instance
        formset.save(commit=False)
        for assignment in formset.deleted_objects:
            unroster_officer(assignment=assignment)
        for assignment, _ in formset.changed_objects:
            change_assignment(
                assignment=assignment, officer=assignment.officer, role=assignment.role
            )
        for assignment in formset.new_objects:
            roster_officer(walk=walk, officer=assignment.officer, role=assignment.role)

    @admin.action(description="Repeat weekly…", permissions=["add"])
    def repeat_weekly(self, request, queryset):
        form = RepeatWeeklyForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            weeks = form.cleaned_data["weeks"]
            made, refused = 0, []
            for walk in queryset:
                try:
                    made += len(booking_services.repeat_walk_weekly(walk=walk, weeks=weeks))
                except ValidationError as error:
                    refused.append(f"{walk}: {' '.join(error.messages)}")
            self.message_user(
                request, f"Added {made} walk{pluralize(made)}, each at the same London time."
            )
            for line in refused:
                self.message_user(request, line, messages.WARNING)
            return None
        return self.action_form_page(
            request, queryset, form, "repeat_weekly", "Repeat walks weekly"
        )

    @admin.action(description="Cancel walks…", permissions=["change"])
    def cancel_walks(self, request, queryset):
        form = CancelWalkForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            walks, told = 0, 0
            for walk in queryset.filter(status=Walk.Status.SCHEDULED):
                try:
                    # Cancels and tells every booking, drops reminders, frees the officers.
                    told += booking_services.cancel_walk(walk=walk, reason=reason)
                except ValidationError as error:  # cancelled a moment ago by someone else
                    self.message_user(
                        request, f"{walk}: {' '.join(error.messages)}", messages.WARNING
                    )
                    continue
                walks += 1
            self.message_user(
                request,
                f"Cancelled {walks} walk{pluralize(walks)}. "
                f"{told} {'woman' if told == 1 else 'women'} booked {'is' if told == 1 else 'are'} "
                "being told.",
            )
            return None
        return self.action_form_page(request, queryset, form, "cancel_walks", "Cancel walks")

    def action_form_page(self, request, queryset, form, action, title):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "walks": queryset,
            "queryset": queryset,  # the selected walks, sent back as hidden inputs
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
            "index": request.POST.get("index", "0"),
        }
        status = 400 if form.is_bound else 200
        return TemplateResponse(
            request, f"admin/patrols/walk/{action}.html", context, status=status
        )


class RepeatWeeklyForm(StyledForm):
    weeks = forms.IntegerField(
        label="For how many weeks?",
        min_value=1,
        max_value=booking_services.MAX_REPEAT_WEEKS,
        initial=4,
        help_text="Each copy starts at the same London time, across clock changes too.",
    )


class WalkMessageForm(StyledForm):
    text = forms.CharField(
        label="Your message",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=1000,
        help_text="Every woman with a place on this walk is emailed it, such as: meet at the "
        "other gate, the main gate is closed. Write it for her, and name no one.",
        error_messages={"required": "Enter the message to send to the women booked."},
    )


class CancelWalkForm(StyledForm):
    reason = forms.CharField(
        label="Why is the walk cancelled?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        help_text="Every woman booked is told, with this reason. Write it for her.",
        error_messages={"required": "Enter the reason, so the women booked know why."},
    )
