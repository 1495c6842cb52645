"""An index for the decision log's `workload` filter: partial (only an agent asking as itself
carries a workload), so the gateways' decisions, the hot path, never write to it.

On PostgreSQL the log is partitioned by month and may hold years of rows. A plain CREATE INDEX
on the partitioned table would hold off every decision insert until each partition is indexed,
so the index is built the way PostgreSQL documents for partitioned tables: on the parent ONLY
(invalid, instantly), then CONCURRENTLY on each partition (inserts go on), each attached to
the parent's, which becomes valid with the last. Not atomic (CONCURRENTLY cannot run in a
transaction); every step is IF NOT EXISTS, and an index an interrupted CONCURRENTLY build
left invalid is dropped and built again, so a migration stopped half-way is simply run again
(and it refuses to finish with the parent's index invalid). A partition made while it runs
gets the index when it is attached. SQLite: one plain CREATE INDEX.
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
            _drop_if_invalid(cursor, INDEX, quote)
            cursor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON {TABLE} {COLUMNS}")
            return
        names = {partition: f"{partition}_workload_at"[:63] for partition in _partitions(cursor)}
        if any(_valid(cursor, name) is False and _attached(cursor, name) for name in names.values()):
            cursor.execute(f"DROP INDEX {INDEX}")  # an attached child goes only with its parent
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON ONLY {TABLE} {COLUMNS}")
        for partition, name in names.items():
            _drop_if_invalid(cursor, name, quote)
            cursor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quote(name)} "
                f"ON {quote(partition)} {COLUMNS}"
            )
            if not _attached(cursor, name):
                cursor.execute(f"ALTER INDEX {INDEX} ATTACH PARTITION {quote(name)}")
        if not _valid(cursor, INDEX):
            raise RuntimeError(
                f"{INDEX} is not valid after indexing every partition of {TABLE}: run the "
                "migration again (it rebuilds what an interruption left half-built)."
            )


def _valid(cursor, index: str) -> bool | None:
    """Whether the index is valid (None: there is none)."""
    cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [index])
    row = cursor.fetchone()
    return None if row is None else row[0]


def _attached(cursor, name: str) -> bool:
    cursor.execute(
        "SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(%s) "
        "AND inhparent = to_regclass(%s)",
        [name, INDEX],
    )
    return cursor.fetchone() is not None


def _drop_if_invalid(cursor, name: str, quote) -> None:
    """A CONCURRENTLY build that was interrupted leaves an invalid index, which IF NOT EXISTS
    would keep (and the parent's would stay invalid once it is attached): drop it to rebuild."""
    if _valid(cursor, name) is False:
        cursor.execute(f"DROP INDEX CONCURRENTLY {quote(name)}")


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
