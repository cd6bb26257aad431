import pytest
from django.contrib.auth.models import Group

from patrols.models import BCU, Borough

pytestmark = pytest.mark.django_db


def test_the_twelve_bcus_and_thirty_two_boroughs_are_seeded():
    assert BCU.objects.count() == 12
    assert Borough.objects.count() == 32
    assert not Borough.objects.filter(name__icontains="City of London").exists()


@pytest.mark.parametrize(
    ("code", "boroughs"),
    [
        ("AS", {"Lambeth", "Southwark"}),
        ("AW", {"Westminster", "Kensington and Chelsea", "Hammersmith and Fulham"}),
        ("SW", {"Kingston upon Thames", "Merton", "Richmond upon Thames", "Wandsworth"}),
        ("WA", {"Ealing", "Hillingdon", "Hounslow"}),
    ],
)
def test_each_bcu_covers_its_boroughs(code, boroughs):
    assert set(BCU.objects.get(code=code).boroughs.values_list("name", flat=True)) == boroughs


def test_borough_slugs_are_url_ready():
    assert Borough.objects.get(name="Kensington and Chelsea").slug == "kensington-and-chelsea"


def test_the_three_staff_groups_exist_with_their_permissions():
    perms = {
        group.name: {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        for group in Group.objects.prefetch_related("permissions__content_type")
    }
    assert {"Officers", "Inspectors", "Commanders"} <= set(perms)
    assert "patrols.add_rosterassignment" in perms["Inspectors"]
    assert "concerns.add_concern" in perms["Officers"]
    assert "concerns.view_reports" in perms["Commanders"]
    # Commanders read figures, not women's contact details.
    assert "bookings.view_booking" not in perms["Commanders"]
    assert "patrols.add_walk" not in perms["Officers"]
