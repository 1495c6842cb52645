"""Registering agents, editing them, attesting them, and moving them between statuses."""

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kernel.audit import audit_actor, audit_batch
from kernel.editing import save_unique
from kernel.errors import ApplicationError, Forbidden
from kernel.notifications import queue_notice
from kernel.permissions import Action, AnyUser, can, require, roles_of
from kernel.roles import Role
from kernel.transitions import check_transition
from registry import notifications, permissions
from registry.models import Agent, AgentStatus, Team
from registry.signals import tier_changed

# Status pipeline: which statuses an agent may move to from each status.
ALLOWED_STATUS = {
    AgentStatus.ACTIVE: {AgentStatus.SUSPENDED, AgentStatus.RETIRED},
    AgentStatus.SUSPENDED: {AgentStatus.ACTIVE, AgentStatus.RETIRED},
    AgentStatus.RETIRED: set(),
}

EDITABLE_FIELDS = frozenset(
    {"name", "description", "team", "tier", "vendor", "workload_identity", "repositories"}
)
MAX_REPOSITORIES = 100
REASSIGN_REASON_MAX_LENGTH = 500


def _clean_repositories(repositories: Any) -> list[str]:
    if repositories is None:
        return []
    cleaned = [r.strip() for r in repositories if r.strip()]
    if len(cleaned) > MAX_REPOSITORIES or any(len(r) > 200 for r in cleaned):
        raise ApplicationError(
            f"At most {MAX_REPOSITORIES} repositories of at most 200 characters each.",
            field="repositories",
        )
    return list(dict.fromkeys(cleaned))


def _check_team_choice(actor: AnyUser, team: Team) -> None:
    # An engineer files agents under their own teams; otherwise they could hand edit rights
    # to strangers or hide an agent in a team that does not know about it.
    if can(actor, Action.MANAGE_POLICY):
        return
    if not actor.is_authenticated or not team.members.filter(pk=actor.pk).exists():
        raise Forbidden(
            f"You are not a member of team '{team.slug}': pick one of your teams.", field="team"
        )


def _duplicates(agent: Agent) -> dict[str, list[str]]:
    """The unique fields another agent already has, each said with the value typed."""
    others = Agent.objects.exclude(pk=agent.pk) if agent.pk else Agent.objects.all()
    found = {}
    for field, label in (("slug", "slug"), ("workload_identity", "workload identity")):
        value = getattr(agent, field)
        if value and others.filter(**{field: value}).exists():
            found[field] = [f"An agent with the {label} '{value}' already exists."]
    return found


def _save(agent: Agent, changed: set[str] | None = None, **kwargs: Any) -> Agent:
    """Check and save; `changed`: only those fields are checked (an edit is not refused for
    a value it did not touch, e.g. a description stored before its limit)."""
    errors = _duplicates(agent)
    unchanged = [
        f.name for f in Agent._meta.fields if changed is not None and f.name not in changed
    ]
    try:
        agent.full_clean(exclude=unchanged, validate_unique=False)
    except ValidationError as exc:
        errors = {**exc.message_dict, **errors}
    if errors:
        raise ValidationError(errors)
    save_unique(agent, "An agent with this slug or workload identity already exists.", **kwargs)
    return agent


@transaction.atomic
def agent_register(
    *,
    actor: User,
    slug: str,
    name: str,
    team: Team,
    tier: str,
    workload_identity: str,
    description: str = "",
    vendor: str = "",
    repositories: list[str] | None = None,
    owner: User | None = None,
) -> Agent:
    """Register an agent owned by `owner` (default: the actor). Registering counts as attesting."""
    require(actor, Action.REGISTER_AGENT)
    owner = owner or actor
    if owner.pk != actor.pk and not can(actor, Action.MANAGE_POLICY):
        raise Forbidden("You register agents that you own; security can assign another owner.")
    _check_team_choice(actor, team)
    agent = Agent(
        slug=slug,
        name=name,
        team=team,
        tier=tier,
        workload_identity=workload_identity,
        description=description,
        vendor=vendor,
        repositories=_clean_repositories(repositories),
        owner=owner,
        last_attested_at=timezone.now(),
    )
    with audit_actor(actor):
        return _save(agent)


@transaction.atomic
def agent_update(*, actor: User, agent: Agent, **changes: Any) -> Agent:
    """Edit an agent's descriptive fields.

    Tier changes are security's: a lower tier means a looser policy for the same agent. Once
    saved, a tier change is sent as registry.signals.tier_changed (same transaction).
    """
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ApplicationError(
            f"These fields cannot be changed here: {', '.join(sorted(unknown))}.", code="read_only"
        )
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    if refusal := permissions.edit_refusal(actor, agent):
        raise Forbidden(refusal)
    tier_changes = "tier" in changes and changes["tier"] != agent.tier
    if tier_changes and not can(actor, Action.MANAGE_POLICY):
        raise Forbidden(
            "Only security changes an agent's tier (another tier means another policy).",
            field="tier",
        )
    if "team" in changes and changes["team"].pk != agent.team_id:
        _check_team_choice(actor, changes["team"])
    if "repositories" in changes:
        changes["repositories"] = _clean_repositories(changes["repositories"])
    previous_tier = agent.tier
    for field, value in changes.items():
        setattr(agent, field, value)
    with audit_actor(actor):
        _save(agent, changed=set(changes))
    if tier_changes:
        tier_changed.send(sender=Agent, agent=agent, previous=previous_tier, actor=actor)
    return agent


