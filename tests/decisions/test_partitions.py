"""The decision log and activity partitioned by month on PostgreSQL: the migration's tables,
partitions made ahead and on demand (single, batch, activity), nothing extra per insert, and
an index on every partition for each list filter. On SQLite the same services keep plain
tables (the last tests)."""

import itertools
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from decisions import partitions
from decisions.models import Activity, Decision
from decisions.partitions import ACTIVITY, DECISIONS, add_months, month_start, partition_name
from decisions.selectors import activity_list, decision_list
from decisions.services.engine import DecisionResult
from decisions.services.log import decision_record, record_many, record_with
from tests.registry.factories import AgentFactory, capability, demo_policy

pytestmark = pytest.mark.django_db
postgres = pytest.mark.postgres


def result(at: datetime, slug: str = "bot", key: str = "github:read") -> DecisionResult:
    return DecisionResult(
        decision="deny",
        reason="test",
        policy_version=None,
        agent_slug=slug,
        capability_key=key,
        scope="",
        decided_at=at,
    )


def names(log) -> list[str]:
    return [p.name for p in partitions.partitions(log.table)]


def _one(sql: str, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _constraint_columns(table: str, kind: str) -> list[list[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o) "
            "  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) "
            "FROM pg_constraint c WHERE c.conrelid = %s::regclass AND c.contype = %s",
            [table, kind],
        )
        return [list(row[0]) for row in cursor.fetchall()]


@postgres
@pytest.mark.parametrize("log", [DECISIONS, ACTIVITY], ids=["decisions", "activity"])
def test_the_migration_leaves_tables_partitioned_by_month_with_every_index_on_each(log):
    assert _one("SELECT relkind FROM pg_class WHERE oid = %s::regclass", [log.table])[0] == "p"
    assert _constraint_columns(log.table, "p") == [["id", log.column]]
    found = partitions.partitions(log.table)
    now = timezone.now()
    # The retention window behind now and PARTITION_MONTHS_AHEAD ahead, month after month.
    starts = [p.start for p in found]
    assert month_start(now - timedelta(days=log.retention_days)) in starts
    assert add_months(month_start(now), 3) in starts
    for earlier, later in itertools.pairwise(found):
        assert earlier.end == later.start == add_months(earlier.start, 1)
        assert later.name == partition_name(log, later.start)
    parent = _one("SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", [log.table])[0]
    for partition in found:
        each = _one("SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", [partition.name])
        assert each[0] == parent >= 9, partition.name


@postgres
def test_request_ids_stay_unique_with_the_partition_key_and_activity_keeps_its_foreign_keys():
    assert _constraint_columns(DECISIONS.table, "u") == [["request_id", "decided_at"]]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT confrelid::regclass::text FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY 1",
            [ACTIVITY.table],
        )
        assert [row[0] for row in cursor.fetchall()] == [
            "auth_user",
            "auth_user",
            "registry_agent",
            "registry_capability",
        ]


@postgres
def test_partitions_are_made_ahead_once_with_their_bounds():
    at = datetime(2031, 5, 17, 8, 0, tzinfo=UTC)
    made = partitions.ensure_partitions(months_ahead=2, at=at)
    expected = [
        f"{log.table}_p2031_{month:02d}" for log in (DECISIONS, ACTIVITY) for month in (5, 6, 7)
    ]
    assert made == expected
    assert partitions.ensure_partitions(months_ahead=2, at=at) == []  # idempotent
    june = next(p for p in partitions.partitions("decisions") if p.name.endswith("p2031_06"))
    assert (june.start, june.end) == (
        datetime(2031, 6, 1, tzinfo=UTC),
        datetime(2031, 7, 1, tzinfo=UTC),
    )


@postgres
def test_the_daily_task_makes_this_month_and_those_ahead(settings):
    from decisions import tasks

    settings.PARTITION_MONTHS_AHEAD = 5
    made = tasks.ensure_partitions.delay().get()
    last = add_months(month_start(timezone.now()), 5)
    assert partition_name(DECISIONS, last) in made
    assert partition_name(DECISIONS, last) in names(DECISIONS)
    assert tasks.ensure_partitions.delay().get() == []


def _far(months: int) -> datetime:
    """Mid-month `months` from now, in a month the migration did not make (14 ahead)."""
    return add_months(month_start(timezone.now()), months) + timedelta(days=14, hours=3)


@postgres
@pytest.mark.parametrize("months", [1, 14])
def test_a_single_decision_dated_next_month_or_fourteen_ahead_is_recorded(months):
    at = _far(months)
    outer = decision_record(result=result(timezone.now()), caller=None)
    pk = decision_record(result=result(at), caller=None)
    assert Decision.objects.get(pk=pk).decided_at == at
    assert partition_name(DECISIONS, month_start(at)) in names(DECISIONS)
    # The surrounding transaction (the test's) survived the refused first try.
    assert Decision.objects.filter(pk__in=[outer, pk]).count() == 2


@postgres
def test_a_batch_spanning_two_missing_months_is_recorded_whole():
    dates = [_far(14), _far(15), timezone.now()]
    ids = record_many([result(at, slug=f"bot-{i}") for i, at in enumerate(dates)], caller=None)
    assert [Decision.objects.get(pk=pk).decided_at for pk in ids] == dates
    for at in dates[:2]:
        assert partition_name(DECISIONS, month_start(at)) in names(DECISIONS)
    # Only the months written: a stray date makes its month, not every month up to it.
    assert partition_name(DECISIONS, month_start(_far(10))) not in names(DECISIONS)


