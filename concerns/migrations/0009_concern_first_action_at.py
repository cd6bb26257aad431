"""Each concern stores its first action's time (`first_action_at`), filled here from its
actions, and the reports' covering index carries it, so the share acted on and the time to
the first action are read from the concerns alone."""

from django.db import migrations, models
from django.db.models import Exists, Min, OuterRef, Subquery

from walkandtalk.db import PostgreSQLOnly

# A million concerns take longer to fill and index than a web request's statement timeout:
# none for the rest of this migration's transaction.
NO_TIMEOUT = PostgreSQLOnly("SET LOCAL statement_timeout = 0", migrations.RunSQL.noop)


def fill_first_action(apps, schema_editor):
    Concern = apps.get_model("concerns", "Concern")
    ConcernAction = apps.get_model("concerns", "ConcernAction")
    earliest = (
        ConcernAction.objects.filter(concern=OuterRef("pk"))
        .order_by()
        .values("concern")
        .annotate(first=Min("at"))
        .values("first")
    )
    Concern.objects.filter(Exists(ConcernAction.objects.filter(concern=OuterRef("pk")))).update(
        first_action_at=Subquery(earliest)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("concerns", "0008_concern_several_times_unsafe"),
    ]

    operations = [
        NO_TIMEOUT,
        migrations.RemoveIndex(model_name="concern", name="concern_report_covering"),
        migrations.AddField(
            model_name="concern",
            name="first_action_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill_first_action, migrations.RunPython.noop, elidable=True),
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
                    "first_action_at",
                ),
                name="concern_report_covering",
            ),
        ),
    ]
