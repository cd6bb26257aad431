from django.db import migrations
from django.utils.text import slugify

# The Met's 12 Borough Command Units and their 32 boroughs (the City of London is not Met).
BCUS = {
    ("AS", "Central South"): ["Lambeth", "Southwark"],
    ("AW", "Central West"): ["Westminster", "Kensington and Chelsea", "Hammersmith and Fulham"],
    ("CN", "Central North"): ["Camden", "Islington"],
    ("CE", "Central East"): ["Hackney", "Tower Hamlets"],
    ("NA", "North"): ["Enfield", "Haringey"],
    ("NE", "North East"): ["Newham", "Waltham Forest"],
    ("NW", "North West"): ["Barnet", "Brent", "Harrow"],
    ("EA", "East"): ["Barking and Dagenham", "Havering", "Redbridge"],
    ("SE", "South East"): ["Bexley", "Greenwich", "Lewisham"],
    ("SN", "South"): ["Bromley", "Croydon", "Sutton"],
    ("SW", "South West"): ["Kingston upon Thames", "Merton", "Richmond upon Thames", "Wandsworth"],
    ("WA", "West"): ["Ealing", "Hillingdon", "Hounslow"],
}


def seed(apps, schema_editor):
    BCU = apps.get_model("patrols", "BCU")
    Borough = apps.get_model("patrols", "Borough")
    for (code, name), boroughs in BCUS.items():
        bcu, _ = BCU.objects.update_or_create(code=code, defaults={"name": name})
        for borough in boroughs:
            Borough.objects.update_or_create(
                slug=slugify(borough), defaults={"name": borough, "bcu": bcu}
            )


class Migration(migrations.Migration):
    dependencies = [("patrols", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
