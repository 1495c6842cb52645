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
from registry.permissions import agents_with_records_visible_to, is_owner_or_member


def bind_refusal(user: AnyUser, agent: Agent) -> str | None:
    """Why this person may not add or remove identity bindings of this agent (None: may)."""
    if not can(user, Action.REGISTER_AGENT):
        return refusal(Action.REGISTER_AGENT)
    if can(user, Action.MANAGE_POLICY) or is_owner_or_member(user, agent):
        return None
    return (
        f"Only the owner of '{agent.slug}', a member of team '{agent.team.slug}' or security "
        "binds workload identities to it."
    )


def approval_refusal(user: AnyUser, binding: IdentityBinding) -> str | None:
    """Why this person may not approve this binding, or None (the shared SoD rule)."""
    return approvals.approval_refusal(
        user,
        binding,
        own_request="You asked for this binding: someone else in security must approve it.",
    )


def can_view_bindings_of(user: AnyUser, agent: Agent) -> bool:
    """Bindings say which pipelines may act as the agent: the people who run it, security
    and auditors read them."""
    if agents_with_records_visible_to(user) is None:
        return True
    return can(user, Action.VIEW_PORTAL) and is_owner_or_member(user, agent)


def bindings_visible_to(user: AnyUser) -> QuerySet[IdentityBinding]:
    agents = agents_with_records_visible_to(user)
    if agents is None:
        return IdentityBinding.objects.all()
    if not can(user, Action.VIEW_PORTAL):
        return IdentityBinding.objects.none()
    return IdentityBinding.objects.filter(agent_id__in=agents.values("pk"))
