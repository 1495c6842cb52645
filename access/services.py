"""Just-in-time access: every transition of requests and grants, and nothing else.

Each transition runs in one transaction that re-reads the row with SELECT … FOR UPDATE, so
concurrent approvals are serialised on the request row: two simultaneous final approvals
issue exactly one grant, and a cancelled or denied request can never be approved.
Notifications are queued with transaction.on_commit, so nobody is told of a change that
rolled back.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Unpack

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from access import notifications, permissions, recheck
from access.filing import Asked, new_request
from access.models import AccessRequest, Grant, RequestStatus
from approvals import services as approvals
from approvals.rules import ApproverRule
from approvals.workflow import Pipeline
from kernel.audit import audit_actor
from kernel.errors import ApplicationError, Forbidden
from kernel.notifications import queue_notice
from kernel.permissions import Action, can
from kernel.validation import required_text
from registry.models import Agent, Capability, Effect, Tier

# The request pipeline: which statuses a request may move to from each status.
ALLOWED = {
    # Filed by its agent: the owner (or team) confirms it (pending; jit then approved at once),
    # declines it (cancelled), or lets it go stale (expired). Security cannot act on it yet.
    RequestStatus.AWAITING_OWNER: {
        RequestStatus.PENDING,
        RequestStatus.CANCELLED,
        RequestStatus.EXPIRED,
    },
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
PIPELINE = Pipeline(noun="request", allowed=ALLOWED)


def _set_status(access_request: AccessRequest, status: RequestStatus) -> None:
    PIPELINE.set_status(access_request, status)


def grant_issue(access_request: AccessRequest, now, hours: int | None = None) -> Grant:
    """The request's grant, from `now` for its hours (or fewer, `hours`, when clamped)."""
    return Grant.objects.create(
        agent_id=access_request.agent_id,
        capability_id=access_request.capability_id,
        scope=access_request.scope,
        starts_at=now,
        expires_at=now + timedelta(hours=hours or access_request.duration_hours),
        request=access_request,
    )


def approver_rule_for(agent: Agent, capability: Capability) -> ApproverRule:
    """Distinct security approvers a request that needs approval must have, and why (pages
    show it): two for a high-risk capability on a production agent, else one. Its count is
    stored on the request when filed (jit and break-glass store 0); reports read it back."""
    if capability.high_risk:
        return ApproverRule(2 if agent.tier == Tier.PRODUCTION else 1, f"{agent.tier} + high-risk")
    return ApproverRule(1, f"{agent.tier}, not high-risk")


def required_approvals_for(agent: Agent, capability: Capability) -> int:
    return approver_rule_for(agent, capability).count


def required_approvals_of(access_request: AccessRequest) -> int:
    """What a request stores when filed (or, filed by its agent, confirmed): none under a jit
    rule, approved by policy at once; else the approvers `approver_rule_for` asks."""
    if access_request.effect == Effect.JIT:
        return 0
    return required_approvals_for(access_request.agent, access_request.capability)


@transaction.atomic
def access_request_submit(*, actor: User, **asked: Unpack[Asked]) -> AccessRequest:
    """File a request, decided by the latest published policy for the agent's tier.

    `jit` is approved at once with a grant; `approval` waits for security; `deny`, no rule
    and `allow` are refused. Emergencies go through access.break_glass instead.
    """
    access_request = new_request(actor, asked)
    with audit_actor(actor):
        _file(access_request)
    return access_request


def _file(access_request: AccessRequest) -> None:
    """Save a new request: `jit` approved at once with its grant, `approval` left pending."""
    access_request.required_approvals = required_approvals_of(access_request)
    if access_request.effect == Effect.JIT:
        now = timezone.now()
        access_request.status = RequestStatus.APPROVED
        access_request.decided_at = now
        access_request.save()
        grant_issue(access_request, now)
        return
    try:
        with transaction.atomic():
            access_request.save()
    except IntegrityError as exc:  # a concurrent submit won the race
        raise ApplicationError(
            "The same access is already pending.", code="duplicate_request"
        ) from exc
    queue_notice(notifications.request_waiting, access_request.pk)


def access_request_approve(
    *, actor: User, access_request: AccessRequest, comment: str = ""
) -> AccessRequest:
    """Record one approval; the last required one approves the request and issues its grant.

    The request is judged again by the present (access.recheck): a request past
    ACCESS_REQUEST_STALE_DAYS is moved to expired and refused, even if beat never ran; an
    inactive agent or a rule that no longer gives grants is refused; more approvers needed now
    raise `required_approvals` (the request stays pending, `decision_comment` says why); the
    grant lasts at most what the current rule allows (`decision_comment` says so).
    """
    if expire_if_stale(actor, access_request):
        raise ApplicationError(
            f"Request #{access_request.pk} expired: nobody decided it within "
            f"{settings.ACCESS_REQUEST_STALE_DAYS} days. Ask for a new request.",
            code="expired",
        )
    return _approve(actor=actor, access_request=access_request, comment=comment)


