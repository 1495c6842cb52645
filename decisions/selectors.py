"""Reads behind the decision API (its facts in one query, the log, reported activity) and the
check that an action was logged.

What "active" means is stated once, in access.rules (grants) and exceptions.rules
(exceptions); the decision query below writes those rules in SQL, and
tests/decisions/test_active_rules.py checks all forms against one table of cases.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from rest_framework.authtoken.models import Token

from access.models import Grant
from decisions.filters import ActivityFilter, DecisionFilter
from decisions.models import Activity, Decision
from exceptions.models import PolicyException
from kernel.api.authentication import token_cutoff_param
from kernel.errors import NotFound
from kernel.filtering import filtered
from registry.models import Agent, PolicyStatus, PolicyVersion


@dataclass
class DecisionFacts:
    """Everything a decision needs from the database, read in one round trip."""

    policy_version: int | None = None
    agent_id: int | None = None
    tier: str = ""
    status: str = ""
    grants: list[tuple[int, str]] = field(default_factory=list)  # (id, scope), active
    exception_ids: list[int] = field(default_factory=list)  # active
    at: datetime | None = None
    # Given a token: who is asking (user id, active, superuser) and their group names.
    caller: tuple[int, bool, bool] | None = None
    token_expired: bool = False
    caller_groups: set[str] = field(default_factory=set)


@cache
def _facts_sql(vendor: str, with_token: bool = False) -> str:
    """The decision query. Built once; only quoted table names are interpolated.

    With a token it also reads the caller (user and groups), so a gateway's decision is one
    round trip; the caller is checked before anything is answered or recorded."""
    quote = connection.ops.quote_name
    versions, agents = quote(PolicyVersion._meta.db_table), quote(Agent._meta.db_table)
    grants, exceptions = quote(Grant._meta.db_table), quote(PolicyException._meta.db_table)
    ever_active = ", ".join(["%s"] * len(PolicyException.EVER_ACTIVE_STATUSES))
    as_text = "CAST({} AS VARCHAR(20))"
    caller = []
    if with_token:
        users, memberships = quote(User._meta.db_table), quote(User.groups.through._meta.db_table)
        caller = [
            f"SELECT 't', {as_text.format('u.id')}, gr.name, "
            "CASE WHEN u.is_active THEN '1' ELSE '0' END "
            "|| CASE WHEN u.is_superuser THEN '1' ELSE '0' END "
            "|| CASE WHEN tk." + quote("created") + " > %s THEN '1' ELSE '0' END "
            f"FROM {quote(Token._meta.db_table)} tk INNER JOIN {users} u ON u.id = tk.user_id "
            f"LEFT JOIN {memberships} ug ON ug.user_id = u.id "
            f"LEFT JOIN {quote(Group._meta.db_table)} gr ON gr.id = ug.group_id "
            "WHERE tk." + quote("key") + " = %s"
        ]
    return " UNION ALL ".join(
        [
            *caller,
            "SELECT 'v', "
            + as_text.format(f"(SELECT MAX(number) FROM {versions} WHERE status = %s)")
            + ", NULL, NULL",
            f"SELECT 'a', {as_text.format('a.id')}, a.tier, a.status FROM {agents} a "
            "WHERE a.slug = %s",
            f"SELECT 'g', {as_text.format('g.id')}, g.scope, NULL FROM {grants} g "
            f"INNER JOIN {agents} a ON a.id = g.agent_id WHERE a.slug = %s "
            # access.rules.grant_active_q, in SQL (tests/decisions/test_active_rules.py).
            "AND g.capability_id = %s AND g.starts_at <= %s AND g.expires_at > %s "
            "AND (g.revoked_at IS NULL OR g.revoked_at > %s)",
            f"SELECT 'e', {as_text.format('e.id')}, NULL, NULL FROM {exceptions} e "
            f"INNER JOIN {agents} a ON a.id = e.agent_id WHERE a.slug = %s "
            # exceptions.rules.exception_in_force_q, in SQL (tests/decisions/test_active_rules.py).
            f"AND e.capability_id = %s AND e.status IN ({ever_active}) "
            "AND e.starts_at <= %s AND e.expires_at > %s "
            "AND (e.revoked_at IS NULL OR e.revoked_at > %s)",
        ]
    )


def decision_facts(
    *, agent_slug: str, capability_id: int | None, at: datetime, token: str | None = None
) -> DecisionFacts:
    """The published version, the agent, and its active grants and exceptions for one
    capability, in a single query (raw SQL: this sits in every agent action's path)."""
    capability = capability_id if capability_id is not None else -1
    params: list[Any] = [
        PolicyStatus.PUBLISHED,
        agent_slug,
        agent_slug,
        capability,
        at,
        at,
        at,
        agent_slug,
        capability,
        *PolicyException.EVER_ACTIVE_STATUSES,
        at,
        at,
        at,
    ]
    if token is not None:
        params[:0] = [token_cutoff_param(), token]
    facts = DecisionFacts(at=at)
    with connection.cursor() as cursor:
        cursor.execute(_facts_sql(connection.vendor, token is not None), params)
        rows = cursor.fetchall()
    for kind, value, text, status in rows:
        if kind == "t":
            facts.caller = (int(value), status[0] == "1", status[1] == "1")
            facts.token_expired = status[2] != "1"
            if text:
                facts.caller_groups.add(text)
        elif kind == "v":
            facts.policy_version = int(value) if value is not None else None
        elif kind == "a":
            facts.agent_id, facts.tier, facts.status = int(value), text, status
        elif kind == "g":
            facts.grants.append((int(value), text or ""))
        else:
            facts.exception_ids.append(int(value))
    facts.grants.sort()
    facts.exception_ids.sort()
    return facts


def decision_list(*, filters: Mapping[str, str] | None = None) -> QuerySet[Decision]:
    """The decision log, newest first, narrowed by DecisionFilter's query parameters."""
    decisions = Decision.objects.select_related("caller").order_by("-decided_at", "-id")
    return filtered(DecisionFilter, decisions, filters)


def activity_list(*, filters: Mapping[str, str] | None = None) -> QuerySet[Activity]:
    """Reported activity, newest first, narrowed by ActivityFilter's query parameters."""
    activity = Activity.objects.select_related("reported_by", "reviewed_by")
    return filtered(ActivityFilter, activity.order_by("-occurred_at", "-id"), filters)


def activity_get(pk: object) -> Activity:
    """One reported action, or a 404 (an id that is not a number is not found either)."""
    try:
        return Activity.objects.get(pk=int(str(pk)))
    except (Activity.DoesNotExist, ValueError):
        raise NotFound(f"No activity #{pk}.") from None


def activity_logged() -> Exists:
    """Whether an activity row (the outer query's) was logged: a decision for its agent and
    capability was recorded within DECISION_COVERS_ACTIVITY_SECONDS before it (AGC-05).

    The one statement of the rule: the collectors annotate raw rows with it and the daily
    rollups count by it (decisions.rollups), so both give the same figures. Each row is one
    probe of the (agent, capability, decided_at) index."""
    window = timedelta(seconds=settings.DECISION_COVERS_ACTIVITY_SECONDS)
    return Exists(
        Decision.objects.filter(
            agent_id=OuterRef("agent_id"),
            capability_id=OuterRef("capability_id"),
            decided_at__lte=OuterRef("occurred_at"),
            decided_at__gte=OuterRef("occurred_at") - window,
        )
    )