@postgres
@pytest.mark.parametrize("months", [1, 14])
def test_the_decision_api_batch_and_activity_next_month_or_fourteen_on_with_no_task_run(
    api, gateway, engineer, security, months
):
    demo_policy(security)
    AgentFactory(slug="pay-bot", owner=engineer, tier="sandbox")
    capability("github:read")
    later = _far(months)
    with time_machine.travel(later, tick=False):
        client = api.as_user(gateway)
        decided = client.post(
            "/api/v1/decisions/", {"agent": "pay-bot", "capability": "github:read"}, format="json"
        )
        batch = client.post(
            "/api/v1/decisions/batch/",
            {"requests": [{"agent": "pay-bot", "capability": "github:read"}] * 3},
            format="json",
        )
        reported = client.post(
            "/api/v1/activity/",
            [
                {
                    "agent": "pay-bot",
                    "capability": "github:read",
                    "outcome": "success",
                    "occurred_at": later.isoformat(),
                }
            ],
            format="json",
        )
    assert (decided.status_code, batch.status_code, reported.status_code) == (200, 200, 201)
    assert Decision.objects.filter(decided_at=later).count() == 4
    assert Activity.objects.get(occurred_at=later).covered_by == "standing allow (policy v1)"
    for log in (DECISIONS, ACTIVITY):
        assert partition_name(log, month_start(later)) in names(log)


@postgres
def test_a_token_exchange_s_decisions_are_recorded_in_a_missing_month():
    at = _far(16)
    record_with(
        [result(at), result(at, key="github:write")],
        workload="ci: repo:acme/app",
        credential_jti="c" * 32,
    )
    assert Decision.objects.filter(decided_at=at, credential_jti="c" * 32).count() == 2


@postgres
def test_a_refusal_inside_a_transaction_rolls_back_only_its_savepoint():
    with transaction.atomic():
        kept = decision_record(result=result(timezone.now()), caller=None)
        made = decision_record(result=result(_far(20)), caller=None)
    assert set(Decision.objects.values_list("pk", flat=True)) == {kept, made}


@postgres
def test_an_insert_into_a_month_written_before_costs_one_query(
    django_assert_num_queries, committed
):
    with committed(execute=True):  # this process wrote the month, and it was committed
        decision_record(result=result(timezone.now()), caller=None)
    with django_assert_num_queries(1):
        decision_record(result=result(timezone.now()), caller=None)
    with django_assert_num_queries(1):
        record_many([result(timezone.now()), result(timezone.now())], caller=None)


@postgres
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_refused_insert_is_simply_run_again():
    at = _far(30)
    assert not connection.in_atomic_block
    pk = decision_record(result=result(at), caller=None)
    assert Decision.objects.get(pk=pk).decided_at == at


DECISION_FILTERS = {
    "agent": ("bot-1", "agent_slug"),
    "capability": ("github:read", "capability_key"),
    "decision": ("deny", "decision"),
    "credential": ("a" * 32, "credential_jti"),
    "workload": ("ci: repo:acme/app", "caller_workload"),
    "since": ("2026-01-01T00:00:00Z", "decided_at"),
    "until": ("2026-01-01T00:00:00Z", "decided_at"),
}
ACTIVITY_FILTERS = {
    "flagged": ("true", "flagged"),
    "review_status": ("pending", "review_status"),
    "agent": ("bot-1", "agent_slug"),
    "capability": ("github:read", "capability_key"),
    "since": ("2026-01-01T00:00:00Z", "occurred_at"),
    "until": ("2026-01-01T00:00:00Z", "occurred_at"),
}


def _plan(queryset) -> str:
    with connection.cursor() as cursor:  # the planner must find an index, or say Seq Scan
        cursor.execute("SET LOCAL enable_seqscan = off")
    return queryset.explain()


def _assert_served(plan: str, column: str, log, *, every: bool) -> None:
    """No partition read whole, the filter's column an index condition; `every`: each
    partition is in the plan (a time filter prunes those outside its range)."""
    assert "Seq Scan" not in plan, plan
    assert f"Index Cond: (({column}" in plan or f"Index Cond: ({column}" in plan, plan
    if every:
        for name in names(log):
            assert f" on {name} " in plan, f"{name} missing from\n{plan}"


@postgres
@pytest.mark.parametrize("name", list(DECISION_FILTERS))
def test_each_decision_list_filter_is_an_index_condition_on_every_partition(name):
    value, column = DECISION_FILTERS[name]
    plan = _plan(decision_list(filters={name: value}))
    _assert_served(plan, column, DECISIONS, every=name not in ("since", "until"))


@postgres
@pytest.mark.parametrize("name", list(ACTIVITY_FILTERS))
def test_each_activity_list_filter_is_an_index_condition_on_every_partition(name):
    value, column = ACTIVITY_FILTERS[name]
    plan = _plan(activity_list(filters={name: value}))
    _assert_served(plan, column, ACTIVITY, every=name not in ("since", "until"))


def test_the_same_services_record_far_dates_on_either_database():
    """SQLite (the embedded default) keeps plain tables: no partitions, nothing to make."""
    plain = connection.vendor != "postgresql"
    assert partitions.is_partitioned(DECISIONS) is not plain
    assert (partitions.partitions("decisions") == []) is plain
    pk = decision_record(result=result(_far(14)), caller=None)
    assert Decision.objects.get(pk=pk).decided_at == _far(14)
    if plain:
        assert partitions.ensure_partitions() == []


def test_the_partitions_command_lists_each_month_with_its_bounds():
    out = StringIO()
    call_command("log_partitions", "--ensure", stdout=out)
    text = out.getvalue()
    if connection.vendor != "postgresql":
        assert "decisions_decision: a plain table (not partitioned)" in text
        return
    this = month_start(timezone.now())
    bounds = f"{this:%Y-%m-%d} to {add_months(this, 1):%Y-%m-%d}"
    for log in (DECISIONS, ACTIVITY):
        assert f"  {partition_name(log, this)}  {bounds}  " in text
