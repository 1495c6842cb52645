"""Who may request and approve access for which agent. Services, views and the API call these."""

from django.db.models import Q
from django.utils import timezone

from access.models import Grant, RequestStatus
from approvals import permissions as approvals
from kernel.permissions import Action, AnyUser, can
from registry.models import Agent
from registry.permissions import agents_run_by, is_owner_or_member, not_run_by_refusal


def can_request_for(user: AnyUser, agent: Agent) -> bool:
    """Access is asked for by the people who run the agent: its owner or its team."""
    return can(user, Action.REQUEST_ACCESS) and is_owner_or_member(user, agent)


CONFIRMED_IT = "You confirmed this request for your agent: someone else in security must approve."


def approval_refusal(user: AnyUser, access_request) -> str | None:
    """Why this person may not approve this request, or None when they may (SoD rules; who
    confirmed what their agent filed asked for it as much as its requester)."""
    refused = approvals.approval_refusal(
        user, access_request, own_request="You cannot approve your own request."
    )
    if refused is None and access_request.confirmed_by_id == user.pk:
        return CONFIRMED_IT
    return refused


def can_approve(user: AnyUser, access_request) -> bool:
    """Security, not the requester, not the agent's owner, and not a second time."""
    return approval_refusal(user, access_request) is None and not approvals.has_approved(
        user, access_request
    )


def confirm_refusal(user: AnyUser, access_request) -> str | None:
    """Why this person may not confirm or decline what an agent filed for its owner, or None:
    the people who request the agent's access (its owner and its team) do."""
    if can_request_for(user, access_request.agent):
        return None
    return not_run_by_refusal(access_request.agent, "confirms or declines what the agent asked for")


def to_confirm_q(user: AnyUser) -> Q:
    """`can_confirm` as a query: what agents filed that awaits this person's confirmation
    (the agents they request access for: theirs, their team's)."""
    if not can(user, Action.REQUEST_ACCESS):
        return Q(pk__in=[])
    theirs = agents_run_by(user).values("pk")
    return Q(status=RequestStatus.AWAITING_OWNER, agent_id__in=theirs)


def can_confirm(user: AnyUser, access_request) -> bool:
    """A request its agent filed, awaiting confirmation, and this person may confirm it."""
    return (
        access_request.status == RequestStatus.AWAITING_OWNER
        and confirm_refusal(user, access_request) is None
    )


def can_cancel(user: AnyUser, access_request) -> bool:
    """Only the person who filed a request withdraws it."""
    return can(user, Action.REQUEST_ACCESS) and access_request.requested_by_id == user.pk


def break_glass_review_refusal(user: AnyUser, access_request) -> str | None:
    """Why this person may not review this break-glass use, or None when they may: the same
    separation of duties as approving (security; not its requester, not the agent's owner)."""
    return approvals.approval_refusal(
        user,
        access_request,
        own_request="You cannot review your own break-glass access.",
        own_agent="You own this agent: someone else in security must review its break-glass use.",
    )


def can_review_break_glass(user: AnyUser, access_request) -> bool:
    """Security reviews break-glass access after the fact, never their own nor their agent's."""
    return break_glass_review_refusal(user, access_request) is None


def can_revoke_grant(user: AnyUser, grant: Grant) -> bool:
    """Security ends a grant that has not ended yet (the service refuses the others too)."""
    ended = grant.revoked_at is not None or grant.expires_at <= timezone.now()
    return can(user, Action.APPROVE) and not ended
