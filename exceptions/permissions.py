"""Who may do what to which exception. Services, views, the API and the queue call these."""

from django.db.models import Q, QuerySet

from approvals import permissions as approvals
from exceptions.models import PolicyException
from kernel.permissions import Action, AnyUser, can, refusal
from registry.models import Agent
from registry.permissions import (
    agents_with_records_visible_to,
    is_owner_or_member,
    not_run_by_refusal,
)


def can_request_exception_for(user: AnyUser, agent: Agent) -> bool:
    """The people who run the agent (its owner or team) ask; security may ask for any agent."""
    if not can(user, Action.REQUEST_EXCEPTION):
        return False
    return can(user, Action.APPROVE) or is_owner_or_member(user, agent)


def request_refusal(user: AnyUser, agent: Agent) -> str | None:
    if can_request_exception_for(user, agent):
        return None
    if not can(user, Action.REQUEST_EXCEPTION):
        return refusal(Action.REQUEST_EXCEPTION)
    return not_run_by_refusal(agent, "requests exceptions for it", or_security=True)


def approval_refusal(user: AnyUser, exception: PolicyException) -> str | None:
    """Why this person may not approve this exception, or None when they may (SoD rules)."""
    return approvals.approval_refusal(
        user,
        exception,
        own_request="You requested this exception: someone else in security must approve it.",
    )


def has_approved(user: AnyUser, exception: PolicyException) -> bool:
    """Whether this person already counts towards the exception (reads prefetched approvals)."""
    return approvals.has_approved(user, exception)


def can_approve(user: AnyUser, exception: PolicyException) -> bool:
    """Security, not the requester, not the agent's owner, and not a second time."""
    return approval_refusal(user, exception) is None and not has_approved(user, exception)


def can_reject(user: AnyUser) -> bool:
    return can(user, Action.APPROVE)


def can_revoke(user: AnyUser) -> bool:
    return can(user, Action.APPROVE)


WITHDRAW_REFUSAL = "Only the person who requested the exception can withdraw it."


def can_withdraw(user: AnyUser, exception: PolicyException) -> bool:
    """Only its requester takes back an exception request (while it is pending: the
    pipeline refuses the other statuses). Not the agent's owner, not security: they reject."""
    return can(user, Action.REQUEST_EXCEPTION) and exception.requested_by_id == user.pk


def renewal_refusal(user: AnyUser, exception: PolicyException) -> str | None:
    """Renewal is asked for by whoever is accountable: the requester or the agent's owner."""
    if not can(user, Action.REQUEST_EXCEPTION):
        return refusal(Action.REQUEST_EXCEPTION)
    if user.pk not in (exception.requested_by_id, exception.agent.owner_id):
        return "Only the person who requested this exception or the agent's owner renews it."
    return None


def exceptions_visible_to(user: AnyUser) -> QuerySet[PolicyException]:
    """Security and auditors see every exception; engineers those of their agents or their own.

    Anyone else (the gateway, people without a role) sees none.
    """
    agents = agents_with_records_visible_to(user)
    if agents is None:
        return PolicyException.objects.all()
    if not can(user, Action.VIEW_PORTAL):
        return PolicyException.objects.none()
    return PolicyException.objects.filter(
        Q(agent_id__in=agents.values("pk")) | Q(requested_by=user)
    )
