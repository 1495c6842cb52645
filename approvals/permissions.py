"""Separation of duties, the one approval rule every workflow shares.

Security approves; never what they asked for themselves, nor what is for an agent they own.
`approvals.selectors.awaiting_approval_by` asks the same as a query.
"""

from typing import Any

from kernel.permissions import Action, AnyUser, can, refusal

OWN_AGENT = "You own this agent: someone else in security must approve."


def approval_refusal(
    user: AnyUser, subject: Any, *, own_request: str, own_agent: str = OWN_AGENT
) -> str | None:
    """Why this person may not approve `subject` (it has `requested_by_id` and `agent`), or
    None when they may. `own_request` is what its requester is told, `own_agent` what the
    agent's owner is told. Reviews after the fact (break-glass) are held to the same rule."""
    if not can(user, Action.APPROVE):
        return refusal(Action.APPROVE)
    if subject.requested_by_id == user.pk:
        return own_request
    if subject.agent.owner_id == user.pk:
        return own_agent
    return None


def has_approved(user: AnyUser, subject: Any) -> bool:
    """Whether this person already counts towards the subject (reads prefetched approvals)."""
    return any(approval.approver_id == user.pk for approval in subject.approvals.all())
