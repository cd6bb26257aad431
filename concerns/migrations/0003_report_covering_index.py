from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("concerns", "0002_groups"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="concern",
            index=models.Index(
                fields=["logged_at"],
                include=(
                    "id",
                    "bcu",
                    "borough",
                    "category",
                    "times_unsafe",
                    "status",
                    "location_text",
                ),
                name="concern_report_covering",
            ),
        ),
    ]
