"""The registry's own section on agent pages: active grants and recent requests."""

from portal.permissions import AnyUser
from registry import permissions
from registry.models import Agent
from registry.selectors.access import grants_active_for_agent, requests_visible_to


def agent_access_section(agent: Agent, user: AnyUser) -> dict:
    return {
        "key": "access",
        "title": "Access",
        "template": "registry/requests/_agent_section.html",
        "agent": agent,
        "grants": list(grants_active_for_agent(agent.pk)),
        "requests": list(requests_visible_to(user).filter(agent=agent)[:10]),
        "can_request": permissions.can_request_for(user, agent),
    }
