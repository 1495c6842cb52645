"""Just-in-time access: every transition of requests and grants, and nothing else.

Each transition runs in one transaction that re-reads the row with SELECT … FOR UPDATE, so
concurrent approvals are serialised on the request row: two simultaneous final approvals
issue exactly one grant, and a cancelled or denied request can never be approved.
Notifications are queued with transaction.on_commit, so nobody is told of a change that
rolled back.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from access import notifications, permissions
from access.models import AccessRequest, Approval, Grant, RequestStatus
from kernel.audit import audit_actor
from kernel.errors import ApplicationError, Forbidden
from kernel.notifications import queue_notice
from kernel.permissions import Action, can
from kernel.validation import required_text
from registry.models import Agent, AgentStatus, Capability, Effect, Tier
from registry.selectors.policy import policy_latest_published

# The request pipeline: which statuses a request may move to from each status.
ALLOWED = {
    RequestStatus.PENDING: {
        RequestStatus.APPROVED,
        RequestStatus.DENIED,
        RequestStatus.CANCELLED,
        RequestStatus.EXPIRED,
    },
    RequestStatus.APPROVED: set(),
    RequestStatus.DENIED: set(),
    RequestStatus.CANCELLED: set(),
    RequestStatus.EXPIRED: set(),
}


def _set_status(access_request: AccessRequest, status: RequestStatus) -> None:
    current = RequestStatus(access_request.status)
    if status not in ALLOWED[current]:
        raise ApplicationError(
            f"Request #{access_request.pk} is {current}; it cannot become {status}.",
            code="invalid_transition",
        )
    access_request.status = status


def _lock(access_request: AccessRequest) -> AccessRequest:
    return AccessRequest.objects.select_for_update(of=("self",)).get(pk=access_request.pk)


def _issue_grant(access_request: AccessRequest, now) -> Grant:
    return Grant.objects.create(
        agent_id=access_request.agent_id,
        capability_id=access_request.capability_id,
        scope=access_request.scope,
        starts_at=now,
        expires_at=now + timedelta(hours=access_request.duration_hours),
        request=access_request,
    )


def _required_approvals(agent: Agent, capability: Capability) -> int:
    """Two distinct approvers for a high-risk capability on a production agent, else one."""
    return 2 if capability.high_risk and agent.tier == Tier.PRODUCTION else 1


@transaction.atomic
def access_request_submit(
    *,
    actor: User,
    agent: Agent,
    capability: Capability,
    justification: str,
    duration_hours: int,
    scope: str = "",
    ticket: str = "",
    break_glass: bool = False,
    incident: str = "",
) -> AccessRequest:
    """File a request, decided by the latest published policy for the agent's tier.

    `jit` is approved at once with a grant; `approval` waits for security; `deny`, no rule
    and `allow` are refused. Break-glass takes an emergency grant at once (see below).
    """
    if not permissions.can_request_for(actor, agent):
        raise Forbidden(
            f"Only the owner of '{agent.slug}' or a member of team '{agent.team.slug}' "
            "requests access for it."
        )
    if agent.status != AgentStatus.ACTIVE:
        raise ApplicationError(
            f"Agent '{agent.slug}' is {agent.status}: it cannot receive access.",
            code="agent_inactive",
        )
    justification = required_text(
        justification, "justification", "Say why the agent needs this access (justification)."
    )
    if isinstance(duration_hours, bool) or not isinstance(duration_hours, int):
        raise ApplicationError(
            "duration_hours must be a whole number of hours.", field="duration_hours"
        )
    if duration_hours < 1:
        raise ApplicationError("duration_hours must be at least 1.", field="duration_hours")
    if not isinstance(scope, str) or len(scope) > 500:
        raise ApplicationError("scope is a pattern of at most 500 characters.", field="scope")
    version = policy_latest_published()
    rule = version.rules.filter(tier=agent.tier, capability=capability).first() if version else None
    where = f"{capability.key} on {agent.tier} agents"
    if rule is None or rule.effect == Effect.DENY:
        reason = "denies" if rule else "has no rule for (so it denies)"
        raise ApplicationError(
            f"Policy v{version.number if version else '—'} {reason} {where}. "
            "To ask for a deviation, file a policy exception at /exceptions/new/.",
            code="policy_deny",
            field="capability",
        )
    if rule.effect == Effect.ALLOW:
        raise ApplicationError(
            f"Nothing to request: policy v{version.number} allows {where} standing.",
            code="standing_allow",
            field="capability",
        )
    limit = rule.max_duration_hours
    if break_glass:
        return _break_glass(
            actor=actor,
            agent=agent,
            capability=capability,
            rule_effect=rule.effect,
            version=version.number,
            justification=justification,
            duration_hours=duration_hours,
            scope=scope,
            ticket=ticket,
            incident=incident,
        )
    if duration_hours > limit:
        raise ApplicationError(
            f"{duration_hours} hours is longer than policy v{version.number} allows for {where}: "
            f"the maximum is {limit} hours.",
            code="duration_too_long",
            field="duration_hours",
            max_duration_hours=limit,
        )
    duplicate = AccessRequest.objects.filter(
        agent=agent, capability=capability, scope=scope, status=RequestStatus.PENDING
    ).first()
    if duplicate is not None:
        raise ApplicationError(
            f"Request #{duplicate.pk} for the same access is already pending.",
            code="duplicate_request",
        )
    now = timezone.now()
    access_request = AccessRequest(
        agent=agent,
        capability=capability,
        scope=scope,
        justification=justification,
        ticket=ticket[:100],
        duration_hours=duration_hours,
        requested_by=actor,
        effect=rule.effect,
        policy_version=version.number,
    )
    with audit_actor(actor):
        if rule.effect == Effect.JIT:
            access_request.status = RequestStatus.APPROVED
            access_request.decided_at = now
            access_request.save()
            _issue_grant(access_request, now)
        else:
            access_request.required_approvals = _required_approvals(agent, capability)
            try:
                with transaction.atomic():
                    access_request.save()
            except IntegrityError as exc:  # a concurrent submit won the race
                raise ApplicationError(
                    "The same access is already pending.", code="duplicate_request"
                ) from exc
            queue_notice(notifications.request_waiting, access_request.pk)
    return access_request


def _break_glass(
    *,
    actor: User,
    agent: Agent,
    capability: Capability,
    rule_effect: str,
    version: int,
    justification: str,
    duration_hours: int,
    scope: str,
    ticket: str,
    incident: str,
) -> AccessRequest:
    """Emergency access for a production agent's owner: issued now, reviewed after the fact."""
    if agent.tier != Tier.PRODUCTION or rule_effect != Effect.APPROVAL:
        raise ApplicationError(
            "Break-glass is for capabilities that need approval on production agents.",
            code="break_glass_not_applicable",
        )
    if agent.owner_id != actor.pk:
        raise Forbidden("Only the agent's owner may break glass.")
    incident = required_text(
        incident, "incident", "Break-glass needs an incident reference.", limit=100
    )
    ceiling = settings.BREAK_GLASS_MAX_HOURS
    if duration_hours > ceiling:
        raise ApplicationError(
            f"Break-glass access lasts at most {ceiling} hour(s).",
            code="duration_too_long",
            field="duration_hours",
            max_duration_hours=ceiling,
        )
    now = timezone.now()
    access_request = AccessRequest(
        agent=agent,
        capability=capability,
        scope=scope,
        justification=justification,
        ticket=ticket[:100],
        duration_hours=duration_hours,
        requested_by=actor,
        effect=rule_effect,
        policy_version=version,
        break_glass=True,
        incident=incident,
        status=RequestStatus.APPROVED,
        decided_at=now,
    )
    with audit_actor(actor):
        access_request.save()
        _issue_grant(access_request, now)
    queue_notice(notifications.break_glass_alert, access_request.pk)
    return access_request


