"""What each MCP tool does, for one person speaking for one agent: plain synchronous calls into
the portal's selectors and services (the server module runs them off the event loop).

Refusals are `kernel.errors.ApplicationError`s, as everywhere in the portal; the server turns
them into tool errors the model reads."""

from django.contrib.auth.models import User
from django.utils import timezone

from access.models import AccessRequest, Grant, RequestStatus
from access.rules import grant_state
from access.selectors import access_request_get_for_user
from access.services import approver_rule_for
from agent_mcp import answers
from agent_mcp.permissions import act_for_refusal
from approvals.rules import waiting_for
from decisions.effective import effective_access
from decisions.services.log import decide_and_record
from kernel.errors import Forbidden, NotFound
from registry.models import Agent, Capability, Effect
from registry.permissions import AGENT_RECORDS_REFUSAL, may_read_agent_records
from registry.selectors.agents import agent_get
from registry.selectors.catalogue import capability_get
from registry.selectors.policy import policy_latest_published, policy_rule_map


def agent_for(user: User, slug: str) -> Agent:
    """The agent this call speaks for, once the person may speak for it."""
    agent = agent_get(slug)
    refusal = act_for_refusal(user, agent)
    if refusal:
        raise Forbidden(refusal)
    return agent


def check_access(user: User, agent: Agent, capability: str, scope: str) -> answers.AccessCheck:
    """The decision a gateway would get, recorded in the decision log with this person as the
    caller (it is audit evidence like any decision)."""
    result, decision_id = decide_and_record(
        agent_slug=agent.slug, capability_key=capability, scope=scope, caller=user
    )
    return answers.AccessCheck(
        agent=agent.slug,
        capability=capability,
        scope=scope,
        decision=result.decision,
        reason=result.reason,
        policy_version=result.policy_version,
        grant=result.grant_id,
        exception=result.exception_id,
        decision_id=decision_id,
    )


def my_access(user: User, agent: Agent) -> answers.EffectiveAccess:
    if not may_read_agent_records(user, agent):
        raise Forbidden(AGENT_RECORDS_REFUSAL)
    rows = [
        answers.CapabilityAccess(
            capability=row.capability,
            high_risk=row.high_risk,
            decision=row.decision,
            reason=row.reason,
            until=row.until,
            grant=row.grant,
            exception=row.exception,
            scoped=[
                answers.ScopedGrantAnswer(grant=s.grant, scope=s.scope, until=s.until)
                for s in row.scoped
            ],
        )
        for row in effective_access(agent)
    ]
    return answers.EffectiveAccess(agent=agent.slug, capabilities=rows)


def explain_policy(agent: Agent, capability: str) -> answers.PolicyExplanation:
    """The published rule for the agent's tier, and the way to more access it leaves open."""
    found = capability_get(capability)
    version = policy_latest_published()
    effect, hours = policy_rule_map(version).get((agent.tier, found.key), ("none", None))
    return answers.PolicyExplanation(
        agent=agent.slug,
        tier=agent.tier,
        capability=found.key,
        high_risk=found.high_risk,
        policy_version=version.number if version is not None else None,
        effect=effect,
        max_duration_hours=hours,
        how_to_get_access=_how_to_get(agent, found, effect, hours),
    )


def _how_to_get(agent: Agent, capability: Capability, effect: str, hours: int | None) -> str:
    if effect == Effect.ALLOW:
        return "Standing access: nothing to request."
    if effect == Effect.JIT:
        return (
            f"Request it (up to {hours}h): just-in-time access is granted at once, "
            "without approval."
        )
    if effect == Effect.APPROVAL:
        rule = approver_rule_for(agent, capability)
        return (
            f"Request it (up to {hours}h) and wait for security: it needs {rule}. "
            "Ask request_status where it stands."
        )
    named = "denies it" if effect == Effect.DENY else "has no rule for it, which denies it"
    return (
        f"The policy {named} on the {agent.tier} tier: only a policy exception, approved by "
        "security, allows it. File one in the portal (Exceptions)."
    )


def request_status(user: User, agent: Agent, request_id: int) -> answers.RequestStatusAnswer:
    """Where an access request for this agent stands; one this person may not see, or for
    another agent, is as missing as one that does not exist."""
    missing = f"No access request #{request_id} for agent '{agent.slug}'."
    try:
        found: AccessRequest | None = access_request_get_for_user(user, request_id)
    except NotFound:
        found = None
    if found is None or found.agent_id != agent.pk:
        raise NotFound(missing)
    approvals = list(found.approvals.all())
    pending = found.status == RequestStatus.PENDING
    return answers.RequestStatusAnswer(
        id=found.pk,
        agent=agent.slug,
        capability=found.capability.key,
        scope=found.scope,
        status=found.status,
        requested_by=found.requested_by.get_username(),
        created_at=found.created_at,
        required_approvals=found.required_approvals,
        approvals=[
            answers.ApprovalAnswer(
                approver=a.approver.get_username(), at=a.created_at, comment=a.comment
            )
            for a in approvals
        ],
        waiting_for=waiting_for(len(approvals), found.required_approvals) if pending else "",
        decision_comment=found.decision_comment,
        grant=_grant_of(found),
    )


def _grant_of(found: AccessRequest) -> answers.GrantAnswer | None:
    try:
        grant: Grant = found.grant
    except Grant.DoesNotExist:
        return None
    now = timezone.now()
    state = grant_state(grant, now)
    left = int((grant.expires_at - now).total_seconds()) if state == "active" else 0
    return answers.GrantAnswer(
        id=grant.pk,
        scope=grant.scope,
        starts_at=grant.starts_at,
        expires_at=grant.expires_at,
        state=state,
        seconds_left=left,
    )
