from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    """The database cache's table (the default cache: it holds the rate-limit counters).
    createcachetable does nothing when the cache is Redis or the table already exists."""
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0002_notification_skipped_at")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
