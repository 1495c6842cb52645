"""Emails about access: who is told what, sent from Celery tasks after the change commits."""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from portal.roles import Role
from registry.models import AccessRequest, Grant


def on_commit(notifier: Callable[[int], None], pk: int) -> None:
    """Queue `notifier(pk)` as a task once the current transaction commits."""
    from registry.tasks import notify

    transaction.on_commit(lambda: notify.delay(notifier.__name__, pk))


def _security_addresses() -> list[str]:
    addresses = set(
        User.objects.filter(groups__name=Role.SECURITY, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if settings.SECURITY_TEAM_EMAIL:
        addresses.add(settings.SECURITY_TEAM_EMAIL)
    return sorted(addresses)


def _send(subject: str, body: str, recipients: list[str]) -> int:
    recipients = [r for r in recipients if r]
    if not recipients:
        return 0
    return send_mail(f"[Agent portal] {subject}", body, settings.DEFAULT_FROM_EMAIL, recipients)


def _describe(access_request: AccessRequest) -> str:
    return (
        f"Request #{access_request.pk}: {access_request.capability.key} for "
        f"{access_request.agent.slug} ({access_request.agent.tier}), "
        f"{access_request.duration_hours} h, by {access_request.requested_by.username}.\n"
        f"Justification: {access_request.justification}\n"
    )


def _load(pk: int) -> AccessRequest:
    return AccessRequest.objects.select_related("agent", "capability", "requested_by").get(pk=pk)


def request_waiting(pk: int) -> int:
    """Security: a request waits for approval."""
    access_request = _load(pk)
    return _send(
        f"Approval needed: #{pk} {access_request.capability.key} on {access_request.agent.slug}",
        _describe(access_request)
        + f"Needs {access_request.required_approvals} approval(s): /approvals/\n",
        _security_addresses(),
    )


def request_decided(pk: int) -> int:
    """The requester: approved (with the grant's expiry), denied, or expired."""
    access_request = _load(pk)
    body = _describe(access_request)
    if access_request.status == "approved":
        grant = Grant.objects.get(request=access_request)
        body += f"Approved. Grant #{grant.pk} expires at {grant.expires_at:%Y-%m-%d %H:%M} UTC.\n"
    elif access_request.decision_comment:
        body += f"Comment: {access_request.decision_comment}\n"
    return _send(
        f"Request #{pk} {access_request.status}",
        body,
        [access_request.requested_by.email],
    )


def break_glass_alert(pk: int) -> int:
    """Security: someone broke glass; review it after the fact."""
    access_request = _load(pk)
    return _send(
        f"BREAK-GLASS: {access_request.capability.key} on {access_request.agent.slug}",
        _describe(access_request)
        + f"Incident: {access_request.incident}\nReview it at /approvals/.\n",
        _security_addresses(),
    )


def grant_expiring(pk: int) -> int:
    """The agent's owner: a grant ends within the hour."""
    grant = Grant.objects.select_related("agent__owner", "capability").get(pk=pk)
    left = max(0, int((grant.expires_at - timezone.now()).total_seconds() // 60))
    return _send(
        f"Grant #{pk} for {grant.agent.slug} expires in {left} minutes",
        f"{grant.capability.key} for {grant.agent.slug} expires at "
        f"{grant.expires_at:%Y-%m-%d %H:%M} UTC. File a new request if the work goes on.\n",
        [grant.agent.owner.email],
    )


NOTIFIERS = {
    fn.__name__: fn for fn in (request_waiting, request_decided, break_glass_alert, grant_expiring)
}
