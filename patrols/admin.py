"""The inspectors' admin. Every model is scoped to the BCU of the person looking at it.

One mechanism does the scoping: `BCUScopedAdmin` (and `BCUScopedTabularInline` /
`BCUScopedStackedInline` for inlines), configured per model by the lookup path from the model to
its BCU (`bcu_field = "bcu"`, `"walk__bcu"`, `"borough__bcu"`...). It scopes the change list,
the change form's foreign-key choices, autocomplete results, the list filters' choices and
object access by guessed URL (404 for another BCU's object). `bcu_scope(user)` decides the BCU:
None means all of London (superusers, pan-London staff).
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.filters import RelatedFieldListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Q
from django.http import Http404

from .models import BCU, Borough, Officer, bcu_scope

admin.site.site_header = "Walk and Talk administration"
admin.site.site_title = "Walk and Talk admin"
admin.site.index_title = "Run the scheme"

# Models that have no scoped admin of their own but are chosen in forms and filters.
KNOWN_BCU_PATHS = {
    "patrols.bcu": "pk",
    "patrols.borough": "bcu",
    settings.AUTH_USER_MODEL.lower(): "officer__bcu",
}
NOWHERE = object()  # staff with no officer record: they see nothing


def request_scope(request):
    """bcu_scope(request.user) once per request: a BCU, None (all of London) or NOWHERE."""
    if not hasattr(request, "_bcu_scope"):
        try:
            request._bcu_scope = bcu_scope(request.user)
        except PermissionDenied:
            request._bcu_scope = NOWHERE
    return request._bcu_scope


def bcu_path_for(model, admin_site=admin.site) -> str | None:
    """The lookup from `model` to its BCU, or None when the model is not scoped by BCU."""
    model_admin = admin_site._registry.get(model)
    if isinstance(model_admin, BCUScopedMixin):
        return model_admin.bcu_field
    known = KNOWN_BCU_PATHS.get(model._meta.label_lower)
    if known:
        return known
    for field in model._meta.get_fields():
        if field.many_to_one and field.related_model is BCU:
            return field.name
    return None


def limit_to_scope(queryset, path: str | None, request):
    """The rows of `queryset` the person making `request` may see."""
    if path is None:
        return queryset
    scope = request_scope(request)
    if scope is NOWHERE:
        return queryset.none()
    if scope is None:
        return queryset
    return queryset.filter(**{path: scope.pk})


def bcu_id_of(obj, path: str) -> int | None:
    """Follow `path` from an instance to its BCU's id (None when a link is missing)."""
    *hops, last = path.split("__")
    if not hops and last == "pk":
        return obj.pk
    try:
        for hop in hops:
            obj = getattr(obj, hop)
            if obj is None:
                return None
        return getattr(obj, f"{last}_id")
    except ObjectDoesNotExist:
        return None


class BCUScopedRelatedFilter(RelatedFieldListFilter):
    """A list filter on a relation that offers only the related rows in the viewer's BCU."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        path = bcu_path_for(field.related_model, model_admin.admin_site)
        limit = None
        if path is not None:
            scope = request_scope(request)
            if scope is NOWHERE:
                return []
            if scope is not None:
                limit = Q(**{path: scope.pk})
        return field.get_choices(include_blank=False, limit_choices_to=limit, ordering=ordering)


class BCUScopedMixin:
    """Scoping shared by model admins and inlines. `bcu_field` is the path to the BCU."""

    bcu_field = "bcu"

    def get_queryset(self, request):
        return limit_to_scope(super().get_queryset(request), self.bcu_field, request)

    def scoped_choices(self, db_field, request, queryset=None):
        related = db_field.remote_field.model
        if queryset is None:
            queryset = self.get_field_queryset(None, db_field, request)
        if queryset is None:
            queryset = related._default_manager.all()
        return limit_to_scope(queryset, bcu_path_for(related, self.admin_site), request)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs["queryset"] = self.scoped_choices(db_field, request, kwargs.get("queryset"))
        scope = request_scope(request)
        own_bcu_link = db_field.name == self.bcu_field.split("__")[0]
        if own_bcu_link and isinstance(scope, BCU) and db_field.related_model is BCU:
            kwargs.setdefault("initial", scope.pk)
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None and own_bcu_link and isinstance(scope, BCU):
            # "No BCU" means pan-London: not something a BCU's inspector can grant.
            formfield.required = True
        return formfield

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs["queryset"] = self.scoped_choices(db_field, request, kwargs.get("queryset"))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class BCUScopedAdmin(BCUScopedMixin, admin.ModelAdmin):
    """A model admin that shows and changes only the viewer's BCU. Set `bcu_field`."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            # Another BCU's object looks exactly like one that does not exist.
            raise Http404("No such record.")
        return obj

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
        scope = request_scope(request)
        if scope is NOWHERE:
            return False
        return obj is None or scope is None or bcu_id_of(obj, self.bcu_field) == scope.pk

    def has_view_permission(self, request, obj=None):
        return self.in_scope(request, obj) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self.in_scope(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.in_scope(request, obj) and super().has_delete_permission(request, obj)

    def has_add_permission(self, request):
        return request_scope(request) is not NOWHERE and super().has_add_permission(request)


class BCUScopedTabularInline(BCUScopedMixin, admin.TabularInline):
    """An inline whose rows and choices are scoped like BCUScopedAdmin. Set `bcu_field`."""


class BCUScopedStackedInline(BCUScopedMixin, admin.StackedInline):
    """A stacked inline whose rows and choices are scoped like BCUScopedAdmin."""


@admin.register(BCU)
class BCUAdmin(BCUScopedAdmin):
    bcu_field = "pk"
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(Borough)
class BoroughAdmin(BCUScopedAdmin):
    list_display = ["name", "bcu"]
    list_filter = ["bcu"]
    list_select_related = ["bcu"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Officer)
class OfficerAdmin(BCUScopedAdmin):
    list_display = ["name", "collar_number", "rank", "bcu", "is_active"]
    list_filter = ["is_active", "rank", "bcu"]
    list_select_related = ["bcu"]
    search_fields = ["name", "collar_number"]
    fields = ["name", "collar_number", "rank", "bcu", "is_active", "user"]

    def get_readonly_fields(self, request, obj=None):
        # Linking a login account to an officer grants her the account's access: superusers only.
        return [] if request.user.is_superuser else ["user"]
