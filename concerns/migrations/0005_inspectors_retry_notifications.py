from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = ["Inspectors"]  # they run their BCU's walks and answer for its messages


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations; make bookings' now to give one.
    app_config = apps.get_app_config("bookings")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    retry = Permission.objects.get(
        content_type__app_label="bookings", codename="retry_notification"
    )
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.add(retry)


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0004_notification_retry_permission"),
        ("concerns", "0004_concern_and_action_history"),
    ]

    operations = [
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
