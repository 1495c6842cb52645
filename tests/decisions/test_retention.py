"""Retention: whole months past DECISION_RETENTION_DAYS / ACTIVITY_RETENTION_DAYS go (a
partition detached and dropped on PostgreSQL, one set-based delete per table on SQLite), each
rolled up first and audited with its row count; --dry-run changes nothing."""

from datetime import UTC, date, datetime
from io import StringIO

import psycopg
import pytest
import time_machine
from auditlog.models import LogEntry
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Sum

from decisions import partitions, retention, rollups, tasks
from decisions.models import (
    Activity,
    ActivityRollup,
    Decision,
    DecisionRollup,
    PrunedPartition,
    RolledDay,
)
from decisions.services.activity import activity_report
from decisions.services.engine import DecisionResult
from decisions.services.log import decision_record
from kernel.audit_trail import audit_events, present
from tests.registry.factories import AgentFactory, capability

pytestmark = pytest.mark.django_db

# With 400 days kept, raw rows before 2025-10-11 12:00 are past retention: the months that end
# by then go whole (August and September 2025); October 2025 stays until it has all expired.
NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
PG = connection.vendor == "postgresql"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


DECIDED = ["2025-08-03 10:00", "2025-09-20 09:00", "2025-09-20 17:30", "2025-10-05 08:00"]
OCCURRED = ["2025-09-21 11:00", "2026-11-10 11:00"]


@pytest.fixture
def logs(gateway):
    with time_machine.travel(NOW, tick=False):
        for moment in [*DECIDED, "2026-11-10 10:00"]:
            decision_record(
                result=DecisionResult(
                    decision="deny",
                    reason="test",
                    policy_version=None,
                    agent_slug="old-bot",
                    capability_key="github:read",
                    scope="",
                    decided_at=at(moment),
                ),
                caller=gateway,
            )
        items = [
            {"agent": "old-bot", "capability": "github:read", "outcome": "ok", "occurred_at": at(m)}
            for m in OCCURRED
        ]
        activity_report(actor=gateway, items=items)
        yield


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _dates(model, column: str) -> list[str]:
    return sorted(
        f"{moment:%Y-%m-%d %H:%M}" for moment in model.objects.values_list(column, flat=True)
    )


def _expected_drops() -> list[tuple[str, str, str, str, int]]:
    if PG:
        return [
            ("activity", "decisions_activity_p2025_09", "2025-09-01", "2025-10-01", 1),
            ("decisions", "decisions_decision_p2025_08", "2025-08-01", "2025-09-01", 1),
            ("decisions", "decisions_decision_p2025_09", "2025-09-01", "2025-10-01", 2),
        ]
    return [  # SQLite: one delete per table, of every row before the month boundary
        ("activity", "", "2025-09-01", "2025-10-01", 1),
        ("decisions", "", "2025-08-01", "2025-10-01", 3),
    ]


def _drops() -> list[tuple[str, str, str, str, int]]:
    return sorted(
        (p.log, p.partition, f"{p.range_start:%Y-%m-%d}", f"{p.range_end:%Y-%m-%d}", p.rows)
        for p in PrunedPartition.objects.all()
    )


def test_months_past_retention_go_whole_rolled_up_first_and_audited(logs, frozen):
    months = retention.prune()
    assert sorted((m.log.name, m.rows) for m in months if m.dropped) == sorted(
        (log, rows) for log, *_, rows in _expected_drops()
    )
    assert _dates(Decision, "decided_at") == ["2025-10-05 08:00", "2026-11-10 10:00"]
    assert _dates(Activity, "occurred_at") == ["2026-11-10 11:00"]
    assert _drops() == _expected_drops()
    assert {p.pruned_by for p in PrunedPartition.objects.all()} == {"retention task"}
    # The counts outlive the raw rows: each day was rolled up before its month went.
    day = RolledDay.objects.get(log="decisions", day=date(2025, 9, 20))
    assert day.rows == 2
    total = DecisionRollup.objects.filter(day=date(2025, 9, 20)).aggregate(n=Sum("count"))
    assert total["n"] == 2
    assert RolledDay.objects.get(log="activity", day=date(2025, 9, 21)).rows == 1
    if PG:
        left = [p.name for p in partitions.partitions("decisions")]
        assert "decisions_decision_p2025_09" not in left
        assert "decisions_decision_p2025_10" in left
    # Never a row-by-row delete: no trail entry per activity row removed.
    assert not LogEntry.objects.filter(action=LogEntry.Action.DELETE).exists()


