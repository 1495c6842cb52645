"""Migration 0004 on PostgreSQL, both ways, over tables holding rows: the rows, their ids and
the identity's next value survive; forward the tables are partitioned, backward plain again
with their original keys."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from decisions import partitions
from tests.portal.factories import make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BEFORE = ("decisions", "0003_daily_rollups")


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def leaves() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def query(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def kind(table: str) -> str:
    return query("SELECT relkind FROM pg_class WHERE oid = %s::regclass", [table])[0][0]


def keys(table: str) -> list[tuple[str, list[str]]]:
    return [
        (contype, list(columns))
        for contype, columns in query(
            "SELECT c.contype, ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY "
            "k(n, o) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n "
            "ORDER BY k.o) FROM pg_constraint c "
            "WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u') ORDER BY 1",
            [table],
        )
    ]


def insert_decision(at) -> int:
    return query(
        "INSERT INTO decisions_decision (request_id, agent_slug, capability_key, scope, decision, "
        "reason, decided_at, credential_jti) VALUES (%s, 'bot', 'github:read', '', 'deny', 'r', "
        "%s, '') RETURNING id",
        [uuid.uuid4(), at],
    )[0][0]


def insert_activity(at, user_id: int) -> int:
    return query(
        "INSERT INTO decisions_activity (agent_slug, capability_key, target, outcome, "
        "occurred_at, reported_at, covered_by, flagged, flag_reason, review_status, "
        "review_note, reported_by_id) VALUES ('bot', 'github:read', '', 'ok', %s, now(), '', "
        "false, '', 'not_needed', '', %s) RETURNING id",
        [at, user_id],
    )[0][0]


def rows() -> dict[str, list[tuple]]:
    return {
        "decisions": query("SELECT id, decided_at FROM decisions_decision ORDER BY id"),
        "activity": query("SELECT id, occurred_at FROM decisions_activity ORDER BY id"),
    }


def test_plain_to_partitioned_and_back_keeps_rows_ids_and_the_identity():
    targets = leaves()
    user = make_user("reporter")
    now = timezone.now()
    try:
        migrate([BEFORE])
        assert kind("decisions_decision") == kind("decisions_activity") == "r"
        old = now - timedelta(days=700)  # older than the retention window: its month is made
        for days in (700, 30, 0):
            insert_decision(now - timedelta(days=days))
            insert_activity(now - timedelta(days=days), user.pk)
        before = rows()

        migrate(targets)
        assert kind("decisions_decision") == kind("decisions_activity") == "p"
        assert rows() == before
        assert keys("decisions_decision") == [
            ("p", ["id", "decided_at"]),
            ("u", ["request_id", "decided_at"]),
        ]
        made = [p.name for p in partitions.partitions("decisions")]
        assert partitions.partition_name(partitions.DECISIONS, partitions.month_start(old)) in made
        # The identity goes on where it stood.
        assert insert_decision(now) == before["decisions"][-1][0] + 1
        assert insert_activity(now, user.pk) == before["activity"][-1][0] + 1
        during = rows()

        migrate([BEFORE])
        assert kind("decisions_decision") == kind("decisions_activity") == "r"
        assert rows() == during
        assert keys("decisions_decision") == [("p", ["id"]), ("u", ["request_id"])]
        assert keys("decisions_activity") == [("p", ["id"])]
        assert insert_decision(now) == during["decisions"][-1][0] + 1
    finally:
        migrate(targets)
    assert kind("decisions_decision") == "p"


WORKLOAD_INDEX = "decision_workload_at"
BEFORE_WORKLOAD_INDEX = ("decisions", "0007_decision_caller_workload")
COLUMNS = "(caller_workload, decided_at) WHERE caller_workload > ''"


def workload_indexes() -> dict[str, bool]:
    """Each index attached to the workload index (and the index itself), and whether valid."""
    return dict(
        query(
            "SELECT c.relname, x.indisvalid FROM pg_class c JOIN pg_index x ON x.indexrelid = "
            "c.oid WHERE c.oid = %s::regclass OR c.oid IN (SELECT inhrelid FROM pg_inherits "
            "WHERE inhparent = %s::regclass)",
            [WORKLOAD_INDEX, WORKLOAD_INDEX],
        )
    )


def test_the_workload_index_is_built_on_every_partition_and_made_again_on_a_rerun():
    """0008 builds the index partition by partition (CONCURRENTLY, inserts go on); the parent's
    is valid once each partition's is attached, and a partition made later gets it too."""
    targets = leaves()
    try:
        migrate([BEFORE_WORKLOAD_INDEX])
        assert query("SELECT to_regclass(%s)", [WORKLOAD_INDEX]) == [(None,)]
        insert_decision(timezone.now())

        migrate(targets)
        built = workload_indexes()
        months = [p.name for p in partitions.partitions("decisions")]
        assert built == {WORKLOAD_INDEX: True, **{f"{m}_workload_at": True for m in months}}

        far = partitions.add_months(partitions.month_start(timezone.now()), 44)  # no other test's
        made = partitions.ensure_months(partitions.DECISIONS, [far])
        assert len(workload_indexes()) == len(built) + len(made) == len(built) + 1

        # Stopped half-way (the parent's index and one partition's made) and run again.
        migrate([BEFORE_WORKLOAD_INDEX])
        first = months[0]
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE INDEX {WORKLOAD_INDEX} ON ONLY decisions_decision {COLUMNS}")
            cursor.execute(f'CREATE INDEX "{first}_workload_at" ON "{first}" {COLUMNS}')
        migrate(targets)
        again = workload_indexes()
        assert len(again) == len(built) + 1
        assert all(again.values())

        # Interrupted inside a CONCURRENTLY build: that partition's index is left invalid.
        migrate([BEFORE_WORKLOAD_INDEX])
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE INDEX {WORKLOAD_INDEX} ON ONLY decisions_decision {COLUMNS}")
            cursor.execute(f'CREATE INDEX "{first}_workload_at" ON "{first}" {COLUMNS}')
            cursor.execute(
                "UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass",
                [f"{first}_workload_at"],
            )
        left = query(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = %s::regclass",
            [f"{first}_workload_at"],
        )
        assert left == [(False,)]
        migrate(targets)
        rebuilt = workload_indexes()
        assert len(rebuilt) == len(built) + 1
        assert all(rebuilt.values())
    finally:
        migrate(targets)
