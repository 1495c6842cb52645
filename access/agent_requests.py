"""Requests an agent files itself, acting as itself over MCP with its workload identity.

Filed "by agent X for owner Y" (`requested_by` is the owner), such a request waits in
`awaiting_owner`, out of security's queue, until the owner or a member of the agent's team
confirms it: judged again by the policy as it is then, it becomes pending (security's queue,
the staleness clock starting at the confirmation) or, just-in-time, approved with its grant.
Declined, it is cancelled with the reason. Unconfirmed, it expires like a pending request
(access.services.access_requests_expire_stale).
"""

from typing import Unpack

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from access import notifications, permissions
from access.filing import Asked, asked_of, check_duration, filing_checks, new_request
from access.limits import AGENT_FILED_AWAITING_MAX, WORKLOAD_MAX_LENGTH
from access.models import AccessRequest, RequestStatus
from access.services import PIPELINE, expire_if_stale, grant_issue, required_approvals_of
from approvals import services as approvals
from kernel.audit import audit_actor, audit_source
from kernel.errors import ApplicationError, Forbidden
from kernel.notifications import queue_notice
from kernel.validation import required_text
from registry.models import Effect


@transaction.atomic
def agent_request_file(*, workload: str, **asked: Unpack[Asked]) -> AccessRequest:
    """File what the agent asks for itself, for its owner to confirm. The same checks as a
    person's request, made for the owner (`workload`: who the agent authenticated as, shown
    on the request); the owner and the agent's team are told on commit, security is not."""
    agent = asked["agent"]
    owner = agent.owner
    awaiting = AccessRequest.objects.filter(agent=agent, status=RequestStatus.AWAITING_OWNER)
    if awaiting.count() >= AGENT_FILED_AWAITING_MAX:
        raise ApplicationError(
            f"Agent '{agent.slug}' already has {AGENT_FILED_AWAITING_MAX} requests awaiting its "
            "owner's confirmation: the owner or the agent's team confirms or declines those "
            "first.",
            code="too_many_awaiting",
        )
    if not owner.is_active:
        raise ApplicationError(
            f"Agent '{agent.slug}''s owner {owner.get_username()} has left: security gives the "
            "agent a new owner before it asks for access.",
            code="owner_inactive",
        )
    access_request = new_request(owner, asked)
    access_request.status = RequestStatus.AWAITING_OWNER
    access_request.required_approvals = required_approvals_of(access_request)
    access_request.filed_by_agent = True
    access_request.filed_by_workload = workload[:WORKLOAD_MAX_LENGTH]
    with audit_source(f"MCP: agent {agent.slug} ({workload})"[:200]):
        try:
            with transaction.atomic():
                access_request.save()
        except IntegrityError as exc:  # a concurrent request for the same access won the race
            raise ApplicationError(
                "A request for the same access is already open.", code="duplicate_request"
            ) from exc
    queue_notice(notifications.request_awaiting_owner, access_request.pk)
    return access_request


def check_awaiting_owner(actor: User, access_request: AccessRequest) -> None:
    """What confirming and declining both refuse: someone who does not run the agent, and a
    request that is not (or no longer) awaiting its owner."""
    refusal = permissions.confirm_refusal(actor, access_request)
    if refusal:
        raise Forbidden(refusal)
    if access_request.status != RequestStatus.AWAITING_OWNER:
        raise ApplicationError(
            f"Request #{access_request.pk} is {access_request.status}: only a request its agent "
            "filed, awaiting its owner's confirmation, is confirmed or declined.",
            code="invalid_transition",
        )


def agent_request_confirm(*, actor: User, access_request: AccessRequest) -> AccessRequest:
    """The owner (or a member of the agent's team) stands behind what the agent asked for.
    Judged again now (policy, agent, duration), it becomes pending and security is told; a
    just-in-time rule approves it at once with its grant. Who confirmed it never approves it.
    Unconfirmed past ACCESS_REQUEST_STALE_DAYS it has expired, even if beat never ran: it is
    moved to expired and the confirmation refused (security's clock would restart else)."""
    if expire_if_stale(
        actor,
        access_request,
        waiting=RequestStatus.AWAITING_OWNER,
        refusal=permissions.confirm_refusal,
    ):
        raise ApplicationError(
            f"Request #{access_request.pk} expired: nobody confirmed it within "
            f"{settings.ACCESS_REQUEST_STALE_DAYS} days. The agent asks again if it still "
            "needs the access.",
            code="expired",
        )
    return _confirm(actor, access_request)


@transaction.atomic
def _confirm(actor: User, access_request: AccessRequest) -> AccessRequest:
    locked = approvals.lock(access_request, "agent__team", "capability")
    check_awaiting_owner(actor, locked)
    # The checks of a new request, for the confirmer, under the policy published now.
    judged, rule = filing_checks(actor, asked_of(locked))
    check_duration(judged, rule)
    now = timezone.now()
    locked.effect, locked.policy_version = judged.effect, judged.policy_version
    locked.confirmed_by, locked.confirmed_at = actor, now
    locked.required_approvals = required_approvals_of(locked)
    PIPELINE.set_status(locked, RequestStatus.PENDING)
    fields = ["status", "effect", "policy_version", "confirmed_by", "confirmed_at"]
    if locked.effect == Effect.JIT:
        PIPELINE.set_status(locked, RequestStatus.APPROVED)
        locked.decided_at = now
        fields.append("decided_at")
    with audit_actor(actor):
        locked.save(update_fields=[*fields, "required_approvals"])
        if locked.status == RequestStatus.APPROVED:
            grant_issue(locked, now)
    notice = (
        notifications.request_decided
        if locked.status == RequestStatus.APPROVED
        else notifications.request_waiting
    )
    queue_notice(notice, locked.pk)
    return locked


@transaction.atomic
def agent_request_decline(
    *, actor: User, access_request: AccessRequest, reason: str
) -> AccessRequest:
    """The owner (or the agent's team) refuses what the agent asked for: cancelled, with the
    reason, before security ever sees it."""
    reason = required_text(reason, "reason", "Say why the agent should not have it (reason).")
    return approvals.close(
        actor=actor,
        subject=access_request,
        pipeline=PIPELINE,
        status=RequestStatus.CANCELLED,
        fields={
            "decided_at": timezone.now(),
            "decided_by": actor,
            "decision_comment": f"Declined by {actor.get_username()}: {reason}",
        },
        related=("agent__team",),
        check=lambda locked: check_awaiting_owner(actor, locked),
    )


@transaction.atomic
def decline_awaiting_of_leaver(user: User) -> int:
    """The owner left (kernel.accounts.person_left): what their agents filed for them to
    confirm is cancelled, by nobody, the leaver named as the trail's source. Locked in pk
    order, so a confirmation racing the deactivation either finished first (left out) or
    waits and then finds the request cancelled."""
    reason = f"Cancelled: {user.get_username()} left (deactivated) before confirming it."
    awaiting = list(
        AccessRequest.objects.select_for_update(of=("self",))
        .filter(requested_by=user, status=RequestStatus.AWAITING_OWNER)
        .order_by("pk")
    )
    with audit_source(f"Leaver: {user.get_username()} deactivated"):
        for access_request in awaiting:
            approvals.close(
                actor=None,
                subject=access_request,
                pipeline=PIPELINE,
                status=RequestStatus.CANCELLED,
                fields={"decided_at": timezone.now(), "decision_comment": reason},
            )
    return len(awaiting)
