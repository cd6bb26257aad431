"""The admin site: Django's, answering 400 to values that no admin page can use rather than
failing on them with a 500.

Django's admin hands what is in its address to the database: list filters and other lookups in
the query string (`?status__exact=`, `?due_at__year=`), the autocomplete's `?term=`, the ids an
action is applied to. A value that fails while the query is being built becomes "?e=1"; these
fail only later, as the query is compiled or run:

- NUL: PostgreSQL text cannot hold it, and psycopg refuses the whole query.
- a year Python's dates cannot hold: the date hierarchy and `__year` lookups compute dates from
  it (the hierarchy the year after it, too).
- lookups that no admin page builds and PostgreSQL refuses as it runs them: a malformed regular
  expression, a function of an extension that is not installed, a range of one value.
- action ids that are not ids.

`AdminSite` is the default site (walkandtalk.apps.AdminConfig) and gives `CheckedInputAdmin` to
every model admin registered on it: the project's and those of django.contrib.auth, django-otp
and django-axes alike.
"""

from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import BadRequest, FieldDoesNotExist, ValidationError
from django.db.models.constants import LOOKUP_SEP

from walkandtalk.text import PlainTextAdmin

NUL = "\x00"
# What the admin's list filters, date hierarchy and links put after a field's name, and the
# standard lookups like them that hold for any value of the right type.
LOOKUPS = frozenset(
    {
        "exact",
        "iexact",
        "in",
        "isnull",
        "isempty",  # EmptyFieldListFilter's parameter
        "gt",
        "gte",
        "lt",
        "lte",
        "contains",
        "icontains",
        "startswith",
        "istartswith",
        "endswith",
        "iendswith",
        "date",
        "time",
        "year",
        "month",
        "day",
        "week",
        "week_day",
        "iso_week_day",
        "quarter",
        "hour",
        "minute",
        "second",
    }
)
# Date parts and the values a date can have. The date hierarchy also works out the start of the
# year after the one asked for, so the last year is 9998, not Python's 9999.
DATE_PARTS = {"year": range(1, 9999), "month": range(1, 13), "day": range(1, 32)}


def lookup_steps(model, lookup: str) -> list[str]:
    """The lookups and transforms that follow the fields in `lookup`: ["year", "gt"] for
    "due_at__year__gt", ["exact"] for "borough__id__exact"; none after a name that is no field
    (a SimpleListFilter's parameter, or a name the change list refuses itself)."""
    parts = lookup.split(LOOKUP_SEP)
    for index, part in enumerate(parts):
        try:
            field = model._meta.get_field(model._meta.pk.name if part == "pk" else part)
        except FieldDoesNotExist:
            return parts[index:] if index else []
        if field.related_model is None:
            return parts[index + 1 :]
        model = field.related_model
    return []


def is_usable_lookup(model, lookup: str, value: str) -> bool:
    """Whether the admin's change list can filter `model` by `lookup=value` without the query
    failing when it is run."""
    if NUL in lookup or NUL in value:
        return False
    steps = lookup_steps(model, lookup)
    if not LOOKUPS.issuperset(steps):
        return False
    for step in steps:
        values = DATE_PARTS.get(step)
        # Four digits at most: int() is never handed a million of them either.
        if values is not None and not (
            len(value) <= 4 and value.isascii() and value.isdigit() and int(value) in values
        ):
            return False
    return True


def is_id(model, value: str) -> bool:
    """Whether `value` can be one of `model`'s primary keys."""
    try:
        model._meta.pk.to_python(value)
    except ValidationError:
        return False
    return NUL not in value


class CheckedInputAdmin:
    """Refuses with 400 what a model admin would pass on to the database and fail on."""

    def lookup_allowed(self, lookup, value, request=None):
        # A lookup refused here is Django's DisallowedModelAdminLookup: a 400.
        return is_usable_lookup(self.model, lookup, value) and super().lookup_allowed(
            lookup, value, request
        )

    def get_search_results(self, request, queryset, search_term):
        # The change list's search box refuses NUL in its own form; the autocomplete sends its
        # term here unchecked.
        if NUL in search_term:
            raise BadRequest("A search cannot contain a NUL character.")
        return super().get_search_results(request, queryset, search_term)

    def response_action(self, request, queryset):
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if not all(is_id(self.model, value) for value in selected):
            raise BadRequest("An action was sent an id that is not one.")
        return super().response_action(request, queryset)


class AdminSite(admin.AdminSite):
    """Every model admin registered here, the project's and django.contrib.auth's, django-otp's
    and django-axes' alike, refuses unusable values (CheckedInputAdmin) and special characters
    in every text box (walkandtalk.text.PlainTextAdmin)."""

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        missing = tuple(
            mixin
            for mixin in (CheckedInputAdmin, PlainTextAdmin)
            if not issubclass(admin_class, mixin)
        )
        if missing:
            # As Django does with `options`: a subclass, so isinstance() and every setting of
            # the admin class stand.
            admin_class = type(
                admin_class.__name__,
                (*missing, admin_class),
                {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
            )
        super().register(model_or_iterable, admin_class, **options)
