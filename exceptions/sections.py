"""The exceptions section on an agent's page (registry.agent_sections providers)."""

from django.utils import timezone

from exceptions import permissions
from exceptions.selectors import exceptions_in_force_for_agent
from portal.permissions import Action, AnyUser, can
from registry.models import Agent


def agent_exceptions_section(agent: Agent, user: AnyUser) -> dict | None:
    """Approved exceptions still running (or about to start) for this agent."""
    if not can(user, Action.VIEW_PORTAL):
        return None
    return {
        "key": "exceptions",
        "title": "Policy exceptions",
        "template": "exceptions/_agent_section.html",
        "agent": agent,
        "exceptions": list(exceptions_in_force_for_agent(agent.pk, user)),
        "visible": permissions.can_view_exceptions_of(user, agent),
        "can_request": permissions.can_request_exception_for(user, agent),
        "now": timezone.now(),
    }