def test_each_drop_is_in_the_audit_trail_with_its_row_count(logs, frozen):
    retention.prune()
    rows = present(list(audit_events(filters={"object_type": "decisions.prunedpartition"})))
    assert len(rows) == len(_expected_drops())
    # The decisions up to 2025-10-01: September's partition, or on SQLite every month before.
    september = next(
        row
        for row in rows
        if row.object_label.startswith("Decisions") and "to 2025-10-01" in row.object_label
    )
    assert september.actor == "retention task"
    assert september.object_type == "Pruned log month"
    assert september.verb == "created"
    assert f"Rows dropped: {2 if PG else 3}" in september.change_lines()
    assert september.object_label.endswith(f"{2 if PG else 3} rows dropped")


def test_dry_run_lists_what_would_go_and_changes_nothing(logs, frozen):
    before = (Decision.objects.count(), Activity.objects.count(), RolledDay.objects.count())
    shown = partitions.partitions("decisions")
    out = StringIO()
    call_command("prune_decisions", "--dry-run", stdout=out)
    text = out.getvalue()
    for log, partition, start, end, rows in _expected_drops():
        where = partition or f"rows of decisions_{'decision' if log == 'decisions' else 'activity'}"
        assert f"would drop {log}: {where}, {start} to {end} (end excluded), {rows} rows" in text
    assert "day(s) rolled up first" in text
    assert f"would drop {len(_expected_drops())} month(s), 4 rows" in text
    assert (Decision.objects.count(), Activity.objects.count(), RolledDay.objects.count()) == before
    assert not PrunedPartition.objects.exists()
    assert partitions.partitions("decisions") == shown


def test_the_command_says_what_went_and_is_audited_as_itself(logs, frozen):
    out = StringIO()
    call_command("prune_decisions", stdout=out)
    text = out.getvalue()
    assert f"dropped {len(_expected_drops())} month(s), 4 rows" in text
    assert "dropped decisions: " in text
    assert {p.pruned_by for p in PrunedPartition.objects.all()} == {"manage.py prune_decisions"}
    out = StringIO()
    call_command("prune_decisions", stdout=out)  # nothing left to prune
    assert "nothing is past retention" in out.getvalue()


def test_a_month_with_a_day_that_cannot_be_rolled_up_is_kept(logs, frozen, monkeypatch):
    def refuse(day, log=None, **kwargs):
        raise rollups.RollupRefused(f"{log} {day} cannot be rolled up here.")

    monkeypatch.setattr(rollups, "roll_up_day", refuse)
    out = StringIO()
    call_command("prune_decisions", stdout=out)
    assert "kept decisions: " in out.getvalue()
    assert "cannot be rolled up here" in out.getvalue()
    assert not PrunedPartition.objects.exists()
    assert Decision.objects.count() == 5
    assert Activity.objects.count() == 2


def test_rows_that_arrived_after_their_day_was_rolled_are_rolled_again_before_the_drop(
    logs, frozen, gateway
):
    rollups.roll_up_day(date(2025, 9, 20), "decisions")
    assert RolledDay.objects.get(log="decisions", day=date(2025, 9, 20)).rows == 2
    decision_record(  # a late row for that day
        result=DecisionResult(
            decision="allow",
            reason="late",
            policy_version=1,
            agent_slug="old-bot",
            capability_key="github:read",
            scope="",
            decided_at=at("2025-09-20 23:00"),
        ),
        caller=gateway,
    )
    retention.prune()
    assert RolledDay.objects.get(log="decisions", day=date(2025, 9, 20)).rows == 3
    september = PrunedPartition.objects.get(log="decisions", range_end=at("2025-10-01 00:00"))
    assert september.rows == (3 if PG else 4)  # SQLite: August's row in the same delete


