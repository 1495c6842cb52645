"""Notices about exceptions, delivered once the change commits (kernel.notifications)."""

from django.utils import timezone

from exceptions.models import ExceptionReminder, PolicyException
from kernel.notifications import notice, security_addresses, send


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
        f"{exception.get_absolute_url()}\n"
    )


@notice
def exception_waiting(pk: int) -> int:
    """Security: an exception waits for approval."""
    exception = _load(pk)
    return send(
        f"Exception approval needed: #{pk} {exception.title}",
        _describe(exception) + f"Needs {exception.required_approvals} approval(s): /approvals/\n",
        security_addresses(),
    )


@notice
def exception_decided(pk: int) -> int:
    """The requester and the agent's owner: active, rejected or revoked."""
    exception = _load(pk)
    body = _describe(exception)
    if exception.rejection_comment:
        body += f"Rejected: {exception.rejection_comment}\n"
    if exception.revoke_reason:
        body += f"Revoked: {exception.revoke_reason}\n"
    return send(
        f"Exception #{pk} {exception.status}",
        body,
        sorted({exception.requested_by.email, exception.agent.owner.email}),
    )


@notice
def exception_expiring(reminder_pk: int) -> int:
    """Requester, agent owner and security: an exception ends soon; renew it or let it go."""
    reminder = ExceptionReminder.objects.get(pk=reminder_pk)
    exception = _load(reminder.exception_id)
    left = exception.expires_at - timezone.now()
    recipients = {exception.requested_by.email, exception.agent.owner.email}
    recipients.update(security_addresses())
    return send(
        f"Exception #{exception.pk} expires in {max(left.days, 0)} day(s), "
        f"{max(left.seconds // 3600, 0)} hour(s)",
        _describe(exception)
        + "Renew it from its page if the deviation is still needed; otherwise do nothing.\n",
        sorted(recipients),
    )
