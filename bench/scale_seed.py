"""The scale benchmark's data (run inside its workers, bench/scale_worker.py).

The decision log: the population of bench/report.py (the demo data, 1,000 agents, 100,000
grants and 20,000 reported actions over the year), every agent asking the gateway about a
working set of 3 of the catalogue's capabilities, the same set all year. A (agent, capability)
pair gets the answer the decision engine gives it (its reason text, grant and policy version
included): an allow by a standing rule, by one of the grants in force made for half the pairs
whose rule is just-in-time or approval, or a deny. The 1,000,000 and the 10,000,000 logs differ
only in how often the same agents ask: the population and the pairs are the same, so is the
report's work on everything but the decisions.

Rows are spread evenly over the 365 days ending today (today up to now), at random times of
day, and written with COPY (bench/bulk.py: indexes built after the load, two loaders at once)
after the partitions for that range are made (`decisions.partitions.ensure_months`).
"""

import os
import random
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

AGENTS = 1_000
GRANTS = 100_000
ACTIVITY = 20_000
WORKING_SET = 3
# The COPY column order: a pair's fixed columns first, then the request id and the time.
_COLUMNS = [
    "agent_id", "agent_slug", "capability_id", "capability_key", "scope", "decision", "reason",
    "policy_version", "grant_id", "exception_id", "caller_id", "credential_jti",
    "request_id", "decided_at",
]  # fmt: skip


def prepare_log(*, empty: bool) -> dict:
    """Migrate and seed the demo; then the population (or, for the empty log, nothing more:
    the demo's decisions are removed). What is there."""
    from django.core.management import call_command
    from django.db import connection

    from decisions.models import Decision

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", verbosity=0, stdout=quiet)
    if empty:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {connection.ops.quote_name(Decision._meta.db_table)}")
        return {"decisions": Decision.objects.count()}
    populate()
    return {"decisions": Decision.objects.count(), "pairs": len(pair_templates())}


def populate() -> None:
    """The population (same seed, same rows in every database that runs it)."""
    from django.utils import timezone

    from bench.population import bench_activity, bench_agents, bench_grants
    from registry.models import Agent, Capability

    rng = random.Random(42)
    now = timezone.now()
    bench_agents("sbench", AGENTS, rng=rng, now=now)
    agents = list(Agent.objects.order_by("pk").values_list("pk", "slug"))
    capabilities = list(Capability.objects.order_by("pk").values_list("pk", "key"))
    bench_grants(GRANTS, agents=agents, capabilities=capabilities, rng=rng, now=now)
    bench_activity(ACTIVITY, agents=agents, capabilities=capabilities, rng=rng, now=now)
    _grants_in_force(_working_sets(), rng=rng, now=now)


def _working_sets() -> list[tuple[str, str]]:
    """Each bench agent's working set: (agent slug, capability key) pairs (the same ones in
    every database and every call)."""
    from registry.models import Agent, Capability

    rng = random.Random(7)
    slugs = Agent.objects.filter(slug__startswith="sbench-").order_by("slug")
    keys = sorted(Capability.objects.values_list("key", flat=True))
    return [
        (slug, key)
        for slug in slugs.values_list("slug", flat=True)
        for key in rng.sample(keys, WORKING_SET)
    ]


def _grants_in_force(pairs: list[tuple[str, str]], *, rng: random.Random, now: datetime) -> None:
    """A grant in force for half the pairs whose rule asks for one (just-in-time, approval)."""
    from access.models import Grant
    from decisions.services.engine import evaluate
    from registry.models import Agent, Capability

    agents = dict(Agent.objects.values_list("slug", "pk"))
    capabilities = dict(Capability.objects.values_list("key", "pk"))
    wanted = [
        Grant(
            agent_id=agents[slug],
            capability_id=capabilities[key],
            starts_at=now - timedelta(hours=1),
            expires_at=now + timedelta(days=30),
        )
        for slug, key in pairs
        if "request access" in evaluate(agent_slug=slug, capability_key=key).reason
        and rng.random() < 0.5
    ]
    Grant.objects.bulk_create(wanted)


