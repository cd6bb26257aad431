from django.contrib.auth.management import create_permissions
from django.db import migrations

# Inspectors record when their officers cannot walk (leave, training, court); officers see it.
GRANTS = {
    "Inspectors": [
        "view_unavailability",
        "add_unavailability",
        "change_unavailability",
        "delete_unavailability",
    ],
    "Officers": ["view_unavailability"],
}


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations; make patrols' now to give them.
    app_config = apps.get_app_config("patrols")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        permissions = Permission.objects.filter(
            content_type__app_label="patrols", codename__in=codenames
        )
        for group in Group.objects.filter(name=name):
            group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("patrols", "0007_officer_unavailability"),
        ("concerns", "0005_inspectors_retry_notifications"),
    ]

    operations = [
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
