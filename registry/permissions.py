"""Who may do what to which registry object. Services, views, the API and admin call these."""

from django.db.models import Q, QuerySet

from kernel.permissions import Action, AnyUser, can
from registry.models import Agent


def is_owner_or_member(user: AnyUser, agent: Agent) -> bool:
    """The agent's owner, or a member of its team."""
    if not user.is_authenticated:
        return False
    if agent.owner_id == user.pk:
        return True
    return agent.team.members.filter(pk=user.pk).exists()


def can_view_inventory(user: AnyUser) -> bool:
    # The inventory is not secret: every human role reads it; the gateway reads agents too.
    return can(user, Action.VIEW_PORTAL) or can(user, Action.CALL_DECISION_API)


def can_register_agent(user: AnyUser) -> bool:
    return can(user, Action.REGISTER_AGENT)


def can_edit_agent(user: AnyUser, agent: Agent) -> bool:
    if can(user, Action.MANAGE_POLICY):
        return True
    return can(user, Action.REGISTER_AGENT) and is_owner_or_member(user, agent)


def can_attest_agent(user: AnyUser, agent: Agent) -> bool:
    """Attestation says "still needed, still mine": only the people who run the agent say it."""
    return is_owner_or_member(user, agent) and can(user, Action.REGISTER_AGENT)


def can_suspend_agent(user: AnyUser) -> bool:
    return can(user, Action.SUSPEND_AGENT)


def can_manage_catalogue(user: AnyUser) -> bool:
    """Teams, tools and capabilities."""
    return can(user, Action.MANAGE_POLICY)


def can_manage_policy(user: AnyUser) -> bool:
    return can(user, Action.MANAGE_POLICY)


def agents_editable_by(user: AnyUser) -> QuerySet[Agent]:
    if can(user, Action.MANAGE_POLICY):
        return Agent.objects.all()
    if not can(user, Action.REGISTER_AGENT):
        return Agent.objects.none()
    return Agent.objects.filter(Q(owner=user) | Q(team__members=user)).distinct()


def agents_with_records_visible_to(user: AnyUser) -> QuerySet[Agent] | None:
    """Agents whose requests and grants this user may read; None means all of them."""
    if can(user, Action.APPROVE) or can(user, Action.VIEW_AUDIT_TRAIL):
        return None
    if not can(user, Action.REQUEST_ACCESS):
        return Agent.objects.none()
    return Agent.objects.filter(Q(owner=user) | Q(team__members=user))
