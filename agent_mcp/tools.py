"""What each MCP tool does, for one caller (a person, or the agent acting as itself) speaking
for one agent: plain synchronous calls into the portal's selectors and services (the server
module runs them off the event loop).

Refusals are `kernel.errors.ApplicationError`s, as everywhere in the portal; the server turns
them into tool errors the model reads."""

from typing import cast

from django.utils import timezone

from access.agent_requests import agent_request_file
from access.filing import Asked
from access.models import AccessRequest, Grant, RequestStatus
from access.rules import grant_state
from access.selectors import access_request_get_for_agent, access_request_get_for_user
from access.services import access_request_submit, approver_rule_for
from agent_mcp import answers, permissions
from agent_mcp.identity import Caller, Workload, person_of, workload_of
from approvals.rules import waiting_for
from credentials.services.exchange import ExchangeError, exchange
from decisions.effective import effective_access
from decisions.services.log import decide_and_record
from kernel.errors import ApplicationError, Forbidden, NotFound
from kernel.notice_event import link
from registry.models import Agent, Capability, Effect
from registry.selectors.agents import agent_get
from registry.selectors.catalogue import capability_get
from registry.selectors.policy import policy_latest_published, policy_rule_map


def agent_for(caller: Caller, slug: str) -> Agent:
    """The agent this call speaks for, once the caller may speak for it."""
    agent = agent_get(slug)
    refusal = permissions.act_for_refusal(caller, agent)
    if refusal:
        raise Forbidden(refusal)
    return agent


def check_access(caller: Caller, agent: Agent, capability: str, scope: str) -> answers.AccessCheck:
    """The decision a gateway would get, recorded in the decision log (audit evidence like any
    decision) with who asked: the person, or the agent's workload identity when it asks as
    itself."""
    result, decision_id = decide_and_record(
        agent_slug=agent.slug,
        capability_key=capability,
        scope=scope,
        caller=person_of(caller),
        workload=workload_of(caller),
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


def my_access(caller: Caller, agent: Agent) -> answers.EffectiveAccess:
    refusal = permissions.records_refusal(caller, agent)
    if refusal:
        raise Forbidden(refusal)
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
        for row in effective_access(agent.slug)
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


def request_status(caller: Caller, agent: Agent, request_id: int) -> answers.RequestStatusAnswer:
    """Where an access request for this agent stands; one the caller may not see, or for
    another agent, is as missing as one that does not exist."""
    missing = f"No access request #{request_id} for agent '{agent.slug}'."
    person = person_of(caller)
    try:
        found = (
            access_request_get_for_agent(agent, request_id)
            if person is None
            else access_request_get_for_user(person, request_id)
        )
    except NotFound:
        raise NotFound(missing) from None
    if found.agent_id != agent.pk:
        raise NotFound(missing)
    return status_answer(found)


def status_answer(found: AccessRequest) -> answers.RequestStatusAnswer:
    approvals = list(found.approvals.all())
    return answers.RequestStatusAnswer(
        id=found.pk,
        agent=found.agent.slug,
        capability=found.capability.key,
        scope=found.scope,
        duration_hours=found.duration_hours,
        status=found.status,
        requested_by=found.requested_by.get_username(),
        filed_by_agent=found.filed_by_agent,
        created_at=found.created_at,
        required_approvals=found.required_approvals,
        approvals=[
            answers.ApprovalAnswer(
                approver=a.approver.get_username(), at=a.created_at, comment=a.comment
            )
            for a in approvals
        ],
        waiting_for=_waiting_for(found, len(approvals)),
        decision_comment=found.decision_comment,
        grant=_grant_of(found),
        url=link(found.get_absolute_url()),
    )


def _waiting_for(found: AccessRequest, approved: int) -> str:
    if found.status == RequestStatus.AWAITING_OWNER:
        return (
            f"waiting for its owner {found.requested_by.get_username()} (or a member of team "
            f"{found.agent.team.slug}) to confirm it; security sees it only then"
        )
    if found.status == RequestStatus.PENDING:
        return waiting_for(approved, found.required_approvals)
    return ""


def request_access(
    caller: Caller,
    agent: Agent,
    *,
    capability: str,
    justification: str,
    duration_hours: int,
    scope: str,
    ticket: str,
) -> answers.RequestStatusAnswer:
    """File an access request through the portal's services, with their checks and refusals:
    as the person, or, for the agent acting as itself, "by agent X for owner Y", waiting for
    the owner (or the agent's team) to confirm it before security sees it."""
    asked = Asked(
        agent=agent,
        capability=capability_get(capability),
        justification=justification,
        duration_hours=duration_hours,
        scope=scope,
        ticket=ticket,
    )
    person = person_of(caller)
    if person is None:
        filed = agent_request_file(workload=cast(Workload, caller).identity, **asked)
    else:
        filed = access_request_submit(actor=person, **asked)
    return status_answer(access_request_get_for_agent(agent, filed.pk))


def get_credential(
    caller: Caller, agent: Agent, capabilities: list[str], scope: str
) -> answers.CredentialAnswer:
    """The token exchange for the agent acting as itself, its subject token the one it called
    with: each capability decided (and recorded) as for any exchange, a token only if all
    are allowed, for CREDENTIAL_MAX_TTL_SECONDS at most."""
    refusal = permissions.credential_refusal(caller)
    if refusal:
        raise Forbidden(refusal)
    spaced = next((c for c in capabilities if not c.strip() or c != "".join(c.split())), None)
    if spaced is not None:
        raise ApplicationError(
            f"capabilities: each one is a tool:action without spaces; '{spaced[:100]}' is not."
        )
    try:
        issued = exchange(
            subject_token=cast(Workload, caller).subject_token,
            scope=" ".join(capabilities),
            resource=[scope] if scope else [],
        )
    except ExchangeError as error:
        raise ApplicationError(error.description, code=error.error) from None
    body, credential = issued.as_response(), issued.credential
    return answers.CredentialAnswer(
        access_token=issued.access_token,
        token_type=str(body["token_type"]),
        expires_in=cast(int, body["expires_in"]),
        expires_at=credential.expires_at,
        scope=str(body["scope"]),
        resource=credential.resource,
        jti=credential.jti,
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
