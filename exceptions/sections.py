"""What exceptions add to other pages: the agent page section, the approval queue section and
the form a denied request links to."""

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from approvals.queue import awaiting_approval_section
from exceptions import permissions
from exceptions.context import with_approver_rules, with_rules_deviated_from
from exceptions.selectors import exceptions_awaiting, exceptions_open_for_agent
from kernel.permissions import Action, AnyUser, can
from registry.models import Agent, AgentStatus, Capability
from registry.permissions import reads_records_of


def exception_form_url(agent: Agent, capability: Capability) -> str:
    """The exception form, prefilled with this agent and capability (it reads both)."""
    query = urlencode({"agent": agent.slug, "capability": capability.key})
    return f"{reverse('exceptions:create')}?{query}"


def agent_exceptions_section(agent: Agent, user: AnyUser) -> dict | None:
    """This agent's exceptions in force, starting later or awaiting approval."""
    if not can(user, Action.VIEW_PORTAL):
        return None
    return {
        "key": "exceptions",
        "title": "Policy exceptions",
        "template": "exceptions/_agent_section.html",
        "agent": agent,
        "exceptions": list(exceptions_open_for_agent(agent.pk, user)),
        "visible": reads_records_of(user, agent),
        "void": agent.status != AgentStatus.ACTIVE,  # suspension voids its exceptions
        "can_request": permissions.can_request_exception_for(user, agent),
        "now": timezone.now(),
    }


def approval_queue_section(user: AnyUser) -> dict | None:
    """Pending exceptions this security member may approve, oldest first; None for others."""
    if not can(user, Action.APPROVE):
        return None
    items = list(exceptions_awaiting(user))
    with_approver_rules(items)
    with_rules_deviated_from(items)
    return awaiting_approval_section(
        key="exceptions",
        title="Policy exceptions awaiting approval",
        items=items,
        noun="exception",
        columns=["Exception", "Deviation asked", "Requested"],
        cells_template="exceptions/_queue_cells.html",
        approve_url="exceptions:approve",
        refuse_url="exceptions:reject",
        refuse_label="Reject",
        empty="No exception waits for you.",
        with_context=True,
    )
