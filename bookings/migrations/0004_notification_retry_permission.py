from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0003_cache_table"),
    ]

    # The Inspectors group is given this permission by concerns 0005, where the groups live.
    operations = [
        migrations.AlterModelOptions(
            name="notification",
            options={
                "ordering": ["due_at", "pk"],
                "permissions": [("retry_notification", "Can try failed messages again")],
            },
        ),
    ]
