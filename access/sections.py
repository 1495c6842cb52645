"""What access adds to other pages: the agent page section and the approval queue sections."""

from access import permissions
from access.confirmations import REVOKE_GRANT
from access.context import with_approver_rules
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
from registry.permissions import reads_records_of


def agent_access_section(agent: Agent, user: AnyUser) -> dict:
    """Active grants in full for those the grants API shows them to (owner, team, security,
    auditors), each with its Revoke step for security; a count and whom to ask for everyone
    else. Void while the agent is not active."""
    grants = list(grants_active_for_agent_visible_to(user, agent.pk))
    for grant in grants:
        offer = None
        if permissions.can_revoke_grant(user, grant):
            offer = REVOKE_GRANT.offer(grant, next_url=agent.get_absolute_url())
        setattr(grant, "revoke", offer)  # noqa: B010 (display value)
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
        "records_visible": reads_records_of(user, agent),
    }


def access_requests_queue_section(user: AnyUser) -> dict:
    items = list(requests_awaiting(user))
    with_approver_rules(items)
    return awaiting_approval_section(
        key="access-requests",
        title="Access requests awaiting approval",
        items=items,
        noun="request",
        columns=["Access asked", "Justification"],
        cells_template="access/_queue_cells.html",
        approve_url="access:request-approve",
        refuse_url="access:request-deny",
        refuse_label="Deny",
        empty="Nothing waits for you.",
        with_context=True,
    )


def break_glass_queue_section(user: AnyUser) -> dict:
    return {
        "key": "break-glass",
        "title": "Break-glass access to review",
        "template": "access/_break_glass_queue.html",
        "items": list(break_glass_awaiting_review(user)),
    }