@transaction.atomic
def expire_if_stale(
    actor: User,
    access_request: AccessRequest,
    *,
    waiting: str = RequestStatus.PENDING,
    refusal: Callable[[User, AccessRequest], str | None] = permissions.approval_refusal,
) -> bool:
    """Expire a stale request still `waiting` (pending; or awaiting its owner) now, in its own
    transaction, so the refusal that follows does not roll the expiry back. Someone the step
    turns away (`refusal`: approving; or confirming) changes nothing: the step names why."""
    locked = approvals.lock(access_request, "agent__team")
    now = timezone.now()
    if locked.status != waiting or not recheck.is_stale(locked, now):
        return False
    if refusal(actor, locked):
        return False
    request_expire(locked, now)
    return True


@transaction.atomic
def _approve(*, actor: User, access_request: AccessRequest, comment: str) -> AccessRequest:
    now = timezone.now()
    final_fields: dict[str, object] = {"decided_at": now, "decided_by": actor}
    granted: list[recheck.Present] = []

    def check(locked: AccessRequest) -> None:
        judged = recheck.present(
            locked, required=required_approvals_for(locked.agent, locked.capability)
        )
        granted.append(judged)
        if judged.clamped:
            final_fields["decision_comment"] = judged.clamped

    result = approvals.approve(
        actor=actor,
        subject=access_request,
        pipeline=PIPELINE,
        approved=RequestStatus.APPROVED,
        refusal=permissions.approval_refusal,
        comment=comment,
        related=("agent", "capability"),
        check=check,
        final_fields=final_fields,  # `check` adds the clamping note, read after it runs
    )
    if result.final:
        with audit_actor(actor):
            grant_issue(result.subject, now, hours=granted[0].hours)
        queue_notice(notifications.request_decided, result.subject.pk)
    return result.subject


@transaction.atomic
def access_request_deny(
    *, actor: User, access_request: AccessRequest, comment: str
) -> AccessRequest:
    if not can(actor, Action.APPROVE):
        raise Forbidden("Only security denies access requests.")
    comment = required_text(comment, "comment", "Say why the request is denied (comment).")
    return approvals.close(
        actor=actor,
        subject=access_request,
        pipeline=PIPELINE,
        status=RequestStatus.DENIED,
        fields={"decided_at": timezone.now(), "decided_by": actor, "decision_comment": comment},
        notice=notifications.request_decided,
    )


@transaction.atomic
def access_request_cancel(*, actor: User, access_request: AccessRequest) -> AccessRequest:
    # Who filed a request never changes, so the unlocked row can answer who may cancel it.
    if access_request.requested_by_id != actor.pk:
        raise Forbidden("Only the person who filed the request can cancel it.")
    return approvals.close(
        actor=actor,
        subject=access_request,
        pipeline=PIPELINE,
        status=RequestStatus.CANCELLED,
        fields={"decided_at": timezone.now()},
        check=refuse_if_awaiting_owner,
    )


def refuse_if_awaiting_owner(access_request: AccessRequest) -> None:
    """What its agent filed is declined with a reason (access.agent_requests), not cancelled."""
    if access_request.status == RequestStatus.AWAITING_OWNER:
        raise ApplicationError(
            f"Request #{access_request.pk} was filed by agent '{access_request.agent.slug}' "
            "and awaits its owner's confirmation: confirm it, or decline it with a reason.",
            code="invalid_transition",
        )


def cancel_pending_of_leaver(user: User) -> int:
    """The person left: their pending requests are cancelled, `decision_comment` saying why.
    Their grants, break-glass reviews and decided requests stay as they are."""
    return approvals.close_pending_of_leaver(
        user,
        AccessRequest,
        pipeline=PIPELINE,
        status=RequestStatus.CANCELLED,
        fields=lambda reason: {"decided_at": timezone.now(), "decision_comment": reason},
    )


@transaction.atomic
def access_requests_expire_stale(*, now=None) -> int:
    """Requests nobody decided (or, filed by their agent, nobody confirmed) within
    ACCESS_REQUEST_STALE_DAYS expire; requesters are told."""
    now = now or timezone.now()
    stale = list(
        AccessRequest.objects.select_for_update(skip_locked=True)
        .filter(recheck.stale_q(now))
        .order_by("pk")
    )
    for access_request in stale:
        request_expire(access_request, now)
    return len(stale)


def request_expire(access_request: AccessRequest, now) -> None:
    """Move a locked, stale open request to expired; its requester is told on commit."""
    unconfirmed = access_request.status == RequestStatus.AWAITING_OWNER
    _set_status(access_request, RequestStatus.EXPIRED)
    access_request.decided_at = now
    access_request.decision_comment = (
        f"Not {'confirmed by its owner' if unconfirmed else 'decided'} within "
        f"{settings.ACCESS_REQUEST_STALE_DAYS} days."
    )
    access_request.save(update_fields=["status", "decided_at", "decision_comment"])
    queue_notice(notifications.request_decided, access_request.pk)


@transaction.atomic
def break_glass_review(*, actor: User, access_request: AccessRequest, note: str) -> AccessRequest:
    """Security looks at an emergency grant after the fact; it leaves the review queue."""
    access_request = approvals.lock(access_request, "agent")
    if not can(actor, Action.APPROVE):
        raise Forbidden("Only security reviews break-glass access.")
    refused = permissions.break_glass_review_refusal(actor, access_request)
    if refused:
        raise Forbidden(refused)
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
    """Security ends a grant now. Decisions stop allowing it from this moment; the agent's owner
    and whoever asked for the grant are told."""
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
    queue_notice(notifications.grant_revoked, grant.pk)
    return grant
