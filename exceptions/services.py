"""Policy exceptions: every transition, and nothing else.

Pipeline: pending → active | rejected | withdrawn; active → expired | revoked (ALLOWED below).
Each transition runs in one transaction that re-reads the row with SELECT … FOR UPDATE, so two
security members pressing the final Approve at once activate the exception exactly once, and a
rejected or withdrawn exception can never be approved. Notifications go out on commit.
"""

from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from approvals import services as approvals
from approvals.rules import ApproverRule
from approvals.workflow import Pipeline
from controls.selectors import default_controls_for_capability
from exceptions import notifications, permissions, renewals
from exceptions.limits import (
    ELEVATED_RISKS,
    MAX_DAYS,
    TITLE_MAX_LENGTH,
    TITLE_NEEDED,
    WHY_NEEDED,
)
from exceptions.models import (
    ExceptionStatus,
    PolicyException,
    Risk,
)
from exceptions.rules import (
    END_IN_PAST,
    compensating_controls_refusal,
    renewal_end_refusal,
    risk_floor,
    risk_floor_refusal,
    standing_allow_refusal,
    start_refusal,
    window_refusal,
)
from exceptions.selectors import pending_exception_for
from kernel.audit import audit_actor
from kernel.errors import ApplicationError, Forbidden
from kernel.notifications import queue_notice
from kernel.validation import required_text, year_refusal
from registry.models import Agent, AgentStatus, Capability

ALLOWED: dict[ExceptionStatus, set[ExceptionStatus]] = {
    ExceptionStatus.PENDING: {
        ExceptionStatus.ACTIVE,
        ExceptionStatus.REJECTED,
        ExceptionStatus.WITHDRAWN,
    },
    ExceptionStatus.ACTIVE: {ExceptionStatus.EXPIRED, ExceptionStatus.REVOKED},
    ExceptionStatus.REJECTED: set(),
    ExceptionStatus.EXPIRED: set(),
    ExceptionStatus.REVOKED: set(),
    ExceptionStatus.WITHDRAWN: set(),
}
PIPELINE = Pipeline(noun="exception", allowed=ALLOWED)


def set_status(exception: PolicyException, status: ExceptionStatus) -> None:
    """The one place a status changes; refuses every move the pipeline does not allow."""
    PIPELINE.set_status(exception, status)


def _lock(exception: PolicyException) -> PolicyException:
    return approvals.lock(exception, "agent", "agent__team")


