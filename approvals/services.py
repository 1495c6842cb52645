"""The one approval transition every workflow shares: lock, check, record, maybe finish.

Concurrent approvals are serialised on the subject's row (SELECT … FOR UPDATE), so two
security members pressing the final Approve at once finish the subject exactly once, and a
subject that left "pending" (denied, cancelled, rejected) can never be approved. The approval
model's unique (subject, approver) constraint makes one person count once even when the same
person races themself.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Count

from approvals.models import PENDING, ApprovalWorkflow
from approvals.workflow import Pipeline
from kernel.audit import audit_actor, audit_source
from kernel.errors import ApplicationError, Forbidden
from kernel.notifications import Notice, queue_notice
from kernel.validation import optional_text

S = TypeVar("S", bound=ApprovalWorkflow)


@dataclass(frozen=True)
class Approved(Generic[S]):
    """The subject as re-read under the lock, and whether this approval finished it."""

    subject: S
    final: bool


def lock(subject: S, *related: str) -> S:
    """Re-read the subject's row, locked until the transaction ends (only its own row)."""
    queryset = type(subject)._default_manager.select_for_update(of=("self",))
    if related:
        queryset = queryset.select_related(*related)
    return queryset.get(pk=subject.pk)


@transaction.atomic
def approve(
    *,
    actor: User,
    subject: S,
    pipeline: Pipeline[Any],
    approved: str,
    refusal: Callable[[User, S], str | None],
    comment: str = "",
    related: tuple[str, ...] = (),
    check: Callable[[S], None] | None = None,
    final_fields: Mapping[str, object] | None = None,
) -> Approved[S]:
    """Record `actor`'s approval; the last required one moves the subject to `approved`.

    `refusal(actor, subject)` says why this person may not approve (separation of duties) or
    None; `check(subject)` raises for what else the workflow refuses (e.g. a passed window).
    On the final approval `final_fields` are set with the status, in the same UPDATE. The
    caller keeps its own side effects (grants, notices) for when `final` is true. The comment
    is optional text (`kernel.validation.optional_text`).
    """
    subject = lock(subject, *related)
    reason = refusal(actor, subject)
    if reason:
        raise Forbidden(reason)
    pipeline.check(subject, approved)  # a subject no longer pending: refused, naming why
    if check is not None:
        check(subject)
    comment = optional_text(comment, "comment")
    already = f"You have approved this {pipeline.noun} already"
    if subject.approvals.filter(approver=actor).exists():
        raise ApplicationError(
            f"{already}; another security member must approve.", code="already_approved"
        )
    with audit_actor(actor):
        try:
            with transaction.atomic():
                subject.approvals.create(approver=actor, comment=comment)
        except IntegrityError as exc:  # the same person, racing themself
            raise ApplicationError(f"{already}.", code="already_approved") from exc
        approvers = subject.approvals.aggregate(n=Count("approver", distinct=True))["n"]
        if approvers < subject.required_approvals:
            return Approved(subject, final=False)
        pipeline.set_status(subject, approved)
        for field, value in (final_fields or {}).items():
            setattr(subject, field, value)
        subject.save(update_fields=["status", *(final_fields or {})])
    return Approved(subject, final=True)


@transaction.atomic
def close(
    *,
    actor: User | None,
    subject: S,
    pipeline: Pipeline[Any],
    status: str,
    fields: Mapping[str, object],
    related: tuple[str, ...] = (),
    check: Callable[[S], None] | None = None,
    notice: Notice | None = None,
) -> S:
    """Move the subject to `status` (deny, reject, cancel, revoke...) with `fields` set.

    The caller has checked who may do it. Under the row lock, `check(subject)` raises for
    what else the workflow refuses and the pipeline refuses a move it does not allow; the
    status and `fields` are saved in one UPDATE attributed to `actor`, and `notice` is
    queued with the subject's pk for when the transaction commits.
    """
    subject = lock(subject, *related)
    if check is not None:
        check(subject)
    pipeline.set_status(subject, status)
    for field, value in fields.items():
        setattr(subject, field, value)
    with audit_actor(actor):
        subject.save(update_fields=["status", *fields])
    if notice is not None:
        queue_notice(notice, subject.pk)
    return subject


@transaction.atomic
def close_pending_of_leaver(
    leaver: User,
    model: type[S],
    *,
    pipeline: Pipeline[Any],
    status: str,
    fields: Callable[[str], Mapping[str, object]],
    notice: Notice | None = None,
) -> int:
    """The person left (kernel.accounts.person_left): what they asked for that still waits
    for approval moves to `status` with `fields(reason)`, by nobody, the leaver named as the
    trail's source. Returns how many.

    Locked in pk order, so an approval racing the deactivation either finished first (no
    longer pending, left out) or waits and then finds the subject closed."""
    reason = f"Cancelled: {leaver.get_username()} left (deactivated)."
    pending = list(
        model._default_manager.select_for_update(of=("self",))
        .filter(requested_by=leaver, status=PENDING)
        .order_by("pk")
    )
    with audit_source(f"Leaver: {leaver.get_username()} deactivated"):
        for subject in pending:
            close(
                actor=None,
                subject=subject,
                pipeline=pipeline,
                status=status,
                fields=fields(reason),
                notice=notice,
            )
    return len(pending)
