from django.contrib.auth.management import create_permissions
from django.db import migrations

# What each role may do in the admin and on the staff pages; BCU scoping is on top of this.
GROUPS = {
    "Officers": [
        "patrols.view_walk",
        "patrols.view_rosterassignment",
        "patrols.view_officer",
        "concerns.add_concern",
        "concerns.view_concern",
    ],
    "Inspectors": [
        "patrols.view_bcu",
        "patrols.view_borough",
        "patrols.view_officer",
        "patrols.add_officer",
        "patrols.change_officer",
        "patrols.view_walk",
        "patrols.add_walk",
        "patrols.change_walk",
        "patrols.view_rosterassignment",
        "patrols.add_rosterassignment",
        "patrols.change_rosterassignment",
        "patrols.delete_rosterassignment",
        "bookings.view_booking",
        "bookings.view_walkrequest",
        "bookings.change_walkrequest",
        "bookings.view_notification",
        "concerns.view_concern",
        "concerns.add_concern",
        "concerns.change_concern",
        "concerns.view_concernaction",
        "concerns.add_concernaction",
        "concerns.view_reports",
    ],
    "Commanders": [
        "patrols.view_bcu",
        "patrols.view_borough",
        "patrols.view_walk",
        "concerns.view_concern",
        "concerns.view_concernaction",
        "concerns.view_feedback",
        "concerns.view_reports",
    ],
}


def create_groups(apps, schema_editor):
    # Permissions are normally made after all migrations; make them now to attach them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("patrols", "0003_roster_no_overlap"),
        ("bookings", "0001_initial"),
        ("concerns", "0001_initial"),
    ]
    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
