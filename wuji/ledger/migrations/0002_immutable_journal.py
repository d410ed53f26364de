"""Database triggers that refuse UPDATE and DELETE on the journal, on SQLite and PostgreSQL."""

from django.db import migrations

TABLES = {"ledger_posting": "posting", "ledger_transaction": "transaction"}


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table, short in TABLES.items():
        for op, suffix in (("UPDATE", "upd"), ("DELETE", "del")):
            name = f"ledger_{short}_immutable_{suffix}"
            if vendor == "sqlite":
                schema_editor.execute(
                    f"CREATE TRIGGER {name} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;"
                )
            elif vendor == "postgresql":
                schema_editor.execute(
                    "CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only'; END; $$ LANGUAGE plpgsql;"
                )
                schema_editor.execute(
                    f"CREATE TRIGGER {name} BEFORE {op} ON {table} FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();"
                )


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table, short in TABLES.items():
        for suffix in ("upd", "del"):
            name = f"ledger_{short}_immutable_{suffix}"
            if vendor == "sqlite":
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name};")
            elif vendor == "postgresql":
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table};")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(create_triggers, drop_triggers)]
