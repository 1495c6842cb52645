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


def not_run_by_refusal(agent: Agent, doing: str, *, or_security: bool = False) -> str:
    """The refusal for someone who does not run the agent, in one wording: "Only the owner of
    'a', a member of team 't' or security `doing`." (`or_security`: security may too)."""
    owner, member = f"the owner of '{agent.slug}'", f"a member of team '{agent.team.slug}'"
    people = f"{owner}, {member} or security" if or_security else f"{owner} or {member}"
    return f"Only {people} {doing}."


def agents_run_by(user: AnyUser) -> QuerySet[Agent]:
    """`is_owner_or_member` as a query: the agents this person owns or whose team they are in
    (each once)."""
    if not user.is_authenticated:
        return Agent.objects.none()
    return Agent.objects.filter(Q(owner=user.pk) | Q(team__members=user.pk)).distinct()


def can_edit_agent(user: AnyUser, agent: Agent) -> bool:
    """Edit or retire it: security, or the people who run it (owner, team)."""
    if can(user, Action.MANAGE_POLICY):
        return True
    return can(user, Action.REGISTER_AGENT) and is_owner_or_member(user, agent)


def edit_refusal(user: AnyUser, agent: Agent) -> str | None:
    if can_edit_agent(user, agent):
        return None
    return "Only the agent's owner, its team's members and security edit or retire this agent."


def can_attest_agent(user: AnyUser, agent: Agent) -> bool:
    """Attestation says "still needed, still mine": only the people who run the agent say it."""
    return is_owner_or_member(user, agent) and can(user, Action.REGISTER_AGENT)


def attest_refusal(user: AnyUser, agent: Agent) -> str | None:
    if can_attest_agent(user, agent):
        return None
    return "Only the agent's owner or a member of its team can attest it."


def agents_with_records_visible_to(user: AnyUser) -> QuerySet[Agent] | None:
    """Agents whose requests and grants this user may read; None means all of them."""
    if can(user, Action.APPROVE) or can(user, Action.VIEW_AUDIT_TRAIL):
        return None
    if not can(user, Action.REQUEST_ACCESS):
        return Agent.objects.none()
    return agents_run_by(user)


AGENT_RECORDS_REFUSAL = (
    "Only security, auditors, gateways and the agent's owner and team read its grants and "
    "exceptions."
)


def reads_records_of(user: AnyUser, agent: Agent) -> bool:
    """Whether this person reads what the agent holds (its requests, grants, exceptions and
    identity bindings): security and auditors every agent's, engineers those of the agents
    they run. The scope of `agents_with_records_visible_to`, for one agent."""
    if agents_with_records_visible_to(user) is None:
        return True
    return can(user, Action.REQUEST_ACCESS) and is_owner_or_member(user, agent)


def may_read_agent_records(user: AnyUser, agent: Agent) -> bool:
    """What an agent holds (grants, exceptions, their scopes and windows, what it may do now):
    the people who read its records (`reads_records_of`) and the gateways, which are
    told as much by every decision."""
    return can(user, Action.CALL_DECISION_API) or reads_records_of(user, agent)


def may_read_every_agents_records(user: AnyUser) -> bool:
    """`may_read_agent_records` for every agent, by role alone (no agent to look up)."""
    return can(user, Action.CALL_DECISION_API) or agents_with_records_visible_to(user) is None
