"""Hostile values in the admin's addresses, on every registered model admin: never a 500.

A value no admin page can use is refused with 400: NUL (PostgreSQL text cannot hold it), a date
Python's calendar cannot hold, a lookup no admin page builds, an action's id that is not an id.
An id that matches no record gets what a record she may not see gets: 404 from the BCU-scoped
admins, Django's redirect to the admin index from the others."""

import pytest
from django.contrib import admin
from django.db import models
from django.urls import reverse

from staff.admin.patrols import BCUScopedAdmin
from tests.factories import login_staff, make_user
from walkandtalk.admin_site import CheckedInputAdmin

pytestmark = pytest.mark.django_db

ADMINS = {
    model._meta.label_lower: model_admin for model, model_admin in admin.site._registry.items()
}
# The admins an inspector works in: her group's view permissions (concerns/migrations/0002_groups).
INSPECTOR_ADMINS = [
    "patrols.bcu",
    "patrols.borough",
    "patrols.officer",
    "patrols.walk",
    "bookings.walkrequest",
    "bookings.notification",
    "concerns.concern",
]
JUNK_IDS = ["abc", "99999999999999999999", "\x00"]
# Date parts as the date hierarchy and `__year` lookups take them, none of them a date.
BAD_DATES = [
    {"year": "99999999999999999999"},
    {"year": "9999"},
    {"year": "0"},
    {"year__gt": "99999999999999999999"},
    {"year": "2025", "month": "99"},
    {"year": "2025", "month": "1", "day": "\x00"},
]


def text_fields(model_admin) -> list[str]:
    fields = model_admin.model._meta.concrete_fields
    return [f.name for f in fields if isinstance(f, (models.CharField, models.TextField))]


def date_fields(model_admin) -> list[str]:
    fields = model_admin.model._meta.concrete_fields
    names = [f.name for f in fields if isinstance(f, models.DateField)]  # DateTimeField too
    return sorted({*names, *([model_admin.date_hierarchy] if model_admin.date_hierarchy else [])})


def autocompleted_relations(model_admin) -> list[str]:
    """The relations the autocomplete view serves for this model: every forward relation to a
    model whose admin has search fields, whether or not a form shows it as an autocomplete."""
    return [
        field.name
        for field in model_admin.model._meta.get_fields()
        if field.is_relation
        and not field.auto_created
        and admin.site.is_registered(field.related_model)
        and admin.site.get_model_admin(field.related_model).search_fields
    ]


def cases(keep=lambda model_admin: True):
    """(role, admin) pairs: a superuser on every admin, an inspector on those she works in."""
    return [
        pytest.param(role, label, id=f"{role}-{label}")
        for role, labels in (("superuser", ADMINS), ("inspector", INSPECTOR_ADMINS))
        for label in labels
        if keep(ADMINS[label])
    ]


def login(client, role):
    if role == "superuser":
        return login_staff(client, make_user(is_superuser=True))
    return login_staff(client, make_user("Inspectors", officer_bcu="AS"))


def admin_url(model_admin, view: str, *args) -> str:
    opts = model_admin.model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def changelist(client, model_admin):
    page = client.get(admin_url(model_admin, "changelist"))
    assert page.status_code == 200
    return page


def test_every_registered_admin_is_probed_and_checks_what_it_is_sent():
    """The cases below come from the registry as this module is imported: the project's admins
    and those of django.contrib.auth, django-otp and django-axes."""
    assert set(INSPECTOR_ADMINS) <= set(ADMINS)
    assert {"patrols.walk", "concerns.concern", "auth.user", "axes.accessattempt"} <= set(ADMINS)
    assert all(isinstance(model_admin, CheckedInputAdmin) for model_admin in ADMINS.values())


@pytest.mark.parametrize(("role", "label"), cases())
def test_an_object_page_for_an_id_that_matches_nothing_is_not_found(client, role, label):
    login(client, role)
    model_admin = ADMINS[label]
    missing = 404 if isinstance(model_admin, BCUScopedAdmin) else 302
    for junk in JUNK_IDS:
        for view in ("change", "history", "delete"):
            response = client.get(admin_url(model_admin, view, junk))
            assert response.status_code == missing, (view, junk)
        if hasattr(model_admin, "history_form_view"):  # one past version: never restored
            for version in (junk, "1"):
                url = admin_url(model_admin, "simple_history", junk, version)
                assert client.get(url).status_code == 404, (junk, version)


