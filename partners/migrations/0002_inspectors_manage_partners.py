from django.contrib.auth.management import create_permissions
from django.db import migrations

# Inspectors keep their BCU's partners and defaults and refer concerns to them (a referral is
# added, never edited: the partner answers it); commanders read them.
GRANTS = {
    "Inspectors": [
        "view_partner",
        "add_partner",
        "change_partner",
        "view_defaultpartner",
        "add_defaultpartner",
        "change_defaultpartner",
        "delete_defaultpartner",
        "view_referral",
        "add_referral",
    ],
    "Commanders": ["view_partner", "view_defaultpartner", "view_referral"],
}


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations; make partners' now to give them.
    app_config = apps.get_app_config("partners")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        permissions = Permission.objects.filter(
            content_type__app_label="partners", codename__in=codenames
        )
        for group in Group.objects.filter(name=name):
            group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [("partners", "0001_partners_and_referrals")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