def pair_templates() -> list[str]:
    """Each working-set pair's fixed columns as COPY text, its answer by the engine now."""
    from django.contrib.auth.models import User

    from decisions.services.engine import evaluate

    gateway = User.objects.get(username="gateway").pk
    pairs = _working_sets()
    templates = []
    for slug, key in pairs:
        result = evaluate(agent_slug=slug, capability_key=key)
        fixed = (
            result.agent_id, slug, result.capability_id, key, "", result.decision, result.reason,
            result.policy_version, result.grant_id, result.exception_id, gateway, "",
        )  # fmt: skip
        templates.append("".join(f"{_text(value)}\t" for value in fixed))
    return templates


def _text(value: object) -> str:
    if value is None:
        return r"\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def decision_lines(templates: list[str], days: list[tuple[date, int]], seed: int):
    """COPY lines: `count` decisions on each (day, count), pairs and times of day at random
    (today's only up to now)."""
    rng = random.Random(seed)
    choice, bits, below = rng.choice, rng.getrandbits, rng.randrange
    now = datetime.now(UTC)
    for day, count in days:
        span = 86_400_000_000
        if day == now.date():
            span = (now.hour * 3600 + now.minute * 60 + now.second) * 1_000_000 or 1
        prefix = day.isoformat()
        for _ in range(count):
            us = below(span)
            yield (
                f"{choice(templates)}{bits(128):032x}\t{prefix} {us // 3_600_000_000:02d}:"
                f"{us // 60_000_000 % 60:02d}:{us // 1_000_000 % 60:02d}.{us % 1_000_000:06d}+00\n"
            )


def year_days(total: int, today: date) -> list[tuple[date, int]]:
    """`total` decisions spread evenly over the 365 days ending `today`."""
    days = [today - timedelta(days=offset) for offset in range(364, -1, -1)]
    each, extra = divmod(total, len(days))
    return [(day, each + (1 if index < extra else 0)) for index, day in enumerate(days)]


def load_log(url: str, *, total: int, spike: str | None, spike_count: int) -> dict:
    """COPY `total` decisions over the year ending today, plus `spike_count` on the day
    `spike` (ISO date); the partitions for the range made first; then VACUUM ANALYZE."""
    import time

    from django.db import connection

    from bench.bulk import load
    from decisions.models import Decision

    today = datetime.now(UTC).date()
    days = year_days(total, today)
    if spike is not None:  # half to each loader
        half = spike_count // 2
        days += [(date.fromisoformat(spike), half), (date.fromisoformat(spike), spike_count - half)]
    made = _partitions_for(days[0][0], today)
    templates = pair_templates()
    halves = [days[0::2], days[1::2]]  # two loaders, each over the whole year
    parts = [
        (lambda half=half, seed=seed: decision_lines(templates, half, seed))
        for seed, half in enumerate(halves)
    ]
    table = Decision._meta.db_table
    timings = load(url, table, _COLUMNS, parts, parallel=len(parts))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
    timings["vacuum_analyze_s"] = round(time.perf_counter() - started, 2)
    return {**timings, "partitions_made": made, "pairs": len(templates)}


def _partitions_for(first: date, last: date) -> list[str] | str:
    """The monthly partitions from `first` to `last` (made ahead of the COPY, which does not go
    through the service's on-demand path); a note when the log is not partitioned."""
    try:
        from decisions.partitions import DECISIONS, ensure_months, is_partitioned, months_between
    except ImportError:
        return "decisions.partitions not there: a plain table"
    if not is_partitioned(DECISIONS):
        return "the decision log is a plain table here (migration 0004 not applied)"
    since = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    until = datetime.combine(last, datetime.min.time(), tzinfo=UTC)
    return ensure_months(DECISIONS, months_between(since, until))


def insert_results(count: int) -> list:
    """`count` fresh decisions to record (new request ids, dated now) over the demo agents and
    capabilities, which every benchmark database has: the same rows whatever its log holds."""
    from django.utils import timezone

    from decisions.services.engine import evaluate
    from registry.models import Capability

    keys = sorted(Capability.objects.values_list("key", flat=True))[:6]
    slugs = ("payments-fixer", "docs-helper", "ci-bot")
    answers = [evaluate(agent_slug=s, capability_key=k) for s in slugs for k in keys]
    return [
        replace(answers[i % len(answers)], request_id=uuid.uuid4(), decided_at=timezone.now())
        for i in range(count)
    ]
