"""Notices about access: who is told what once the change commits (kernel.notifications)."""

from django.utils import timezone

from access.models import AccessRequest, Grant
from kernel.notifications import notice, security_addresses, send


def _describe(access_request: AccessRequest) -> str:
    return (
        f"Request #{access_request.pk}: {access_request.capability.key} for "
        f"{access_request.agent.slug} ({access_request.agent.tier}), "
        f"{access_request.duration_hours} h, by {access_request.requested_by.username}.\n"
        f"Justification: {access_request.justification}\n"
    )


def _load(pk: int) -> AccessRequest:
    return AccessRequest.objects.select_related("agent", "capability", "requested_by").get(pk=pk)


@notice
def request_waiting(pk: int) -> int:
    """Security: a request waits for approval."""
    access_request = _load(pk)
    return send(
        f"Approval needed: #{pk} {access_request.capability.key} on {access_request.agent.slug}",
        _describe(access_request)
        + f"Needs {access_request.required_approvals} approval(s): /approvals/\n",
        security_addresses(),
    )


@notice
def request_decided(pk: int) -> int:
    """The requester: approved (with the grant's expiry), denied, or expired."""
    access_request = _load(pk)
    body = _describe(access_request)
    if access_request.status == "approved":
        grant = Grant.objects.get(request=access_request)
        body += f"Approved. Grant #{grant.pk} expires at {grant.expires_at:%Y-%m-%d %H:%M} UTC.\n"
    elif access_request.decision_comment:
        body += f"Comment: {access_request.decision_comment}\n"
    return send(
        f"Request #{pk} {access_request.status}",
        body,
        [access_request.requested_by.email],
    )


@notice
def break_glass_alert(pk: int) -> int:
    """Security: someone broke glass; review it after the fact."""
    access_request = _load(pk)
    return send(
        f"BREAK-GLASS: {access_request.capability.key} on {access_request.agent.slug}",
        _describe(access_request)
        + f"Incident: {access_request.incident}\nReview it at /approvals/.\n",
        security_addresses(),
    )


@notice
def grant_expiring(pk: int) -> int:
    """The agent's owner: a grant ends within the hour."""
    grant = Grant.objects.select_related("agent__owner", "capability").get(pk=pk)
    left = max(0, int((grant.expires_at - timezone.now()).total_seconds() // 60))
    return send(
        f"Grant #{pk} for {grant.agent.slug} expires in {left} minutes",
        f"{grant.capability.key} for {grant.agent.slug} expires at "
        f"{grant.expires_at:%Y-%m-%d %H:%M} UTC. File a new request if the work goes on.\n",
        [grant.agent.owner.email],
    )
