"""Renewals: an exception continued from its expiry by a new one, with no gap and no overlap.

An exception has at most one renewal open at a time (pending, or approved and not over yet),
and is renewed only while it is in force: a renewal that has not started yet is renewed once
it has. So a chain never forks, and no renewal starts further ahead than the exception it
continues ends (at most its risk's MAX_DAYS from now). Filing a renewal holds the renewed
exception's row lock (services.exception_renew); approving one takes it too, so two renewals
of the same exception approved at once are judged one after the other and only one is active.

Renewing is also the only way to go on past a running exception: filing or approving another
exception for the same agent and capability whose window overlaps it is refused
(refuse_stacking), so exceptions are not stacked to outlast their risk's MAX_DAYS.
"""

from datetime import datetime

from django.db.models import Q

from exceptions.models import ExceptionStatus, PolicyException
from exceptions.rules import (
    exception_is_running,
    exception_running_q,
    overlap_field,
    overlap_refusal,
    overlapping_exception,
)
from kernel.errors import ApplicationError
from kernel.locks import hold_until_commit

WHEN = "%Y-%m-%d %H:%M"


def open_renewal_q(now: datetime) -> Q:
    """A renewal still open: waiting for approval, or approved and not over."""
    return Q(status=ExceptionStatus.PENDING) | exception_running_q(now)


def open_renewal_of(exception: PolicyException, now: datetime) -> PolicyException | None:
    return (
        PolicyException.objects.filter(open_renewal_q(now), renews_id=exception.pk)
        .order_by("pk")
        .first()
    )


def _described(renewal: PolicyException) -> str:
    if renewal.status == ExceptionStatus.PENDING:
        return "waiting for approval"
    return f"approved, {renewal.starts_at:{WHEN}} to {renewal.expires_at:{WHEN}} UTC"


def renewal_block(
    exception: PolicyException, now: datetime, *, open_renewals: bool = True
) -> ApplicationError | None:
    """Why this exception cannot be renewed now, whoever asks (the error the service raises,
    whose message the page shows), or None when it can. `open_renewals=False`: its own state
    only (the service checks the asked window between the two, as filing checks it before
    duplicates)."""
    pk = exception.pk
    if not exception_is_running(exception, now):
        return ApplicationError(
            f"Exception #{pk} is not active (it is {exception.status}): only an active exception "
            "is renewed. File a new one instead.",
            code="not_renewable",
        )
    if exception.starts_at > now:
        return ApplicationError(
            f"Exception #{pk} has not started yet (it starts {exception.starts_at:{WHEN}} UTC): "
            "renew it once it is in force.",
            code="not_started",
        )
    renewal = open_renewal_of(exception, now) if open_renewals else None
    if renewal is not None:
        return ApplicationError(
            f"Exception #{pk} is already renewed by #{renewal.pk} ({_described(renewal)}): "
            f"one renewal at a time. Follow #{renewal.pk}, or withdraw it to file another.",
            code="already_renewed",
            renewal_id=renewal.pk,
        )
    return None


def refuse_overlap(renewal: PolicyException, now: datetime) -> None:
    """Approving `renewal`: no other renewal of the exception it continues is approved and not
    over (two would be in force at once). Locks the renewed exception's row first."""
    if renewal.renews_id is None:
        return
    PolicyException.objects.select_for_update().filter(pk=renewal.renews_id).first()
    other = (
        PolicyException.objects.filter(exception_running_q(now), renews_id=renewal.renews_id)
        .exclude(pk=renewal.pk)
        .order_by("pk")
        .first()
    )
    if other is not None:
        raise ApplicationError(
            f"Exception #{renewal.renews_id} is already renewed by #{other.pk} "
            f"({_described(other)}): approving #{renewal.pk} would put two exceptions in force "
            f"at once. Reject #{renewal.pk}.",
            code="already_renewed",
            renewal_id=other.pk,
        )


def refuse_stacking(exception: PolicyException, now: datetime) -> None:
    """Filing or approving `exception`: no running exception for the same agent and capability
    overlaps its window (rules.overlapping_exception). Going on past an exception is renewing
    it, with its checks (from its end, MAX_DAYS, one renewal at a time); a second exception
    stacked over it would skip them. Approval judges it again: the other may have been approved
    since this one was filed.

    Takes the lock of the agent and capability first, held until commit, so that two filed or
    approved at the same moment are judged one after the other (what runs after it in the
    transaction, such as the pending-duplicate check, sees what the other committed)."""
    hold_until_commit("exceptions.stacking", exception.agent_id, exception.capability_id)
    other = overlapping_exception(exception, now)
    if other is None:
        return
    raise ApplicationError(
        overlap_refusal(other, now),
        code="overlapping_exception",
        field=overlap_field(other, exception.starts_at),
        exception_id=other.pk,
    )
