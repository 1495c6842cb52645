"""What access adds to other pages: the agent page section and the approval queue sections."""

from access import permissions
from access.limits import AGENT_PAGE_REQUESTS
from access.selectors import (
    break_glass_awaiting_review,
    grants_active_for_agent,
    grants_active_for_agent_visible_to,
    requests_awaiting,
    requests_visible_to,
)
from approvals.queue import awaiting_approval_section
from kernel.permissions import AnyUser
from registry.models import Agent, AgentStatus


def agent_access_section(agent: Agent, user: AnyUser) -> dict:
    """Active grants in full for those the grants API shows them to (owner, team, security,
    auditors); a count and whom to ask for everyone else. Void while the agent is not active."""
    grants = list(grants_active_for_agent_visible_to(user, agent.pk))
    return {
        "key": "access",
        "title": "Access",
        "template": "access/_agent_section.html",
        "agent": agent,
        "grants": grants,
        "hidden_grants": 0 if grants else grants_active_for_agent(agent.pk).count(),
        "void": agent.status != AgentStatus.ACTIVE,
        "requests": list(requests_visible_to(user).filter(agent=agent)[:AGENT_PAGE_REQUESTS]),
        "can_request": permissions.can_request_for(user, agent),
    }


def access_requests_queue_section(user: AnyUser) -> dict:
    return awaiting_approval_section(
        key="access-requests",
        title="Access requests awaiting approval",
        items=list(requests_awaiting(user)),
        noun="request",
        columns=["Agent", "Capability", "Duration", "Requested", "Justification"],
        cells_template="access/_queue_cells.html",
        approve_url="access:request-approve",
        refuse_url="access:request-deny",
        refuse_label="Deny",
        empty="Nothing waits for you.",
    )


def break_glass_queue_section(user: AnyUser) -> dict:
    return {
        "key": "break-glass",
        "title": "Break-glass access to review",
        "template": "access/_break_glass_queue.html",
        "items": list(break_glass_awaiting_review(user)),
    }
