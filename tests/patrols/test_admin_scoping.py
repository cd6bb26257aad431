"""An inspector of Central South (AS) sees and changes nothing of Central West (AW) in the admin:
not in lists, forms, foreign-key choices, autocompletes, filters, nor by guessed URL. A
commander with no BCU and a superuser see all of London."""

import pytest
from django.urls import reverse

from bookings.models import WalkRequest
from patrols.models import Walk
from tests.factories import borough, login_staff, make_officer, make_request, make_user, make_walk
from tests.patrols.conftest import form_fields

pytestmark = pytest.mark.django_db


def as_officer():
    return make_officer(name="Asha Lambeth")


def aw_officer():
    return make_officer(name="Wendy Westminster", bcu=borough("westminster").bcu)


# name: (admin url prefix, make an AS object, make an AW object, can a commander view it)
CASES = {
    "officer": ("admin:patrols_officer", as_officer, aw_officer, False),
    "borough": (
        "admin:patrols_borough",
        lambda: borough("lambeth"),
        lambda: borough("westminster"),
        True,
    ),
    "bcu": (
        "admin:patrols_bcu",
        lambda: borough("lambeth").bcu,
        lambda: borough("westminster").bcu,
        True,
    ),
    "walk": (
        "admin:patrols_walk",
        make_walk,
        lambda: make_walk(borough=borough("kensington-and-chelsea")),
        True,
    ),
    "walkrequest": (
        "admin:bookings_walkrequest",
        make_request,
        lambda: make_request(borough=borough("hammersmith-and-fulham")),
        False,
    ),
}


# Walks list upcoming ones and requests open ones unless asked for all.
SHOW_ALL = {"admin:patrols_walk": {"when": "all"}, "admin:bookings_walkrequest": {"status": "all"}}


def listed(client, prefix):
    response = client.get(reverse(f"{prefix}_changelist"), SHOW_ALL.get(prefix, {}))
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


def autocomplete(client, app_label, model_name, field_name):
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": ""},
    )
    assert response.status_code == 200
    return {int(r["id"]) for r in response.json()["results"]}


@pytest.mark.parametrize("case", CASES)
def test_an_inspector_lists_only_her_bcus_records(client, inspector, case):
    prefix, mine, theirs, _ = CASES[case]
    own, other = mine(), theirs()
    rows = listed(client, prefix)
    assert own in rows
    assert other not in rows


@pytest.mark.parametrize("case", CASES)
def test_an_inspector_cannot_open_change_or_delete_another_bcus_record_by_url(
    client, inspector, case
):
    prefix, _, theirs, _ = CASES[case]
    other = theirs()
    for view in ("change", "delete", "history"):
        url = reverse(
            f"{prefix}_change" if view == "change" else f"{prefix}_{view}", args=[other.pk]
        )
        assert client.get(url).status_code == 404, view
        assert client.post(url, {"post": "yes", "title": "Changed"}).status_code == 404, view
    assert type(other).objects.filter(pk=other.pk).exists()


@pytest.mark.parametrize("case", CASES)
def test_an_inspector_can_open_her_own_bcus_record(client, inspector, case):
    prefix, mine, _, _ = CASES[case]
    own = mine()
    assert client.get(reverse(f"{prefix}_change", args=[own.pk])).status_code == 200


def test_an_inspector_cannot_act_on_another_bcus_walks_by_posting_their_ids(client, inspector):
    other = make_walk(borough=borough("westminster"))
    response = client.post(
        reverse("admin:patrols_walk_changelist"),
        {"action": "cancel_walks", "_selected_action": [other.pk], "apply": "1", "reason": "No"},
    )
    assert response.status_code in (200, 302)
    other.refresh_from_db()
    assert other.status == Walk.Status.SCHEDULED


