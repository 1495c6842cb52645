"""The agent page's "Effective access": what the agent may do now, every capability."""

from django.utils import timezone

from decisions.effective import effective_access
from kernel.permissions import AnyUser
from registry.models import Agent
from registry.permissions import may_read_agent_records


def effective_section(agent: Agent, user: AnyUser) -> dict | None:
    """Shown to whoever reads the agent's grants and exceptions (the API's rule)."""
    if not may_read_agent_records(user, agent):
        return None
    now = timezone.now()
    return {
        "key": "effective",
        "title": "Effective access now",
        "template": "decisions/_effective_section.html",
        "rows": effective_access(agent.slug, at=now),
        "at": now,
        "agent": agent,
    }