@transaction.atomic
def agent_attest(*, actor: User, agent: Agent) -> Agent:
    """The owner or a team member confirms the agent is still needed and still theirs."""
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    if refusal := permissions.attest_refusal(actor, agent):
        raise Forbidden(refusal)
    if agent.status == AgentStatus.RETIRED:
        raise ApplicationError("A retired agent cannot be attested.", code="invalid_transition")
    agent.last_attested_at = timezone.now()
    with audit_actor(actor):
        agent.save(update_fields=["last_attested_at", "updated_at"])
    return agent


def _set_status(*, actor: User, agent: Agent, status: AgentStatus, reason: str) -> Agent:
    """The new status, with who changed it, when and why (shown on the agent's page)."""
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    label = f"Agent '{agent.slug}'"
    check_transition(ALLOWED_STATUS, AgentStatus(agent.status), status, subject=label)
    agent.status = status
    agent.status_reason = reason.strip()
    agent.status_changed_at = timezone.now()
    agent.status_changed_by = actor
    with audit_actor(actor):
        agent.save(
            update_fields=[
                "status",
                "status_reason",
                "status_changed_at",
                "status_changed_by",
                "updated_at",
            ]
        )
    return agent


@transaction.atomic
def agent_suspend(*, actor: User, agent: Agent, reason: str = "") -> Agent:
    """Suspend: every decision for the agent is `deny` from the next request on. The owner
    is told (registry.notifications)."""
    require(actor, Action.SUSPEND_AGENT)
    agent = _set_status(actor=actor, agent=agent, status=AgentStatus.SUSPENDED, reason=reason)
    queue_notice(notifications.agent_suspended, agent.pk)
    return agent


@transaction.atomic
def agent_reactivate(*, actor: User, agent: Agent, reason: str = "") -> Agent:
    require(actor, Action.SUSPEND_AGENT)
    return _set_status(actor=actor, agent=agent, status=AgentStatus.ACTIVE, reason=reason)


@transaction.atomic
def agent_retire(*, actor: User, agent: Agent, reason: str = "") -> Agent:
    if refusal := permissions.edit_refusal(actor, agent):
        raise Forbidden(refusal)
    return _set_status(actor=actor, agent=agent, status=AgentStatus.RETIRED, reason=reason)


def ownership_refusal(owner: User, agent: Agent) -> str | None:
    """Why `owner` may not own `agent`, or None. Owners are active people with the engineer
    or security role; an engineer must be in the agent's team (teams come from the
    directory, so the portal does not add anyone to one). selectors.agents.owner_candidates
    lists the same people."""
    if not owner.is_active:
        return f"{owner.username} is deactivated: pick an active person as the new owner."
    roles = roles_of(owner)
    if Role.SECURITY in roles:
        return None  # security answers for every agent already
    if Role.ENGINEER not in roles:
        return f"{owner.username} is neither an engineer nor security: they cannot own an agent."
    if not agent.team.members.filter(pk=owner.pk).exists():
        return (
            f"{owner.username} is not a member of team '{agent.team.slug}': pick one of its "
            "members or a security member."
        )
    return None


@transaction.atomic
def agent_reassign(*, actor: User, agent: Agent, owner: User, reason: str = "") -> Agent:
    """Security gives the agent a new owner, e.g. when its owner left and it is orphaned.

    The save is in the trail as the actor's, with one more entry naming both owners by
    username and the reason (the owner field itself is logged as ids).
    """
    require(actor, Action.REASSIGN_AGENT)
    reason = (reason or "").strip()
    if len(reason) > REASSIGN_REASON_MAX_LENGTH:
        raise ApplicationError(
            f"reason is at most {REASSIGN_REASON_MAX_LENGTH} characters.", field="reason"
        )
    agent = (
        Agent.objects.select_for_update(of=("self",))
        .select_related("owner", "team")
        .get(pk=agent.pk)
    )
    if owner.pk == agent.owner_id:
        raise ApplicationError(
            f"{owner.username} owns '{agent.slug}' already.", field="owner", code="same_owner"
        )
    if refusal := ownership_refusal(owner, agent):
        raise ApplicationError(refusal, field="owner", code="ineligible_owner")
    previous = agent.owner.username
    agent.owner = owner
    with audit_actor(actor):
        agent.save(update_fields=["owner", "updated_at"])
        audit_batch(
            agent,
            field="owner_reassigned",
            summary=f"{previous} → {owner.username}" + (f": {reason}" if reason else ""),
        )
    return agent
