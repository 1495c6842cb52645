"""Notices about agents: what their owners are told, rendered in the transaction that made the
change and delivered once it commits (kernel.notifications)."""

from django.utils import timezone

from kernel.notifications import Event, notice
from registry.models import Agent


@notice
def agent_suspended(pk: int) -> Event:
    """The owner: security suspended their agent; every decision for it is deny until it is
    reactivated."""
    agent = Agent.objects.select_related("owner", "team", "status_changed_by").get(pk=pk)
    by = agent.status_changed_by.username if agent.status_changed_by else "security"
    when = agent.status_changed_at or timezone.now()
    facts = {
        "agent": agent.slug,
        "tier": agent.tier,
        "team": agent.team.slug,
        "status": agent.status,
        "owner": agent.owner.username,
    }
    return Event.about(
        agent,
        "agent.suspended",
        "agent",
        facts,
        subject=f"Agent {agent.slug} was suspended",
        body=(
            f"{agent.name} ({agent.slug}, {agent.tier}, team {agent.team.slug}) was suspended "
            f"by {by} at {when:%Y-%m-%d %H:%M} UTC.\n"
            f"Reason: {agent.status_reason or '—'}\n"
            "Every decision for it is deny, its grants and exceptions do not apply, until "
            "security reactivates it.\n"
        ),
        recipients=[agent.owner.email],
        data={"suspended_by": by, "suspended_at": when},
        occurred_at=when,
    )