@transaction.atomic
def access_request_approve(
    *, actor: User, access_request: AccessRequest, comment: str = ""
) -> AccessRequest:
    """Record one approval; the last required one approves the request and issues its grant."""
    access_request = _lock(access_request)
    refusal = permissions.approval_refusal(actor, access_request)
    if refusal:
        raise Forbidden(refusal)
    if access_request.status != RequestStatus.PENDING:
        _set_status(access_request, RequestStatus.APPROVED)  # raises with the current status
    if permissions.has_approved(actor, access_request):
        raise ApplicationError(
            "You have approved this request already; another security member must approve.",
            code="already_approved",
        )
    with audit_actor(actor):
        try:
            with transaction.atomic():
                Approval.objects.create(
                    request=access_request, approver=actor, comment=(comment or "")[:4000]
                )
        except IntegrityError as exc:
            raise ApplicationError(
                "You have approved this request already.", code="already_approved"
            ) from exc
        if access_request.approvals.count() >= access_request.required_approvals:
            now = timezone.now()
            _set_status(access_request, RequestStatus.APPROVED)
            access_request.decided_at = now
            access_request.decided_by = actor
            access_request.save(update_fields=["status", "decided_at", "decided_by"])
            _issue_grant(access_request, now)
            queue_notice(notifications.request_decided, access_request.pk)
    return access_request


