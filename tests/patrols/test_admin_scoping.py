"""An inspector of Central South (AS) sees and changes nothing of Central West (AW) in the admin:
not in lists, forms, foreign-key choices, autocompletes, filters, nor by guessed URL. A
commander with no BCU and a superuser see all of London."""

import pytest
from django.urls import reverse

from tests.factories import borough, make_officer, make_user

pytestmark = pytest.mark.django_db


def as_officer():
    return make_officer(name="Asha Lambeth")


def aw_officer():
    return make_officer(name="Wendy Westminster", bcu=borough("westminster").bcu)


# (admin url prefix, make an AS object, make an AW object)
CASES = {
    "officer": ("admin:patrols_officer", as_officer, aw_officer),
    "borough": (
        "admin:patrols_borough",
        lambda: borough("lambeth"),
        lambda: borough("westminster"),
    ),
    "bcu": (
        "admin:patrols_bcu",
        lambda: borough("lambeth").bcu,
        lambda: borough("westminster").bcu,
    ),
}


@pytest.fixture
def inspector(client):
    user = make_user("Inspectors", officer_bcu="AS")
    client.force_login(user)
    return user


@pytest.fixture
def commander(client):
    user = make_user("Commanders", officer_bcu="")
    client.force_login(user)
    return user


@pytest.fixture
def superuser(client):
    user = make_user(is_superuser=True)
    client.force_login(user)
    return user


def listed(client, prefix):
    response = client.get(reverse(f"{prefix}_changelist"))
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


@pytest.mark.parametrize("case", CASES)
def test_an_inspector_lists_only_her_bcus_records(client, inspector, case):
    prefix, mine, theirs = CASES[case]
    own, other = mine(), theirs()
    rows = listed(client, prefix)
    assert own in rows
    assert other not in rows


@pytest.mark.parametrize("case", CASES)
def test_an_inspector_cannot_open_change_or_delete_another_bcus_record_by_url(
    client, inspector, case
):
    prefix, _, theirs = CASES[case]
    other = theirs()
    for view in ("change", "delete", "history"):
        url = reverse(f"{prefix}_{view}", args=[other.pk])
        assert client.get(url).status_code == 404, view
        assert client.post(url, {"post": "yes"}).status_code == 404, view
    assert type(other).objects.filter(pk=other.pk).exists()


@pytest.mark.parametrize("case", CASES)
def test_a_commander_sees_every_bcu(client, commander, case):
    prefix, mine, theirs = CASES[case]
    own, other = mine(), theirs()
    if case == "officer":
        pytest.skip("Commanders have no officer permissions.")
    assert {own, other} <= listed(client, prefix)
    assert client.get(reverse(f"{prefix}_change", args=[other.pk])).status_code == 200


@pytest.mark.parametrize("case", CASES)
def test_a_superuser_sees_and_opens_every_bcu(client, superuser, case):
    prefix, mine, theirs = CASES[case]
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


def test_an_inspectors_officer_filter_offers_only_her_bcu(client, inspector):
    response = client.get(reverse("admin:patrols_officer_changelist"))
    bcu_filter = next(
        f for f in response.context["cl"].filter_specs if getattr(f, "field_path", "") == "bcu"
    )
    assert [label for _, label in bcu_filter.lookup_choices] == ["Central South"]


def test_an_inspector_autocompleting_officers_sees_only_her_bcu(client, inspector):
    own, other = as_officer(), aw_officer()
    response = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "patrols",
            "model_name": "rosterassignment",
            "field_name": "officer",
            "term": "",
        },
    )
    assert response.status_code == 200
    ids = {int(r["id"]) for r in response.json()["results"]}
    assert own.pk in ids
    assert other.pk not in ids


def test_a_staff_account_with_no_officer_record_sees_nothing(client):
    aw_officer()
    client.force_login(make_user("Inspectors"))
    assert client.get(reverse("admin:patrols_officer_changelist")).status_code == 403