def _aware(value: datetime, field: str) -> datetime:
    """A time as the portal stores it (naive: the default zone), within the years 1970 to 2999
    once in UTC (kernel.validation.year_refusal)."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    if refusal := year_refusal(value, field):
        raise ApplicationError(refusal, field=field, code="out_of_range")
    return value


def approver_rule_for(risk: str) -> ApproverRule:
    """Distinct security approvers an exception needs, and why: two for high and critical
    risk, else one. Pages show the reason with it."""
    return ApproverRule(2 if risk in ELEVATED_RISKS else 1, f"{risk} risk")


def required_approvals_for(risk: str) -> int:
    """`approver_rule_for(risk).count`. Stored on the exception when filed
    (`required_approvals`); reports read it back."""
    return approver_rule_for(risk).count


def check_window(*, risk: str, starts_at: datetime, expires_at: datetime, early: str = "") -> None:
    """expires_at after starts_at (else `early`), at most MAX_DAYS[risk] days after (rules)."""
    refusal = window_refusal(risk, starts_at, expires_at, early)
    if refusal is None:
        return
    if expires_at <= starts_at:
        raise ApplicationError(refusal, field="expires_at", code="invalid_window")
    raise ApplicationError(refusal, field="expires_at", code="too_long", max_days=MAX_DAYS[risk])


def _check_subject(actor: User, agent: Agent, capability: Capability | None) -> Capability:
    """Who may file for this agent, and whether the agent and capability can take one."""
    refusal = permissions.request_refusal(actor, agent)
    if refusal:
        raise Forbidden(refusal)
    if agent.status != AgentStatus.ACTIVE:
        raise ApplicationError(
            f"Agent '{agent.slug}' is {agent.status}: it cannot receive an exception.",
            code="agent_inactive",
            field="agent",
        )
    if capability is None:
        raise ApplicationError(
            "Name the capability whose policy rule this exception deviates from.",
            field="capability",
        )
    return capability


def _refuse_duplicate(agent: Agent, capability: Capability) -> None:
    duplicate = pending_exception_for(agent, capability)
    if duplicate is not None:
        raise ApplicationError(
            f"Exception #{duplicate} for {capability.key} on {agent.slug} is already pending.",
            code="duplicate_exception",
            exception_id=duplicate,
        )


def _check_risk(risk: str, compensating_controls: str) -> str:
    if risk not in Risk.values:
        raise ApplicationError(
            f"risk is one of {', '.join(Risk.values)}; got '{risk}'.", field="risk"
        )
    refusal = compensating_controls_refusal(risk, compensating_controls)
    if refusal:
        raise ApplicationError(
            refusal, field="compensating_controls", code="compensating_controls_required"
        )
    return compensating_controls.strip()


def check_risk_floor(risk: str, agent: Agent, capability: Capability) -> None:
    """Refuse a risk below the floor of this agent and capability (rules.risk_floor)."""
    reason = risk_floor_refusal(risk, agent, capability)
    if reason:
        raise ApplicationError(
            reason,
            field="risk",
            code="risk_below_floor",
            floor=str(risk_floor(agent, capability)),
        )


def _file(actor: User, exception: PolicyException, controls: list, early: str) -> PolicyException:
    """Check and save a new pending exception (`exception` as asked for, unsaved), then tell
    security. No `controls`: those that govern its capability."""
    agent, risk = exception.agent, exception.risk
    capability = _check_subject(actor, agent, exception.capability)
    exception.title = required_text(exception.title, "title", TITLE_NEEDED, limit=TITLE_MAX_LENGTH)
    exception.justification = required_text(exception.justification, "justification", WHY_NEEDED)
    exception.compensating_controls = _check_risk(risk, exception.compensating_controls)
    check_risk_floor(risk, agent, capability)
    if not controls and (nothing := standing_allow_refusal(agent, capability)):
        raise ApplicationError(nothing, field="capability", code="standing_allow")
    start, end = exception.starts_at, exception.expires_at
    check_window(risk=risk, starts_at=start, expires_at=end, early=early)
    renewals.refuse_stacking(exception, timezone.now())  # first: it takes the pair's lock
    _refuse_duplicate(agent, capability)
    exception.requested_by = actor
    exception.required_approvals = required_approvals_for(risk)
    if not controls:
        controls = list(default_controls_for_capability(capability))
    with audit_actor(actor):
        exception.save()
        exception.controls.set(controls)
    queue_notice(notifications.exception_waiting, exception.pk)
    return exception


@transaction.atomic
def exception_request(
    *,
    actor: User,
    title: str,
    agent: Agent,
    capability: Capability | None,
    justification: str,
    risk: str,
    expires_at: datetime,
    compensating_controls: str = "",
    starts_at: datetime | None = None,
    controls: list | None = None,
) -> PolicyException:
    """File a pending exception; it needs one security approval, two for high and critical.

    `controls` are the internal controls it deviates from; none given means those that
    govern its capability (controls.selectors.default_controls_for_capability).
    """
    now = timezone.now()
    early = END_IN_PAST if starts_at is None else ""
    starts_at = now if starts_at is None else _aware(starts_at, "starts_at")
    expires_at = _aware(expires_at, "expires_at")
    if refusal := start_refusal(starts_at, now):
        code = "starts_in_past" if starts_at < now else "starts_too_far_ahead"
        raise ApplicationError(refusal, field="starts_at", code=code)
    asked = PolicyException(
        title=title,
        agent=agent,
        capability=capability,
        justification=justification,
        risk=risk,
        compensating_controls=compensating_controls,
        starts_at=starts_at,
        expires_at=expires_at,
    )
    return _file(actor, asked, controls or [], early)


@transaction.atomic
def exception_renew(
    *, actor: User, exception: PolicyException, expires_at: datetime, justification: str
) -> PolicyException:
    """File a new pending exception that continues this one from its expiry.

    The old one stays active until its own expiry; the renewal starts then, so there is no gap
    and no overlap, and its maximum length is counted from there. It is approved like any other.
    One renewal at a time, of an exception in force (exceptions.renewals).
    """
    old = _lock(exception)
    refusal = permissions.renewal_refusal(actor, old)
    if refusal:
        raise Forbidden(refusal)
    now = timezone.now()
    if blocked := renewals.renewal_block(old, now, open_renewals=False):
        raise blocked
    expires_at = _aware(expires_at, "expires_at")
    late = renewal_end_refusal(old.expires_at)
    check_window(risk=old.risk, starts_at=old.expires_at, expires_at=expires_at, early=late)
    if blocked := renewals.renewal_block(old, now):
        raise blocked
    renewal = PolicyException(
        title=old.title,
        agent=old.agent,
        capability=old.capability,
        justification=justification,
        risk=old.risk,
        compensating_controls=old.compensating_controls,
        starts_at=old.expires_at,
        expires_at=expires_at,
        renews=old,
    )
    return _file(actor, renewal, list(old.controls.all()), late)


@transaction.atomic
def exception_approve(
    *, actor: User, exception: PolicyException, comment: str = ""
) -> PolicyException:
    """Record one approval; the last required one activates the exception."""
    now = timezone.now()

    def check(locked: PolicyException) -> None:
        # Judged again by the present: the agent may have been suspended or moved to
        # production, or the capability marked high-risk, since it was filed.
        if locked.agent.status != AgentStatus.ACTIVE:
            raise ApplicationError(
                f"Agent '{locked.agent.slug}' is {locked.agent.status}: it cannot receive an "
                f"exception. Reject exception #{locked.pk}.",
                code="agent_inactive",
            )
        if locked.capability is not None:
            check_risk_floor(locked.risk, locked.agent, locked.capability)
        renewals.refuse_overlap(locked, now)
        if locked.expires_at <= now:
            raise ApplicationError(
                f"Exception #{locked.pk} would have expired at "
                f"{locked.expires_at:%Y-%m-%d %H:%M} UTC: reject it and ask for a new one.",
                code="window_passed",
            )
        renewals.refuse_stacking(locked, now)

    result = approvals.approve(
        actor=actor,
        subject=exception,
        pipeline=PIPELINE,
        approved=ExceptionStatus.ACTIVE,
        refusal=permissions.approval_refusal,
        comment=comment,
        related=("agent", "agent__team", "capability"),
        check=check,
        final_fields={"activated_at": now},
    )
    if result.final:
        queue_notice(notifications.exception_decided, result.subject.pk)
    return result.subject


@transaction.atomic
def exception_reject(*, actor: User, exception: PolicyException, comment: str) -> PolicyException:
    if not permissions.can_reject(actor):
        raise Forbidden("Only security rejects exceptions.")
    comment = required_text(comment, "comment", "Say why the exception is rejected (comment).")
    return approvals.close(
        actor=actor,
        subject=exception,
        pipeline=PIPELINE,
        status=ExceptionStatus.REJECTED,
        fields={"rejected_at": timezone.now(), "rejected_by": actor, "rejection_comment": comment},
        related=("agent", "agent__team"),
        notice=notifications.exception_decided,
    )


def check_withdrawable(exception: PolicyException) -> None:
    """Only a pending exception is withdrawn; the refusal says what to do instead."""
    if exception.status == ExceptionStatus.PENDING:
        return
    instead = (
        " It is in force: ask security to revoke it if it is no longer needed."
        if exception.status == ExceptionStatus.ACTIVE
        else ""
    )
    raise ApplicationError(
        f"Exception #{exception.pk} is {exception.status}: only a pending exception request "
        f"can be withdrawn.{instead}",
        code="invalid_transition",
    )


@transaction.atomic
def exception_withdraw(*, actor: User, exception: PolicyException) -> PolicyException:
    """The requester takes back a pending exception: it leaves security's queue, can no
    longer be approved and was never in force. Security, told it waits, is told it is gone."""
    # Who requested it never changes, so the unlocked row can answer who may withdraw it.
    if not permissions.can_withdraw(actor, exception):
        raise Forbidden(permissions.WITHDRAW_REFUSAL)
    return approvals.close(
        actor=actor,
        subject=exception,
        pipeline=PIPELINE,
        status=ExceptionStatus.WITHDRAWN,
        fields={"withdrawn_at": timezone.now()},
        related=("agent", "agent__team"),
        check=check_withdrawable,
        notice=notifications.exception_withdrawn,
    )


def cancel_pending_of_leaver(user: User) -> int:
    """The person left: the exceptions they asked for that still wait for approval are
    rejected by nobody, `rejection_comment` saying why; the agent's owner is told. Active
    ones stay in force until they expire or security revokes them."""
    return approvals.close_pending_of_leaver(
        user,
        PolicyException,
        pipeline=PIPELINE,
        status=ExceptionStatus.REJECTED,
        fields=lambda reason: {
            "rejected_at": timezone.now(),
            "rejected_by": None,
            "rejection_comment": reason,
        },
        notice=notifications.exception_decided,
    )


@transaction.atomic
def exception_revoke(*, actor: User, exception: PolicyException, reason: str) -> PolicyException:
    """Security ends an active exception now: decisions stop honouring it from this moment."""
    if not permissions.can_revoke(actor):
        raise Forbidden("Only security revokes exceptions.")
    reason = required_text(reason, "reason", "Say why the exception is revoked (reason).")
    now = timezone.now()

    def check(locked: PolicyException) -> None:
        if locked.status == ExceptionStatus.ACTIVE and locked.expires_at <= now:
            raise ApplicationError(
                f"Exception #{locked.pk} has expired already.", code="invalid_transition"
            )

    return approvals.close(
        actor=actor,
        subject=exception,
        pipeline=PIPELINE,
        status=ExceptionStatus.REVOKED,
        fields={"revoked_at": now, "revoked_by": actor, "revoke_reason": reason},
        related=("agent", "agent__team"),
        check=check,
        notice=notifications.exception_decided,
    )
