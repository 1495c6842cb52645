"""An index for the decision log's `workload` filter: partial (only an agent asking as itself
carries a workload), so the gateways' decisions, the hot path, never write to it.

On PostgreSQL the log is partitioned by month and may hold years of rows. A plain CREATE INDEX
on the partitioned table would hold off every decision insert until each partition is indexed,
so the index is built the way PostgreSQL documents for partitioned tables: on the parent ONLY
(invalid, instantly), then CONCURRENTLY on each partition (inserts go on), each attached to
the parent's, which becomes valid with the last. Not atomic (CONCURRENTLY cannot run in a
transaction); every step is IF NOT EXISTS, so a migration stopped half-way is simply run
again. A partition made while it runs gets the index when it is attached. SQLite: one plain
CREATE INDEX.
"""

from django.db import migrations, models

TABLE = "decisions_decision"
INDEX = "decision_workload_at"
COLUMNS = "(caller_workload, decided_at) WHERE caller_workload > ''"
WORKLOAD_INDEX = models.Index(
    fields=["caller_workload", "decided_at"],
    condition=models.Q(caller_workload__gt=""),
    name=INDEX,
)


def _partitions(cursor) -> list[str]:
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass ORDER BY c.relname",
        [TABLE],
    )
    return [name for (name,) in cursor.fetchall()]


def _is_partitioned(cursor) -> bool:
    cursor.execute("SELECT relkind FROM pg_class WHERE oid = %s::regclass", [TABLE])
    return cursor.fetchone()[0] == "p"


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        schema_editor.add_index(apps.get_model("decisions", "Decision"), WORKLOAD_INDEX)
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if not _is_partitioned(cursor):
            cursor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON {TABLE} {COLUMNS}")
            return
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON ONLY {TABLE} {COLUMNS}")
        for partition in _partitions(cursor):
            name = f"{partition}_workload_at"[:63]
            cursor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quote(name)} "
                f"ON {quote(partition)} {COLUMNS}"
            )
            cursor.execute(
                "SELECT 1 FROM pg_inherits WHERE inhrelid = %s::regclass "
                "AND inhparent = %s::regclass",
                [name, INDEX],
            )
            if cursor.fetchone() is None:
                cursor.execute(f"ALTER INDEX {INDEX} ATTACH PARTITION {quote(name)}")


def drop(apps, schema_editor):
    schema_editor.remove_index(apps.get_model("decisions", "Decision"), WORKLOAD_INDEX)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("decisions", "0007_decision_caller_workload"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="decision", index=WORKLOAD_INDEX)],
            database_operations=[migrations.RunPython(create, drop)],
        ),
    ]
