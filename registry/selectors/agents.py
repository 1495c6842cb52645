"""Agent inventory reads."""

from collections.abc import Mapping
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.utils import timezone

from kernel.errors import NotFound
from kernel.filtering import filtered
from kernel.roles import Role
from registry.filters import AgentFilter
from registry.models import Agent, AgentStatus
from registry.rules import orphaned_q


def stale_before(now: datetime | None = None) -> datetime:
    """Agents last attested before this moment are stale (ATTESTATION_MAX_AGE: 90 days by
    default)."""
    return (now or timezone.now()) - settings.ATTESTATION_MAX_AGE


def stale_q(now: datetime | None = None) -> Q:
    """Agents whose attestation is missing or older than ATTESTATION_MAX_AGE."""
    return Q(last_attested_at__isnull=True) | Q(last_attested_at__lt=stale_before(now))


def attestation_overdue_q() -> Q:
    """Agents whose owner must re-attest: stale and not retired (a retired agent needs none).
    The dashboard counts them; the agents list's `stale` filter lists them."""
    return ~Q(status=AgentStatus.RETIRED) & stale_q()


def is_stale(agent: Agent, now: datetime | None = None) -> bool:
    """`stale_q`, for an agent already loaded."""
    return agent.last_attested_at is None or agent.last_attested_at < stale_before(now)


def agent_list(*, filters: Mapping[str, str] | None = None) -> QuerySet[Agent]:
    """The inventory, narrowed by `filters` (AgentFilter's query parameters; a bad value
    raises InvalidFilters)."""
    agents = Agent.objects.select_related("owner", "team").order_by("slug")
    return filtered(AgentFilter, agents, filters) if filters else agents


def agent_get(slug: str) -> Agent:
    """The inventory is readable by every role, so no per-user scoping here."""
    try:
        return Agent.objects.select_related("owner", "team", "status_changed_by").get(slug=slug)
    except Agent.DoesNotExist:
        raise NotFound(f"No agent with slug '{slug}'.") from None


def agents_orphaned() -> QuerySet[Agent]:
    """Agents still in service whose owner left (registry.rules.orphaned_q): security gives
    each a new owner (services.agents.agent_reassign)."""
    return Agent.objects.filter(orphaned_q()).select_related("owner", "team").order_by("slug")


def owner_candidates(agent: Agent) -> QuerySet[User]:
    """Who may be given `agent` (the rule agent_reassign checks): active people with the
    security role (or superusers, who hold it), and engineers in the agent's team. Its
    present owner is left out."""
    eligible = (
        Q(is_superuser=True)
        | Q(groups__name=Role.SECURITY)
        | Q(groups__name=Role.ENGINEER, teams=agent.team_id)
    )
    return (
        User.objects.filter(eligible, is_active=True)
        .exclude(pk=agent.owner_id)
        .distinct()
        .order_by("username")
    )