def test_an_inspector_cannot_schedule_or_decline_another_bcus_request(client, inspector):
    other = make_request(borough=borough("westminster"))
    for view in ("schedule", "decline"):
        url = reverse(f"admin:bookings_walkrequest_{view}", args=[other.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, {"reason": "No"}).status_code == 404
    other.refresh_from_db()
    assert other.status == WalkRequest.Status.OPEN


@pytest.mark.parametrize("case", [name for name, c in CASES.items() if c[3]])
def test_a_commander_sees_every_bcu(client, commander, case):
    prefix, mine, theirs, _ = CASES[case]
    own, other = mine(), theirs()
    assert {own, other} <= listed(client, prefix)
    assert client.get(reverse(f"{prefix}_change", args=[other.pk])).status_code == 200


@pytest.mark.parametrize("case", CASES)
def test_a_superuser_sees_opens_and_may_delete_every_bcus_records(client, superuser, case):
    prefix, mine, theirs, _ = CASES[case]
    own, other = mine(), theirs()
    assert {own, other} <= listed(client, prefix)
    assert client.get(reverse(f"{prefix}_change", args=[other.pk])).status_code == 200
    assert client.get(reverse(f"{prefix}_delete", args=[other.pk])).status_code == 200


def test_an_inspector_can_put_an_officer_only_in_her_own_bcu(client, inspector):
    response = client.get(reverse("admin:patrols_officer_add"))
    field = response.context["adminform"].form.fields["bcu"]
    assert [b.code for b in field.queryset] == ["AS"]
    assert field.required  # not "no BCU", which would make her pan-London
    response = client.post(
        reverse("admin:patrols_officer_add"),
        {
            "name": "New Officer",
            "collar_number": "999AW",
            "rank": "PC",
            "bcu": borough("westminster").bcu.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "bcu" in response.context["adminform"].form.errors


def test_an_inspector_chooses_only_her_bcus_boroughs_and_officers_for_a_walk(client, inspector):
    own, other = as_officer(), aw_officer()
    response = client.get(reverse("admin:patrols_walk_add"))
    boroughs = response.context["adminform"].form.fields["borough"].queryset
    assert {b.slug for b in boroughs} == {"lambeth", "southwark"}
    roster = response.context["inline_admin_formsets"][0].formset
    officers = set(roster.forms[0].fields["officer"].queryset)
    assert own in officers
    assert other not in officers


def test_an_inspector_cannot_create_a_walk_in_another_bcus_borough(client, inspector):
    response = client.get(reverse("admin:patrols_walk_add"))
    data = form_fields(response)
    data.update(
        title="Sneaky walk",
        borough=str(borough("westminster").pk),
        meeting_point="Victoria station",
        starts_at_0="2099-01-05",
        starts_at_1="18:30",
        ends_at_0="2099-01-05",
        ends_at_1="20:00",
        capacity="8",
    )
    response = client.post(reverse("admin:patrols_walk_add"), data)
    assert response.status_code == 200
    assert "borough" in response.context["adminform"].form.errors
    assert not Walk.objects.filter(title="Sneaky walk").exists()


def test_an_inspector_cannot_roster_another_bcus_officer(client, inspector):
    walk = make_walk()
    other = aw_officer()
    response = client.get(reverse("admin:patrols_walk_change", args=[walk.pk]))
    data = form_fields(response)
    data.update({"roster-0-officer": str(other.pk), "roster-0-role": "officer"})
    response = client.post(reverse("admin:patrols_walk_change", args=[walk.pk]), data)
    assert response.status_code == 200
    assert not walk.roster.exists()


@pytest.mark.parametrize(
    "source",
    [
        ("patrols", "rosterassignment", "officer", "officer"),
        ("patrols", "walk", "borough", "borough"),
        ("patrols", "walk", "bcu", "bcu"),
        ("bookings", "booking", "walk", "walk"),
        ("bookings", "walkrequest", "borough", "borough"),
    ],
    ids=lambda s: f"{s[1]}.{s[2]}",
)
def test_autocompletes_offer_an_inspector_only_her_bcu(client, inspector, source):
    app_label, model_name, field_name, target = source
    make_case = {"officer": "officer", "borough": "borough", "bcu": "bcu", "walk": "walk"}
    _, mine, theirs, _ = CASES[make_case[target]]
    own, other = mine(), theirs()
    ids = autocomplete(client, app_label, model_name, field_name)
    assert own.pk in ids
    assert other.pk not in ids


def test_autocompletes_offer_a_superuser_all_of_london(client, superuser):
    own, other = as_officer(), aw_officer()
    ids = autocomplete(client, "patrols", "rosterassignment", "officer")
    assert {own.pk, other.pk} <= ids


def filter_choices(client, prefix, field_path):
    response = client.get(reverse(f"{prefix}_changelist"))
    specs = [
        f for f in response.context["cl"].filter_specs if getattr(f, "field_path", "") == field_path
    ]
    # A filter with a single choice is not shown at all.
    return {label for spec in specs for _, label in spec.lookup_choices}


@pytest.mark.parametrize(
    "prefix, field_path, expected",
    [
        ("admin:patrols_officer", "bcu", {"Central South"}),
        ("admin:patrols_borough", "bcu", set()),
        ("admin:patrols_walk", "borough", {"Lambeth", "Southwark"}),
        ("admin:bookings_walkrequest", "borough", {"Lambeth", "Southwark"}),
    ],
)
def test_list_filters_offer_an_inspector_only_her_bcu(
    client, inspector, prefix, field_path, expected
):
    assert filter_choices(client, prefix, field_path) == expected


def test_list_filters_offer_a_commander_all_of_london(client, commander):
    assert len(filter_choices(client, "admin:patrols_walk", "borough")) == 32


def test_a_filter_for_another_bcu_in_the_url_shows_an_inspector_nothing(client, inspector):
    make_walk(borough=borough("westminster"))
    response = client.get(
        reverse("admin:patrols_walk_changelist"), {"borough__id__exact": borough("westminster").pk}
    )
    assert list(response.context["cl"].result_list) == []


def test_a_staff_account_with_no_officer_record_sees_nothing(client):
    aw_officer()
    login_staff(client, make_user("Inspectors"))
    assert client.get(reverse("admin:patrols_officer_changelist")).status_code == 403
    assert client.get(reverse("admin:patrols_walk_changelist")).status_code == 403
