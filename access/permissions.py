"""Who may request and approve access for which agent. Services, views and the API call these."""

from kernel.permissions import Action, AnyUser, can, refusal
from registry.models import Agent
from registry.permissions import is_owner_or_member


def can_request_for(user: AnyUser, agent: Agent) -> bool:
    """Access is asked for by the people who run the agent: its owner or its team."""
    return can(user, Action.REQUEST_ACCESS) and is_owner_or_member(user, agent)


def approval_refusal(user: AnyUser, access_request) -> str | None:
    """Why this person may not approve this request, or None when they may (SoD rules)."""
    if not can(user, Action.APPROVE):
        return refusal(Action.APPROVE)
    if access_request.requested_by_id == user.pk:
        return "You cannot approve your own request."
    if access_request.agent.owner_id == user.pk:
        return "You own this agent: someone else in security must approve."
    return None


def has_approved(user: AnyUser, access_request) -> bool:
    """Whether this person already counts towards the request (reads prefetched approvals)."""
    return any(approval.approver_id == user.pk for approval in access_request.approvals.all())


def can_approve(user: AnyUser, access_request) -> bool:
    """Security, not the requester, not the agent's owner, and not a second time."""
    return approval_refusal(user, access_request) is None and not has_approved(user, access_request)


def can_cancel(user: AnyUser, access_request) -> bool:
    """Only the person who filed a request withdraws it."""
    return can(user, Action.REQUEST_ACCESS) and access_request.requested_by_id == user.pk


def can_review_break_glass(user: AnyUser, access_request) -> bool:
    """Security reviews break-glass access after the fact, never their own."""
    return can(user, Action.APPROVE) and access_request.requested_by_id != user.pk
