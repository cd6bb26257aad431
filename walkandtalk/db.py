"""Database helpers shared by the apps."""

from django.db import migrations


class PostgreSQLOnly(migrations.RunSQL):
    """SQL that only PostgreSQL has (exclusion constraints); the embedded SQLite demo skips it
    and relies on the service's check under a row lock."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
