"""Notices about exceptions: what the people concerned are told, rendered in the transaction
that made the change and delivered once it commits (kernel.notifications)."""

from datetime import timedelta
from typing import Any

from django.template.defaultfilters import pluralize
from django.utils import timezone

from approvals.notices import approvers_to_tell, waiting_for_approval
from approvals.rules import approved_by
from exceptions.models import ExceptionReminder, ExceptionStatus, PolicyException
from kernel.notifications import Event, link, notice, security_addresses

# An exception's status after a decision, as the event's name.
DECIDED: dict[str, str] = {
    ExceptionStatus.ACTIVE: "exception.approved",
    ExceptionStatus.REJECTED: "exception.rejected",
    ExceptionStatus.REVOKED: "exception.revoked",
}


def _load(pk: int) -> PolicyException:
    return PolicyException.objects.select_related("agent__owner", "capability", "requested_by").get(
        pk=pk
    )


def _describe(exception: PolicyException) -> str:
    capability = exception.capability.key if exception.capability else "—"
    return (
        f"Exception #{exception.pk} “{exception.title}” ({exception.risk} risk): "
        f"{capability} for {exception.agent.slug}, requested by "
        f"{exception.requested_by.username}.\n"
        f"From {exception.starts_at:%Y-%m-%d %H:%M} to {exception.expires_at:%Y-%m-%d %H:%M} UTC."
        f"\nJustification: {exception.justification}\n"
        f"Compensating controls: {exception.compensating_controls or '—'}\n"
    )


def _about(exception: PolicyException, name: str, **said: Any) -> Event:
    """An event about the exception: its facts, then what the notice says (`Event.about`)."""
    facts = {
        "agent": exception.agent.slug,
        "capability": exception.capability.key if exception.capability else None,
        "risk": exception.risk,
        "status": exception.status,
        "requested_by": exception.requested_by.username,
        "required_approvals": exception.required_approvals,
        "starts_at": exception.starts_at,
        "expires_at": exception.expires_at,
        "renews": exception.renews_id,
    }
    return Event.about(exception, name, "exception", facts, **said)


@notice
def exception_waiting(pk: int) -> Event:
    """Security: an exception was filed and waits for approval."""
    exception = _load(pk)
    return _about(
        exception,
        "exception.filed",
        subject=f"Exception approval needed: #{pk} {exception.title}",
        body=_describe(exception) + waiting_for_approval(exception),
        recipients=approvers_to_tell(exception),
    )


@notice
def exception_decided(pk: int) -> Event | None:
    """The requester and the agent's owner: approved (active), rejected or revoked."""
    exception = _load(pk)
    name = DECIDED.get(exception.status)
    if name is None:
        return None
    body = _describe(exception)
    if exception.status == ExceptionStatus.ACTIVE:
        body += f"{approved_by(exception)}\n"
    if exception.rejection_comment:
        body += f"Rejected: {exception.rejection_comment}\n"
    if exception.revoke_reason:
        body += f"Revoked: {exception.revoke_reason}\n"
    return _about(
        exception,
        name,
        subject=f"Exception #{pk} {exception.status}",
        body=body,
        recipients=[exception.requested_by.email, exception.agent.owner.email],
    )


@notice
def exception_withdrawn(pk: int) -> Event:
    """Security, told by `exception_waiting` that it waits: its requester withdrew it."""
    exception = _load(pk)
    return _about(
        exception,
        "exception.withdrawn",
        subject=f"Exception #{pk} withdrawn: {exception.title}",
        body=_describe(exception)
        + "Withdrawn by its requester before it was decided: nothing to approve. "
        + f"Everything waiting for security: {link('approvals:queue')}\n",
        recipients=security_addresses(),
    )


@notice
def exception_expiring(reminder_pk: int) -> Event:
    """Requester, agent owner and security: an exception ends soon; renew it or let it go."""
    reminder = ExceptionReminder.objects.get(pk=reminder_pk)
    exception = _load(reminder.exception_id)
    left = exception.expires_at - timezone.now()
    recipients = [exception.requested_by.email, exception.agent.owner.email]
    return _about(
        exception,
        "exception.expiring",
        subject=f"Exception #{exception.pk} expires in {_days_hours(left)}",
        body=_describe(exception) + "Renew it from its page if the deviation is still needed "
        f"({link('exceptions:renew', exception.pk)}); otherwise do nothing.\n",
        recipients=recipients + security_addresses(),
        data={"reminder": reminder.kind},
    )


def _days_hours(left: timedelta) -> str:
    """How long an exception has left, "2 days, 1 hour" (never below zero)."""
    days, hours = max(left.days, 0), max(left.seconds // 3600, 0) if left.days >= 0 else 0
    return f"{days} day{pluralize(days)}, {hours} hour{pluralize(hours)}"
