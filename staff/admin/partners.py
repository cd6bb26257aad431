"""Partners, their defaults and referrals in the admin, scoped to the viewer's BCU.

Inspectors keep their BCU's partner teams and which one each kind of concern in each borough
goes to. A referral is made here (add: the concern and the partner, the default proposed) by
partners.services.refer_concern, and is then read only: the partner answers through its
private link, and the answers show here, overdue and handed-back ones first to the eye."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from concerns.models import Concern
from partners.models import CONCERN_SETTLED, DefaultPartner, Partner, Referral
from partners.services import default_partner, partners_for, refer_concern
from walkandtalk.text import PlainTextModelForm

from .patrols import BCUScopedAdmin, BCUScopedTabularInline


class PartnerForm(PlainTextModelForm):
    class Meta:
        model = Partner
        fields = ["bcu", "name", "kind", "email", "boroughs", "is_active"]

    def clean(self):
        data = super().clean()
        bcu, boroughs = data.get("bcu"), data.get("boroughs")
        if bcu is not None and boroughs is not None:
            outside = [b.name for b in boroughs if b.bcu_id != bcu.pk]
            if outside:
                self.add_error("boroughs", f"Not in {bcu}: {', '.join(outside)}.")
        return data


class DefaultPartnerInline(BCUScopedTabularInline):
    """The kinds of concern, in which boroughs, this partner is proposed for by default."""

    model = DefaultPartner
    fields = ["borough", "category"]
    extra = 1
    verbose_name = "default for"
    verbose_name_plural = "Proposed by default for"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("borough")


@admin.register(Partner)
class PartnerAdmin(BCUScopedAdmin):
    form = PartnerForm
    list_display = ["name", "kind", "email", "served", "is_active"]
    list_filter = ["kind", "is_active", "boroughs"]
    search_fields = ["name", "email"]
    ordering = ["name", "pk"]
    inlines = [DefaultPartnerInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("boroughs")

    @admin.display(description="boroughs")
    def served(self, obj):
        return ", ".join(sorted(b.name for b in obj.boroughs.all()))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # A default for a borough the team does not serve would never be proposed: say so.
        served = set(form.instance.boroughs.values_list("pk", flat=True))
        stray = form.instance.defaults.exclude(borough__in=served).select_related("borough")
        names = sorted({default.borough.name for default in stray})
        if names:
            messages.warning(
                request,
                f"{form.instance} does not serve {', '.join(names)}: "
                "its defaults there are not proposed until it does.",
            )


class OverdueFilter(admin.SimpleListFilter):
    """Referrals the inspector should chase (ReferralQuerySet.overdue) or take back."""

    title = "needs following up"
    parameter_name = "follow_up"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("returned", "Returned: not theirs")]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.filter(is_overdue=True)
        if self.value() == "returned":
            return queryset.filter(status=Referral.Status.RETURNED)
        return queryset


class ReferralForm(PlainTextModelForm):
    """Refer a concern: the concern (fixed when it comes from the concern's page) and a
    partner of its borough, the default for its category proposed."""

    class Meta:
        model = Referral
        fields = ["concern", "partner"]
        help_texts = {
            "partner": "The default for this kind of concern in its borough is proposed. "
            "They get an email with a private link to answer.",
        }

    # Whether this partner serves the concern's borough, and whether the concern is already
    # with another, is refer_concern's to say, under the concern's lock (BCUScopedAdmin shows
    # its refusal): a check here as well would be a second copy, and too early to be sure.


@admin.register(Referral)
class ReferralAdmin(BCUScopedAdmin):
    form = ReferralForm
    list_display = [
        "reference",
        "concern",
        "borough",
        "partner",
        "status",
        "overdue",
        "referred_at",
        "fix_by",
        "answered_at",
    ]
    list_display_links = ["reference", "concern"]
    list_filter = [OverdueFilter, "status", "partner", "referred_at"]
    list_select_related = ["concern__borough", "partner"]
    search_fields = ["reference", "concern__location_text", "partner__name"]
    ordering = ["-referred_at", "pk"]
    readonly_fields = [
        "reference",
        "concern_link",
        "partner",
        "status",
        "overdue",
        "referred_by",
        "referred_at",
        "fix_by",
        "answered_at",
        "fixed_at",
        "note",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_overdue(timezone.now())

    def get_fields(self, request, obj=None):
        return ["concern", "partner"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    @admin.display(description="overdue", boolean=True, ordering="is_overdue")
    def overdue(self, obj):
        return bool(getattr(obj, "is_overdue", False))

    @admin.display(description="borough", ordering="concern__borough__name")
    def borough(self, obj):
        return obj.concern.borough

    @admin.display(description="concern")
    def concern_link(self, obj):
        url = reverse("admin:concerns_concern_change", args=[obj.concern_id])
        return format_html('<a href="{}">{}</a>', url, obj.concern)

    def has_change_permission(self, request, obj=None):
        return False  # the partner answers it; the inspector reads it

    def has_delete_permission(self, request, obj=None):
        return False

    def referable(self, request):
        return Concern.objects.visible_to(request.user).exclude(status__in=CONCERN_SETTLED)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None:
            return form
        concern = self.chosen_concern(request)
        concerns = self.referable(request).select_related("borough")
        partners = Partner.objects.visible_to(request.user).filter(is_active=True)
        if concern is not None:
            concerns = concerns.filter(pk=concern.pk)
            partners = partners_for(concern)
        form.base_fields["concern"].queryset = concerns
        form.base_fields["partner"].queryset = partners.order_by("name")
        return form

    def chosen_concern(self, request) -> Concern | None:
        """The concern named in the address (?concern=<id>, from the concern's page)."""
        pk = request.GET.get("concern") or request.POST.get("concern")
        if not pk or not str(pk).isdigit():
            return None
        return self.referable(request).select_related("borough").filter(pk=pk).first()

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        concern = self.chosen_concern(request)
        if concern is not None:
            proposed = default_partner(concern)
            if proposed is not None:
                initial["partner"] = proposed.pk
        return initial

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = refer_concern(concern=data["concern"], partner=data["partner"], by=request.user)
        # The admin goes on to use obj (its log, message and redirect): make it the saved row.
        vars(obj).update(vars(saved))
        messages.success(request, f"Referred to {saved.partner}: they have been emailed a link.")
