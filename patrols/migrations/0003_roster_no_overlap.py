from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

from walkandtalk.db import PostgreSQLOnly


class Migration(migrations.Migration):
    """The last line against double-booking an officer: PostgreSQL refuses two roster rows of
    one officer whose times overlap, whatever the application does."""

    dependencies = [("patrols", "0002_bcus_and_boroughs")]
    operations = [
        BtreeGistExtension(),
        PostgreSQLOnly(
            sql="""
                ALTER TABLE patrols_rosterassignment
                ADD CONSTRAINT roster_officer_no_overlapping_walks
                EXCLUDE USING gist (officer_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
            """,
            reverse_sql="""
                ALTER TABLE patrols_rosterassignment
                DROP CONSTRAINT roster_officer_no_overlapping_walks
            """,
        ),
    ]
