"""The facts of many decisions at once: a batch of a gateway's questions, or an agent's every
capability (its effective access). One query, whatever the number of items.

The same rules as the single decision's query (`decisions.selectors.decision_facts`): the
latest published version, the agents, their grants active at `at` (access.rules) and their
exceptions in force at `at` (exceptions.rules), read for every (agent, capability) asked;
tests/decisions/test_batch.py holds the answers to the single decision's.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.db import connection
from django.utils.dateparse import parse_datetime

from access.models import Grant
from decisions.selectors import DecisionFacts
from exceptions.models import PolicyException
from registry.models import Agent, Capability, PolicyStatus, PolicyVersion

Pair = tuple[str, int]  # (agent slug, capability id)


@dataclass(frozen=True)
class Holding:
    """A grant or an exception in force: its id, scope (grants) and end."""

    id: int
    scope: str
    expires_at: datetime


@dataclass
class ManyFacts:
    at: datetime
    policy_version: int | None = None
    agents: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # id, tier, status
    grants: dict[Pair, list[Holding]] = field(default_factory=lambda: defaultdict(list))
    exceptions: dict[Pair, list[Holding]] = field(default_factory=lambda: defaultdict(list))
    # With every capability asked: the catalogue as text, "id risk key" by key, comma-joined
    # (decisions.effective reads it; the same text as last time needs no parsing).
    catalogue: str | None = None

    def for_pair(self, slug: str, capability_id: int | None) -> DecisionFacts:
        """What the single decision's query would have read for this agent and capability."""
        facts = DecisionFacts(policy_version=self.policy_version, at=self.at)
        if slug in self.agents:
            facts.agent_id, facts.tier, facts.status = self.agents[slug]
        if capability_id is not None:
            pair = (slug, capability_id)
            facts.grants = sorted((g.id, g.scope) for g in self.grants.get(pair, []))
            facts.exception_ids = sorted(e.id for e in self.exceptions.get(pair, []))
        return facts


def _in(values: list) -> str:
    return ", ".join(["%s"] * len(values)) or "NULL"


@cache
def _sql(vendor: str, slugs: int, capabilities: int | None) -> str:
    """Built once per (vendor, list sizes); only quoted table names are interpolated.
    `capabilities` None: every capability (an agent's effective access), no list bound."""
    quote = connection.ops.quote_name
    versions, agents = quote(PolicyVersion._meta.db_table), quote(Agent._meta.db_table)
    catalogue = "NULL" if capabilities is not None else _catalogue_sql(vendor)
    grants, exceptions = quote(Grant._meta.db_table), quote(PolicyException._meta.db_table)
    as_text = "CAST({} AS VARCHAR(20))"
    in_slugs = _in([0] * slugs)
    of_grants, of_exceptions = (
        ("", "")
        if capabilities is None
        else (
            f"AND g.capability_id IN ({_in([0] * capabilities)}) ",
            f"AND e.capability_id IN ({_in([0] * capabilities)}) ",
        )
    )
    ever_active = _in(list(PolicyException.EVER_ACTIVE_STATUSES))
    # The rows without an end still type the column: PostgreSQL unions it with timestamps.
    no_end = "CAST(NULL AS TIMESTAMP WITH TIME ZONE)" if vendor == "postgresql" else "NULL"
    return " UNION ALL ".join(
        [
            "SELECT 'v', "
            + as_text.format(f"(SELECT MAX(number) FROM {versions} WHERE status = %s)")
            + f", NULL, {catalogue}, NULL, {no_end}",
            f"SELECT 'a', {as_text.format('a.id')}, a.slug, a.tier, a.status, {no_end} "
            f"FROM {agents} a WHERE a.slug IN ({in_slugs})",
            # access.rules.grant_active_q, in SQL (as in decisions.selectors._facts_sql).
            f"SELECT 'g', {as_text.format('g.id')}, a.slug, g.scope, "
            f"{as_text.format('g.capability_id')}, g.expires_at FROM {grants} g "
            f"INNER JOIN {agents} a ON a.id = g.agent_id WHERE a.slug IN ({in_slugs}) "
            f"{of_grants}AND g.starts_at <= %s "
            "AND g.expires_at > %s AND (g.revoked_at IS NULL OR g.revoked_at > %s)",
            # exceptions.rules.exception_in_force_q, in SQL.
            f"SELECT 'e', {as_text.format('e.id')}, a.slug, NULL, "
            f"{as_text.format('e.capability_id')}, e.expires_at FROM {exceptions} e "
            f"INNER JOIN {agents} a ON a.id = e.agent_id WHERE a.slug IN ({in_slugs}) "
            f"{of_exceptions}AND e.status IN ({ever_active}) "
            "AND e.starts_at <= %s AND e.expires_at > %s "
            "AND (e.revoked_at IS NULL OR e.revoked_at > %s)",
        ]
    )


def _catalogue_sql(vendor: str) -> str:
    """One text of the whole catalogue, ordered by key: PostgreSQL orders inside the aggregate;
    SQLite cannot, and its BINARY order is Python's, so decisions.effective sorts its rows."""
    quote = connection.ops.quote_name
    table, key = quote(Capability._meta.db_table), quote("key")
    risk = "CASE WHEN high_risk THEN '1' ELSE '0' END"
    row = f"CAST(id AS VARCHAR(20)) || ' ' || {risk} || ' ' || {key}"
    if vendor == "postgresql":
        return f"(SELECT string_agg({row}, ',' ORDER BY {key}) FROM {table})"
    return f"(SELECT group_concat({row}, ',') FROM {table})"


def _moment(value: Any) -> datetime:
    """A timestamp column read by raw SQL: a datetime (PostgreSQL) or text (SQLite, UTC)."""
    moment = value if isinstance(value, datetime) else parse_datetime(str(value))
    if moment is None:
        raise ValueError(f"not a timestamp: {value!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def many_facts(*, slugs: set[str], capability_ids: set[int] | None, at: datetime) -> ManyFacts:
    """The facts of every (agent in `slugs`, capability in `capability_ids`) at `at`;
    `capability_ids` None: of every capability, with no list to bind (the whole catalogue)."""
    slug_list = sorted(slugs)
    capability_list = sorted(capability_ids) if capability_ids is not None else []
    params: list[Any] = [
        PolicyStatus.PUBLISHED,
        *slug_list,
        *slug_list,
        *capability_list,
        at,
        at,
        at,
        *slug_list,
        *capability_list,
        *PolicyException.EVER_ACTIVE_STATUSES,
        at,
        at,
        at,
    ]
    facts = ManyFacts(at=at)
    with connection.cursor() as cursor:
        sizes = len(capability_list) if capability_ids is not None else None
        cursor.execute(_sql(connection.vendor, len(slug_list), sizes), params)
        rows = cursor.fetchall()
    for kind, value, slug, text, extra, expires_at in rows:
        if kind == "v":
            facts.policy_version = int(value) if value is not None else None
            facts.catalogue = text
        elif kind == "a":
            facts.agents[slug] = (int(value), text, extra)
        else:
            holding = Holding(int(value), text or "", _moment(expires_at))
            target = facts.grants if kind == "g" else facts.exceptions
            target[(slug, int(extra))].append(holding)
    return facts
