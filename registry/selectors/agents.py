"""Agent inventory reads."""

from collections.abc import Mapping

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from kernel.errors import NotFound
from kernel.filtering import filtered
from kernel.roles import Role
from registry.filters import AgentFilter
from registry.models import Agent


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