@transaction.atomic
def access_request_deny(
    *, actor: User, access_request: AccessRequest, comment: str
) -> AccessRequest:
    access_request = _lock(access_request)
    if not can(actor, Action.APPROVE):
        raise Forbidden("Only security denies access requests.")
    comment = required_text(comment, "comment", "Say why the request is denied (comment).")
    _set_status(access_request, RequestStatus.DENIED)
    access_request.decided_at = timezone.now()
    access_request.decided_by = actor
    access_request.decision_comment = comment
    with audit_actor(actor):
        access_request.save(
            update_fields=["status", "decided_at", "decided_by", "decision_comment"]
        )
    queue_notice(notifications.request_decided, access_request.pk)
    return access_request


@transaction.atomic
def access_request_cancel(*, actor: User, access_request: AccessRequest) -> AccessRequest:
    access_request = _lock(access_request)
    if access_request.requested_by_id != actor.pk:
        raise Forbidden("Only the person who filed the request can cancel it.")
    _set_status(access_request, RequestStatus.CANCELLED)
    access_request.decided_at = timezone.now()
    with audit_actor(actor):
        access_request.save(update_fields=["status", "decided_at"])
    return access_request


@transaction.atomic
def access_requests_expire_stale(*, now=None) -> int:
    """Pending requests nobody decided in ACCESS_REQUEST_STALE_DAYS expire; requesters are told."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.ACCESS_REQUEST_STALE_DAYS)
    stale = list(
        AccessRequest.objects.select_for_update(skip_locked=True)
        .filter(status=RequestStatus.PENDING, created_at__lt=cutoff)
        .order_by("pk")
    )
    for access_request in stale:
        _set_status(access_request, RequestStatus.EXPIRED)
        access_request.decided_at = now
        access_request.decision_comment = (
            f"Not decided within {settings.ACCESS_REQUEST_STALE_DAYS} days."
        )
        access_request.save(update_fields=["status", "decided_at", "decision_comment"])
        queue_notice(notifications.request_decided, access_request.pk)
    return len(stale)


@transaction.atomic
def break_glass_review(*, actor: User, access_request: AccessRequest, note: str) -> AccessRequest:
    """Security looks at an emergency grant after the fact; it leaves the review queue."""
    access_request = _lock(access_request)
    if not can(actor, Action.APPROVE):
        raise Forbidden("Only security reviews break-glass access.")
    if access_request.requested_by_id == actor.pk:
        raise Forbidden("You cannot review your own break-glass access.")
    if not access_request.break_glass:
        raise ApplicationError("This request did not break glass.", code="not_break_glass")
    if access_request.break_glass_reviewed_at is not None:
        raise ApplicationError(
            "This break-glass access was reviewed already.", code="already_reviewed"
        )
    access_request.break_glass_review_note = required_text(
        note, "note", "Say what the review found (note)."
    )
    access_request.break_glass_reviewed_by = actor
    access_request.break_glass_reviewed_at = timezone.now()
    with audit_actor(actor):
        access_request.save(
            update_fields=[
                "break_glass_review_note",
                "break_glass_reviewed_by",
                "break_glass_reviewed_at",
            ]
        )
    return access_request


@transaction.atomic
def grant_revoke(*, actor: User, grant: Grant, reason: str) -> Grant:
    """Security ends a grant now. Decisions stop allowing it from this moment."""
    if not can(actor, Action.APPROVE):
        raise Forbidden("Only security revokes grants.")
    reason = required_text(reason, "reason", "Say why the grant is revoked (reason).")
    grant = Grant.objects.select_for_update().get(pk=grant.pk)
    now = timezone.now()
    if grant.revoked_at is not None:
        raise ApplicationError(f"Grant #{grant.pk} was revoked already.", code="invalid_transition")
    if grant.expires_at <= now:
        raise ApplicationError(f"Grant #{grant.pk} has expired already.", code="invalid_transition")
    grant.revoked_at = now
    grant.revoked_by = actor
    grant.revoke_reason = reason
    with audit_actor(actor):
        grant.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    return grant
