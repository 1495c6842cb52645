"""Who may do what to trust providers, identity bindings and issued credentials.

Roles are the ACTIONS table's (kernel.permissions): everyone reads trust providers, security
manages them; the agent's owner or team (or security) binds identities; security approves a
binding on a production agent, never one they asked for or for an agent they own; security
and auditors read what was issued; gateways (and security) introspect.
"""

from django.db.models import QuerySet

from approvals import permissions as approvals
from credentials.models import IdentityBinding
from kernel.permissions import Action, AnyUser, can, refusal
from registry.models import Agent
from registry.permissions import (
    agents_with_records_visible_to,
    is_owner_or_member,
    not_run_by_refusal,
)


def bind_refusal(user: AnyUser, agent: Agent) -> str | None:
    """Why this person may not add or remove identity bindings of this agent (None: may)."""
    if not can(user, Action.REGISTER_AGENT):
        return refusal(Action.REGISTER_AGENT)
    if can(user, Action.MANAGE_POLICY) or is_owner_or_member(user, agent):
        return None
    return not_run_by_refusal(agent, "binds workload identities to it", or_security=True)


def approval_refusal(user: AnyUser, binding: IdentityBinding) -> str | None:
    """Why this person may not approve this binding, or None (the shared SoD rule)."""
    return approvals.approval_refusal(
        user,
        binding,
        own_request="You asked for this binding: someone else in security must approve it.",
    )


def bindings_visible_to(user: AnyUser) -> QuerySet[IdentityBinding]:
    agents = agents_with_records_visible_to(user)
    if agents is None:
        return IdentityBinding.objects.all()
    if not can(user, Action.VIEW_PORTAL):
        return IdentityBinding.objects.none()
    return IdentityBinding.objects.filter(agent_id__in=agents.values("pk"))
