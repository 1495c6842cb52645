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
