"""Database helpers shared by the apps."""

from contextlib import contextmanager

from django.db import connection, migrations


class PostgreSQLOnly(migrations.RunSQL):
    """SQL that only PostgreSQL has (exclusion constraints); the embedded SQLite demo skips it
    and relies on the service's check under a row lock."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


@contextmanager
def statement_timeout(seconds: float):
    """PostgreSQL's statement timeout for the work inside, in place of the short one every
    connection starts with (settings.DATABASE_STATEMENT_TIMEOUT, sized for a web request); 0
    means none. Inside a transaction it ends with the transaction; outside, with the block."""
    if connection.vendor != "postgresql":
        yield
        return
    local = connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, %s)", [str(int(seconds * 1000)), local]
        )
    try:
        yield
    finally:
        if not local and connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute("RESET statement_timeout")