def test_an_action_reported_where_retention_already_dropped_the_records_is_refused(
    logs, frozen, api, gateway
):
    """Its day survives only as rollups: the row would be counted nowhere, and its day's
    re-roll would replace the pruned rows' counts with its own (or keep its month forever)."""
    retention.prune()
    pruned_day = ActivityRollup.objects.filter(day=date(2025, 9, 21))
    rolled = list(pruned_day.values_list("agent_slug", "count"))
    late = {"agent": "old-bot", "capability": "github:read", "outcome": "ok"}
    response = api.as_user(gateway).post(
        "/api/v1/activity/",
        [
            {**late, "occurred_at": "2026-11-10T12:00:00Z"},
            {**late, "occurred_at": "2025-09-21T12:00:00Z"},
        ],
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith(
        "item 1: 'occurred_at' (2025-09-21 12:00Z) is before 2025-10-01 00:00Z: "
        "activity records before then were dropped by retention"
    )
    assert _dates(Activity, "occurred_at") == ["2026-11-10 11:00"]  # nothing recorded
    if PG:  # and no partition made again for the month dropped
        assert "decisions_activity_p2025_09" not in [
            p.name for p in partitions.partitions("activity")
        ]
    rollups.roll_up_due()
    assert list(pruned_day.values_list("agent_slug", "count")) == rolled == [("old-bot", 1)]
    assert RolledDay.objects.get(log="activity", day=date(2025, 9, 21)).rows == 1
    # Kept months still take late reports: they are rolled up before they go.
    fine = {**late, "occurred_at": "2025-10-20T12:00:00Z"}
    assert api.as_user(gateway).post("/api/v1/activity/", fine, format="json").status_code == 201


def test_retained_since_is_where_the_kept_raw_rows_begin(logs, frozen):
    assert retention.retained_since("decisions") is None
    retention.prune()
    assert retention.retained_since("decisions") == at("2025-10-01 00:00")
    assert retention.retained_since(partitions.ACTIVITY) == at("2025-10-01 00:00")


def test_each_log_keeps_its_own_retention(logs, frozen, settings):
    settings.DECISION_RETENTION_DAYS = 800
    retention.prune()
    assert {p.log for p in PrunedPartition.objects.all()} == {"activity"}
    assert Decision.objects.count() == 5


def test_the_nightly_task_prunes_and_is_scheduled(logs, frozen):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"decisions.tasks.prune_decisions", "decisions.tasks.ensure_partitions"} <= scheduled
    assert tasks.prune_decisions.delay().get() == len(_expected_drops())
    assert tasks.prune_decisions.delay().get() == 0


def test_activity_is_rolled_up_while_the_decisions_that_logged_it_are_still_there(
    gateway, engineer, frozen, settings
):
    """Activity kept longer than decisions: the day's activity is rolled up before its
    decisions go, so the action still counts as logged (AGC-05) once they are gone."""
    settings.ACTIVITY_RETENTION_DAYS = 800
    agent = AgentFactory(slug="pay-bot", owner=engineer, tier="sandbox")
    read = capability("github:read")
    decision_record(
        result=DecisionResult(
            decision="allow",
            reason="standing",
            policy_version=1,
            agent_slug="pay-bot",
            capability_key="github:read",
            scope="",
            agent_id=agent.pk,
            capability_id=read.pk,
            decided_at=at("2025-09-20 09:00"),
        ),
        caller=gateway,
    )
    item = {"agent": "pay-bot", "capability": "github:read", "outcome": "ok"}
    activity_report(actor=gateway, items=[{**item, "occurred_at": at("2025-09-20 09:02")}])
    retention.prune()
    assert not Decision.objects.exists()
    assert Activity.objects.count() == 1
    [rolled] = ActivityRollup.objects.filter(day=date(2025, 9, 20))
    assert (rolled.logged, rolled.count) == (True, 1)


@pytest.mark.postgres
def test_a_second_prune_while_one_runs_does_nothing_and_says_so(logs, frozen):
    # Another session (the nightly task, say) holds the prune lock.
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True
    ) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [retention.PRUNE_LOCK])
        with pytest.raises(CommandError, match="Another prune of the decision log is running"):
            call_command("prune_decisions", stdout=StringIO())
        assert tasks.prune_decisions() == 0
        assert not PrunedPartition.objects.exists()
        assert len(_dates(Decision, "decided_at")) == 5
        other.execute("SELECT pg_advisory_unlock(%s)", [retention.PRUNE_LOCK])
    # Once it is done, the next prune goes ahead.
    retention.prune()
    assert _drops() == _expected_drops()
