"""Agent inventory reads."""

from datetime import datetime

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from kernel.errors import NotFound
from registry.models import Agent


def stale_before(now: datetime | None = None) -> datetime:
    """Agents last attested before this moment are stale (DESIGN: 90 days by default)."""
    return (now or timezone.now()) - settings.ATTESTATION_MAX_AGE


def is_stale(agent: Agent, now: datetime | None = None) -> bool:
    return agent.last_attested_at is None or agent.last_attested_at < stale_before(now)


def search_q(text: str) -> Q:
    """Free-text search over the fields people remember an agent by."""
    return (
        Q(slug__icontains=text)
        | Q(name__icontains=text)
        | Q(description__icontains=text)
        | Q(vendor__icontains=text)
        | Q(workload_identity__icontains=text)
    )


def agent_list(
    *,
    tier: str | None = None,
    team: str | None = None,
    owner: str | None = None,
    status: str | None = None,
    search: str | None = None,
    stale: bool | None = None,
) -> QuerySet[Agent]:
    agents = Agent.objects.select_related("owner", "team").order_by("slug")
    if tier:
        agents = agents.filter(tier=tier)
    if team:
        agents = agents.filter(team__slug=team)
    if owner:
        agents = agents.filter(owner__username=owner)
    if status:
        agents = agents.filter(status=status)
    if search:
        agents = agents.filter(search_q(search))
    if stale is True:
        agents = agents.filter(
            Q(last_attested_at__isnull=True) | Q(last_attested_at__lt=stale_before())
        )
    elif stale is False:
        agents = agents.filter(last_attested_at__gte=stale_before())
    return agents


def agent_get(slug: str) -> Agent:
    """The inventory is readable by every role, so no per-user scoping here."""
    try:
        return Agent.objects.select_related("owner", "team").get(slug=slug)
    except Agent.DoesNotExist:
        raise NotFound(f"No agent with slug '{slug}'.") from None


def stale_agents() -> QuerySet[Agent]:
    return agent_list(stale=True).exclude(status="retired")
