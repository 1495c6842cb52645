"""What a request must pass before it is saved, whoever files it: a person (page, API, MCP),
break-glass, or an agent acting as itself over MCP (for its owner to confirm)."""

from typing import NotRequired, TypedDict

from django.contrib.auth.models import User

from access import permissions
from access.limits import DEVIATION_HINT, TICKET_MAX_LENGTH, WHY_NEEDED
from access.models import AccessRequest, RequestStatus
from access.recheck import OPEN_STATUSES
from kernel.errors import ApplicationError, Forbidden
from kernel.validation import required_text
from registry.models import Agent, AgentStatus, Capability, Effect, PolicyRule
from registry.permissions import not_run_by_refusal
from registry.selectors.policy import published_rule

# What a duplicate is waiting for, in its refusal.
WAITING_FOR: dict[str, str] = {
    RequestStatus.PENDING: "is already pending",
    RequestStatus.AWAITING_OWNER: "already awaits its owner's confirmation",
}


class Asked(TypedDict):
    """What a request asks for, whoever files it: the fields every filing service takes
    (`**asked: Unpack[Asked]`), checked once here."""

    agent: Agent
    capability: Capability
    justification: str
    duration_hours: int
    scope: NotRequired[str]
    ticket: NotRequired[str]


def asked_of(access_request: AccessRequest) -> Asked:
    """What a filed request asked for (judged again when its owner confirms it)."""
    return Asked(
        agent=access_request.agent,
        capability=access_request.capability,
        justification=access_request.justification,
        duration_hours=access_request.duration_hours,
        scope=access_request.scope,
        ticket=access_request.ticket,
    )


def filing_checks(actor: User, asked: Asked) -> tuple[AccessRequest, PolicyRule]:
    """What every request must pass, break-glass or not: who may ask for this agent, an active
    agent, a justification, at least an hour, and a policy rule that asks for a request.
    Returns the request as filed (unsaved, judged under the latest policy) and the rule."""
    agent, capability, duration_hours = asked["agent"], asked["capability"], asked["duration_hours"]
    if not permissions.can_request_for(actor, agent):
        raise Forbidden(not_run_by_refusal(agent, "requests access for it"))
    if agent.status != AgentStatus.ACTIVE:
        raise ApplicationError(
            f"Agent '{agent.slug}' is {agent.status}: it cannot receive access.",
            code="agent_inactive",
        )
    justification = required_text(
        asked["justification"],
        "justification",
        WHY_NEEDED,
    )
    if duration_hours < 1:
        raise ApplicationError("duration_hours must be at least 1.", field="duration_hours")
    version, rule = published_rule(agent.tier, capability)
    where = f"{capability.key} on {agent.tier} agents"
    if version is None or rule is None or rule.effect == Effect.DENY:
        reason = "denies" if rule else "has no rule for (so it denies)"
        raise ApplicationError(
            f"Policy v{version.number if version else '—'} {reason} {where}. {DEVIATION_HINT}",
            code="policy_deny",
            field="capability",
        )
    if rule.effect == Effect.ALLOW:
        raise ApplicationError(
            f"Nothing to request: policy v{version.number} allows {where} standing.",
            code="standing_allow",
            field="capability",
        )
    access_request = AccessRequest(
        agent=agent,
        capability=capability,
        scope=asked.get("scope", ""),
        justification=justification,
        ticket=asked.get("ticket", "")[:TICKET_MAX_LENGTH],
        duration_hours=duration_hours,
        requested_by=actor,
        effect=rule.effect,
        policy_version=version.number,
    )
    return access_request, rule


def check_duration(access_request: AccessRequest, rule: PolicyRule) -> None:
    """At most the rule's maximum (set on every jit and approval rule)."""
    limit = rule.max_duration_hours
    if limit is not None and access_request.duration_hours > limit:
        raise ApplicationError(
            f"{access_request.duration_hours} hours is longer than policy "
            f"v{access_request.policy_version} allows for {access_request.capability.key} on "
            f"{access_request.agent.tier} agents: the maximum is {limit} hours.",
            code="duration_too_long",
            field="duration_hours",
            max_duration_hours=limit,
        )


def refuse_duplicate(access_request: AccessRequest) -> None:
    """One open request per access (pending, or awaiting its owner): the other is named."""
    duplicate = (
        AccessRequest.objects.filter(
            agent=access_request.agent,
            capability=access_request.capability,
            scope=access_request.scope,
            status__in=OPEN_STATUSES,
        )
        .values_list("pk", "status")
        .first()
    )
    if duplicate is not None:
        pk, status = duplicate
        raise ApplicationError(
            f"Request #{pk} for the same access {WAITING_FOR[status]}.",
            code="duplicate_request",
            request_id=pk,
        )


def new_request(actor: User, asked: Asked) -> AccessRequest:
    """A request that passed every check (filing, duration, no duplicate), not saved yet."""
    access_request, rule = filing_checks(actor, asked)
    check_duration(access_request, rule)
    refuse_duplicate(access_request)
    return access_request
