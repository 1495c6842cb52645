"""Identity bindings: who adds them, when they take effect, and the security approval.

A binding on a production agent waits for one security approval (the shared approval
workflow, approvals.services); on any other tier it is active when added. When the agent's
tier changes, its bindings follow (bindings_follow_tier): pending again on production until
security approves, active again below it, and the people concerned are told. Removing a binding
keeps the row (status "removed"), so credentials issued through it stay explained.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from approvals import services as approvals
from approvals.workflow import Pipeline
from credentials import notifications, permissions
from credentials.limits import (
    CLAIM_NAME_MAX_LENGTH,
    CLAIM_VALUE_MAX_LENGTH,
    CLAIMS_MAX,
    SUBJECT_MAX_LENGTH,
)
from credentials.models import BindingApproval, BindingStatus, IdentityBinding, TrustProvider
from credentials.rules import bindings_overlap, required_approvals_for
from credentials.selectors import live_bindings_of_subject, overlapping_binding
from kernel.audit import audit_actor
from kernel.errors import ApplicationError, Forbidden
from kernel.notifications import Notice, queue_notice
from kernel.permissions import Action, require
from kernel.validation import required_text
from registry.models import Agent, AgentStatus

PIPELINE: Pipeline[BindingStatus] = Pipeline(
    "binding",
    {
        BindingStatus.PENDING: (
            BindingStatus.ACTIVE,
            BindingStatus.REJECTED,
            BindingStatus.REMOVED,
        ),
        # Back to pending when the agent's tier needs more approvals (bindings_reapproval).
        BindingStatus.ACTIVE: (BindingStatus.PENDING, BindingStatus.REMOVED),
    },
)


def check_claims(claims: Any) -> dict[str, str]:
    if not isinstance(claims, dict):
        raise ApplicationError("claims: an object of claim name to value or glob.", field="claims")
    if len(claims) > CLAIMS_MAX:
        raise ApplicationError(f"claims: at most {CLAIMS_MAX} constraints.", field="claims")
    for name, value in claims.items():
        if not name.strip() or len(name) > CLAIM_NAME_MAX_LENGTH:
            raise ApplicationError(
                f"claims: each claim's name is 1 to {CLAIM_NAME_MAX_LENGTH} characters"
                + (f" ('{name[:60]}…' is longer)." if name.strip() else "."),
                field="claims",
            )
        if not isinstance(value, str) or not value or len(value) > CLAIM_VALUE_MAX_LENGTH:
            raise ApplicationError(
                f"claims: '{str(name)[:60]}' must be a value or glob of 1 to "
                f"{CLAIM_VALUE_MAX_LENGTH} characters.",
                field="claims",
            )
        if name in ("sub", "iss", "aud", "exp", "iat", "nbf", "jti"):
            raise ApplicationError(
                f"claims: '{name}' is checked by the portal itself; constrain other claims.",
                field="claims",
            )
    return {str(name): value for name, value in claims.items()}


def overlap_text(other: IdentityBinding) -> str:
    """What a binding that overlaps `other` (another agent's live binding) means."""
    return (
        f"A token could match both this binding and binding #{other.pk} of agent "
        f"'{other.agent.slug}' (this subject, claims that do not exclude each other): "
        "every exchange with it would be refused."
    )


def _refuse_overlap(agent: Agent, provider: TrustProvider, subject: str, claims: dict) -> None:
    """One token, one agent: refuse a binding that a token could match along with a live
    (pending or active) binding of another agent (credentials.rules.bindings_overlap), since
    every exchange such a token makes would be refused; and the same binding twice."""
    TrustProvider.objects.select_for_update().filter(pk=provider.pk).first()  # one add at once
    for other in live_bindings_of_subject(provider.pk, subject):
        if other.claims == claims:
            whose = "this agent" if other.agent_id == agent.pk else f"agent '{other.agent.slug}'"
            raise ApplicationError(
                f"Binding #{other.pk} already binds this subject and these claims to {whose}.",
                code="duplicate",
            )
        if other.agent_id != agent.pk and bindings_overlap(claims, other.claims):
            raise ApplicationError(
                f"{overlap_text(other)} Require a claim value that binding excludes, or have "
                "that binding removed first.",
                code="overlap",
            )


@transaction.atomic
def binding_add(
    *, actor: User, agent: Agent, provider: TrustProvider, subject: str, claims: Any = None
) -> IdentityBinding:
    reason = permissions.bind_refusal(actor, agent)
    if reason:
        raise Forbidden(reason)
    if agent.status == AgentStatus.RETIRED:
        raise ApplicationError(f"Agent '{agent.slug}' is retired.", code="agent_inactive")
    subject = subject.strip() if isinstance(subject, str) else ""
    if not subject or len(subject) > SUBJECT_MAX_LENGTH:
        raise ApplicationError(
            f"subject: the exact `sub` of the workload's tokens, 1 to {SUBJECT_MAX_LENGTH} "
            "characters.",
            field="subject",
        )
    constraints = check_claims(claims or {})
    _refuse_overlap(agent, provider, subject, constraints)
    needed = required_approvals_for(agent)
    with audit_actor(actor):
        binding = IdentityBinding.objects.create(
            agent=agent,
            provider=provider,
            subject=subject,
            claims=constraints,
            requested_by=actor,
            required_approvals=needed,
            status=BindingStatus.ACTIVE if needed == 0 else BindingStatus.PENDING,
            activated_at=timezone.now() if needed == 0 else None,
        )
    if needed > 0:
        queue_notice(notifications.binding_waiting, binding.pk)
    return binding


@transaction.atomic
def binding_approve(*, actor: User, binding: IdentityBinding, comment: str = "") -> IdentityBinding:
    result = approvals.approve(
        actor=actor,
        subject=binding,
        pipeline=PIPELINE,
        approved=BindingStatus.ACTIVE,
        refusal=permissions.approval_refusal,
        comment=comment,
        related=("agent", "provider"),
        check=_refuse_activating_overlap,
        final_fields={"activated_at": timezone.now()},
    )
    if result.final:
        queue_notice(notifications.binding_decided, result.subject.pk)
    return result.subject


def _refuse_activating_overlap(binding: IdentityBinding) -> None:
    """A pending binding left pending because it overlaps another agent's live binding
    (bindings_release) is not approved into effect either."""
    other = overlapping_binding(binding)
    if other is not None:
        raise ApplicationError(
            f"{overlap_text(other)} Have one of the two removed first.", code="overlap"
        )


def binding_reject(*, actor: User, binding: IdentityBinding, comment: str) -> IdentityBinding:
    require(actor, Action.APPROVE)
    why = required_text(comment, "comment", "Say why the binding is rejected (comment).")
    return _close(actor, binding, BindingStatus.REJECTED, why, notifications.binding_decided)


def binding_remove(*, actor: User, binding: IdentityBinding) -> IdentityBinding:
    """The agent's people or security end a binding: no new credential through it."""
    reason = permissions.bind_refusal(actor, binding.agent)
    if reason:
        raise Forbidden(reason)
    return _close(actor, binding, BindingStatus.REMOVED, "")


def _close(
    actor: User, binding: IdentityBinding, status: str, comment: str, notice: Notice | None = None
) -> IdentityBinding:
    return approvals.close(
        actor=actor,
        subject=binding,
        pipeline=PIPELINE,
        status=status,
        fields={"closed_at": timezone.now(), "closed_by": actor, "close_comment": comment},
        related=("agent", "provider"),
        notice=notice,
    )


@transaction.atomic
def bindings_reapproval(*, agent: Agent, actor: User | None) -> list[IdentityBinding]:
    """The agent's tier changed (registry.signals.tier_changed): its active bindings that lack
    the approvals a binding on this tier needs (required_approvals_for) are pending again,
    each change audited as `actor`'s; the exchange refuses them until security approves.
    Approvals they had still count. Returns them."""
    needed = required_approvals_for(agent)
    if needed == 0:
        return []
    active = list(
        IdentityBinding.objects.select_for_update(of=("self",))
        .filter(agent=agent, status=BindingStatus.ACTIVE)
        .order_by("id")
    )
    approved = dict(
        BindingApproval.objects.filter(binding__in=active)
        .values("binding")
        .annotate(n=Count("approver", distinct=True))
        .values_list("binding", "n")
    )
    lacking = [binding for binding in active if approved.get(binding.pk, 0) < needed]
    with audit_actor(actor):
        for binding in lacking:
            PIPELINE.set_status(binding, BindingStatus.PENDING)
            binding.required_approvals = needed
            binding.activated_at = None
            binding.save(update_fields=["status", "required_approvals", "activated_at"])
    return lacking


@dataclass(frozen=True)
class Released:
    """What bindings_release did: the bindings now active, and those left pending with the
    other agent's live binding each overlaps."""

    activated: list[IdentityBinding]
    kept: list[tuple[IdentityBinding, IdentityBinding]]


@transaction.atomic
def bindings_release(*, agent: Agent, actor: User | None) -> Released:
    """The agent's tier changed to one whose bindings need no approval (a move down from
    production): its pending bindings are active, as a binding added on this tier is, each
    change audited as `actor`'s, and exchanges through them work again. One that a token could
    match along with another agent's live binding (overlapping_binding) stays pending: active,
    every exchange with such a token would be refused, that agent's included."""
    if required_approvals_for(agent) > 0:
        return Released([], [])
    pending = list(
        IdentityBinding.objects.select_for_update(of=("self",))
        .filter(agent=agent, status=BindingStatus.PENDING)
        .order_by("id")
    )
    released = Released([], [])
    now = timezone.now()
    with audit_actor(actor):
        for binding in pending:
            other = overlapping_binding(binding)
            if other is not None:
                released.kept.append((binding, other))
                continue
            PIPELINE.set_status(binding, BindingStatus.ACTIVE)
            binding.required_approvals = 0
            binding.activated_at = now
            binding.save(update_fields=["status", "required_approvals", "activated_at"])
            released.activated.append(binding)
    return released


@transaction.atomic
def bindings_follow_tier(*, agent: Agent, actor: User | None) -> None:
    """registry.signals.tier_changed: the agent's bindings take the approvals its new tier
    asks (bindings_reapproval on production, bindings_release below it), and when any moved
    or stayed pending, its owner and team are told, and security too when it must approve
    (credentials.notifications.bindings_after_tier_change, delivered once this commits)."""
    if required_approvals_for(agent) > 0:
        told = bool(bindings_reapproval(agent=agent, actor=actor))
    else:
        released = bindings_release(agent=agent, actor=actor)
        told = bool(released.activated or released.kept)
    if told:
        queue_notice(notifications.bindings_after_tier_change, agent.pk)
