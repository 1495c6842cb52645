"""What the final approval re-checks under the row lock: the present, not the moment of filing.

A request may wait days for its approvers; meanwhile the agent may be suspended, the policy
republished or the agent moved to production. Approving therefore judges the request again by
the agent and the policy as they are now (access.services.access_request_approve calls these
inside the approve transaction, on the locked row).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.template.defaultfilters import pluralize

from access.models import AccessRequest, RequestStatus
from kernel.errors import ApplicationError
from registry.models import AgentStatus, Effect, PolicyRule
from registry.selectors.policy import policy_latest_published

NUMBERS = {1: "one", 2: "two", 3: "three"}
# Requests still waiting for someone: their owner (filed by the agent), or security.
OPEN_STATUSES = (RequestStatus.AWAITING_OWNER, RequestStatus.PENDING)


@dataclass(frozen=True)
class Present:
    """What approving now means: the hours a grant may last, and why fewer than asked."""

    hours: int
    clamped: str = ""


def stale_cutoff(now: datetime) -> datetime:
    """Open requests waiting since before this moment have expired (ACCESS_REQUEST_STALE_DAYS)."""
    return now - timedelta(days=settings.ACCESS_REQUEST_STALE_DAYS)


def waiting_since(access_request: AccessRequest) -> datetime:
    """When the request began its present wait: when it was filed or, filed by its agent, when
    its owner confirmed it (security's clock starts then)."""
    return access_request.confirmed_at or access_request.created_at


def is_stale(access_request: AccessRequest, now: datetime) -> bool:
    """Whether a request has waited past ACCESS_REQUEST_STALE_DAYS, whether or not beat ran."""
    return waiting_since(access_request) < stale_cutoff(now)


def stale_q(now: datetime) -> Q:
    """`is_stale` for the ORM, over open requests: pending ones and those awaiting their
    owner's confirmation."""
    cutoff = stale_cutoff(now)
    waited = Q(confirmed_at__isnull=True, created_at__lt=cutoff) | Q(confirmed_at__lt=cutoff)
    return Q(status__in=OPEN_STATUSES) & waited


def current_rule(access_request: AccessRequest) -> PolicyRule:
    """The latest published rule for the agent's current tier and the capability, when it still
    gives grants (jit or approval); refuses, naming the version, when it no longer does."""
    agent, capability = access_request.agent, access_request.capability
    if agent.status != AgentStatus.ACTIVE:
        raise ApplicationError(
            f"Agent '{agent.slug}' is {agent.status}: it cannot receive access. "
            f"Deny request #{access_request.pk}.",
            code="agent_inactive",
        )
    version = policy_latest_published()
    rule = (
        version.rules.filter(tier=agent.tier, capability=capability).first()
        if version is not None
        else None
    )
    if version is None or rule is None or rule.effect not in (Effect.JIT, Effect.APPROVAL):
        now_says = rule.effect if rule else "no rule (so deny)"
        raise ApplicationError(
            f"Policy v{version.number if version else '—'} now says {now_says} for "
            f"{capability.key} on {agent.tier} agents: no grant can be issued. "
            f"Deny request #{access_request.pk}.",
            code="policy_changed",
        )
    return rule


def present(access_request: AccessRequest, *, required: int) -> Present:
    """Re-judge a pending request now: an active agent, a rule that still gives grants, and
    `required` approvers for its current tier (raised on the row when more are needed now,
    with the reason in `decision_comment`). Returns the hours a grant may last now."""
    rule = current_rule(access_request)
    if required > access_request.required_approvals:
        access_request.required_approvals = required
        access_request.decision_comment = (
            f"{access_request.agent.tier} now needs {NUMBERS.get(required, required)} "
            f"approvers for {access_request.capability.key}: waiting for a second."
        )
        access_request.save(update_fields=["required_approvals", "decision_comment"])
    limit = rule.max_duration_hours
    asked = access_request.duration_hours
    if limit is None or asked <= limit:
        return Present(hours=asked)
    return Present(
        hours=limit,
        clamped=(
            f"Granted for {limit} hour{pluralize(limit)}, the most policy "
            f"v{rule.version.number} allows now "
            f"for {access_request.capability.key} on {access_request.agent.tier} agents "
            f"({asked} asked)."
        ),
    )