@pytest.mark.parametrize(("role", "label"), cases())
def test_a_list_refuses_nul_in_every_filter_and_field_lookup(client, role, label):
    login(client, role)
    model_admin = ADMINS[label]
    page = changelist(client, model_admin)
    params = {p for spec in page.context["cl"].filter_specs for p in spec.expected_parameters()}
    params |= {lookup for f in text_fields(model_admin) for lookup in (f, f"{f}__icontains")}
    assert params
    url = admin_url(model_admin, "changelist")
    for param in sorted(params):
        assert client.get(url, {param: "\x00"}).status_code == 400, param
    # The search box has a form of its own, which says what is wrong.
    assert client.get(url, {"q": "\x00"}).status_code == 200


@pytest.mark.parametrize(("role", "label"), cases(date_fields))
def test_a_list_refuses_dates_the_calendar_cannot_hold(client, role, label):
    login(client, role)
    model_admin = ADMINS[label]
    url = admin_url(model_admin, "changelist")
    for field in date_fields(model_admin):
        for parts in BAD_DATES:
            params = {f"{field}__{part}": value for part, value in parts.items()}
            assert client.get(url, params).status_code == 400, params


@pytest.mark.parametrize(("role", "label"), cases(text_fields))
def test_a_list_refuses_lookups_no_admin_page_builds(client, role, label):
    """Ones PostgreSQL refuses as it runs the query: a malformed regular expression, functions
    of extensions that are not installed, a range of one value, an ISO year past 9999."""
    login(client, role)
    model_admin = ADMINS[label]
    text = text_fields(model_admin)[0]
    lookups = {
        f"{text}__regex": "(",
        f"{text}__iregex": "[",
        f"{text}__unaccent": "x",
        f"{text}__trigram_similar": "x",
        "pk__range": "1",
    }
    for field in date_fields(model_admin):
        lookups[f"{field}__iso_year"] = "99999999999999999999"
    url = admin_url(model_admin, "changelist")
    for lookup, value in lookups.items():
        assert client.get(url, {lookup: value}).status_code == 400, lookup


@pytest.mark.parametrize(("role", "label"), cases(autocompleted_relations))
def test_the_autocomplete_refuses_nul(client, role, label):
    user = login(client, role)
    model_admin = ADMINS[label]
    opts = model_admin.model._meta
    for name in autocompleted_relations(model_admin):
        related = opts.get_field(name).related_model._meta
        # A model she may not see is refused before its search runs.
        expected = 400 if user.has_perm(f"{related.app_label}.view_{related.model_name}") else 403
        query = {"app_label": opts.app_label, "model_name": opts.model_name, "field_name": name}
        response = client.get(reverse("admin:autocomplete"), {**query, "term": "\x00"})
        assert response.status_code == expected, name


@pytest.mark.parametrize(("role", "label"), cases())
def test_an_action_on_ids_that_are_not_ids_is_refused(client, role, label):
    login(client, role)
    model_admin = ADMINS[label]
    form = changelist(client, model_admin).context["action_form"]
    actions = [name for name, _ in form.fields["action"].choices if name] if form else []
    url = admin_url(model_admin, "changelist")
    for junk in ("abc", "\x00"):
        data = {"action": actions[0] if actions else "", "index": "0", "_selected_action": junk}
        # Without actions the list has nothing to act with: it is shown again.
        assert client.post(url, data).status_code == (400 if actions else 200), junk


@pytest.mark.parametrize("label", ADMINS)
def test_what_the_admin_links_to_is_never_refused(client, label):
    """Each list filter's first choices (every kind of parameter a filter sends) and a walk
    down the date hierarchy to the calendar's edges still list."""
    login(client, "superuser")
    model_admin = ADMINS[label]
    cl = changelist(client, model_admin).context["cl"]
    links = [
        choice["query_string"]
        for spec in cl.filter_specs
        for choice in list(spec.choices(cl))[1:3]  # the first is "All"
    ]
    for field in date_fields(model_admin):
        links.append(f"?{field}__year=2025&{field}__month=3&{field}__day=30")
        links.append(f"?{field}__year=1&{field}__month=12")
        links.append(f"?{field}__year=9998&{field}__month=12&{field}__day=31")
    url = admin_url(model_admin, "changelist")
    for link in links:
        assert client.get(url + link).status_code == 200, link
