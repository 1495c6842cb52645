"""Notices about access: what the people concerned are told, rendered in the transaction that
made the change and delivered once it commits (kernel.notifications)."""

from typing import Any

from django.utils import timezone

from access.models import AccessRequest, Grant, RequestStatus
from approvals.notices import approvers_to_tell, waiting_for_approval
from approvals.rules import approved_by
from kernel.notifications import Event, link, notice, security_addresses

# A request's status after a decision, as the event's name.
DECIDED: dict[str, str] = {
    RequestStatus.APPROVED: "access_request.approved",
    RequestStatus.DENIED: "access_request.denied",
    RequestStatus.EXPIRED: "access_request.expired",
}


def _describe(access_request: AccessRequest) -> str:
    scope = f", scope {access_request.scope}" if access_request.scope else ""
    ticket = f", ticket {access_request.ticket}" if access_request.ticket else ""
    return (
        f"Request #{access_request.pk}: {access_request.capability.key} for "
        f"{access_request.agent.slug} ({access_request.agent.tier}){scope}{ticket}, "
        f"{access_request.duration_hours} h, by {access_request.requested_by.username}.\n"
        f"Justification: {access_request.justification}\n"
    )


def _facts(access_request: AccessRequest) -> dict[str, Any]:
    return {
        "agent": access_request.agent.slug,
        "tier": access_request.agent.tier,
        "capability": access_request.capability.key,
        "scope": access_request.scope,
        "ticket": access_request.ticket,
        "duration_hours": access_request.duration_hours,
        "status": access_request.status,
        "requested_by": access_request.requested_by.username,
        "required_approvals": access_request.required_approvals,
        "break_glass": access_request.break_glass,
    }


def _load(pk: int) -> AccessRequest:
    return AccessRequest.objects.select_related(
        "agent__owner", "capability", "requested_by", "confirmed_by"
    ).get(pk=pk)


def _about(access_request: AccessRequest, name: str, **said: Any) -> Event:
    """An event about the request: its facts, then what the notice says (`Event.about`)."""
    return Event.about(access_request, name, "access_request", _facts(access_request), **said)


@notice
def request_waiting(pk: int) -> Event:
    """Security: a request was filed and waits for approval."""
    access_request = _load(pk)
    return _about(
        access_request,
        "access_request.filed",
        subject=(
            f"Approval needed: #{pk} {access_request.capability.key} on {access_request.agent.slug}"
        ),
        body=_describe(access_request)
        + _filed_by_agent(access_request)
        + waiting_for_approval(access_request),
        recipients=approvers_to_tell(access_request),
    )


def _filed_by_agent(access_request: AccessRequest) -> str:
    """Security is told who stands behind what an agent filed itself (the confirmer never
    approves it: access.permissions.approval_refusal)."""
    if not access_request.filed_by_agent or access_request.confirmed_by is None:
        return ""
    return (
        f"Filed by agent {access_request.agent.slug} itself through MCP "
        f"({access_request.filed_by_workload}); confirmed by "
        f"{access_request.confirmed_by.username}.\n"
    )


@notice
def request_awaiting_owner(pk: int) -> Event:
    """The agent's owner and team: the agent asked for access itself; confirm or decline it."""
    access_request = AccessRequest.objects.select_related(
        "agent__team", "capability", "requested_by"
    ).get(pk=pk)
    agent = access_request.agent
    team = sorted(agent.team.members.exclude(email="").values_list("email", flat=True))
    return _about(
        access_request,
        "access_request.awaiting_owner",
        subject=f"Agent {agent.slug} asks for {access_request.capability.key}: confirm it?",
        body=_describe(access_request)
        + f"Agent {agent.slug} filed it itself through MCP ({access_request.filed_by_workload}). "
        + "Security sees it only once you (or a member of its team) confirm it on its page; "
        + "decline it there if the agent should not have it.\n",
        recipients=[a for a in dict.fromkeys([access_request.requested_by.email, *team]) if a],
        data={"filed_by_agent": True, "workload": access_request.filed_by_workload},
    )


@notice
def request_decided(pk: int) -> Event | None:
    """The requester: approved (with the grant's expiry), denied, or expired."""
    access_request = _load(pk)
    name = DECIDED.get(access_request.status)
    if name is None:
        return None  # cancelled: the requester did it themself
    body = _describe(access_request)
    data: dict[str, Any] = {}
    if access_request.status == RequestStatus.APPROVED:
        grant = Grant.objects.get(request=access_request)
        body += (
            f"{approved_by(access_request)} Grant #{grant.pk} expires at "
            f"{grant.expires_at:%Y-%m-%d %H:%M} UTC.\n"
        )
        data = {"grant_id": grant.pk, "expires_at": grant.expires_at}
    if access_request.decision_comment:
        body += f"Comment: {access_request.decision_comment}\n"
    return _about(
        access_request,
        name,
        subject=f"Request #{pk} {access_request.status}",
        body=body,
        recipients=[access_request.requested_by.email],
        data=data,
    )


@notice
def break_glass_alert(pk: int) -> Event:
    """Security: someone broke glass; review it after the fact."""
    access_request = _load(pk)
    return _about(
        access_request,
        "access_request.break_glass",
        subject=f"BREAK-GLASS: {access_request.capability.key} on {access_request.agent.slug}",
        body=_describe(access_request)
        + f"Incident: {access_request.incident}\nReview it after the fact on its page.\n",
        recipients=security_addresses(),
        data={"incident": access_request.incident},
    )


def _load_grant(pk: int) -> Grant:
    return Grant.objects.select_related(
        "agent__owner", "capability", "revoked_by", "request__requested_by"
    ).get(pk=pk)


def _grant_event(grant: Grant, name: str, **said: Any) -> Event:
    """An event about the grant: its facts, then what the notice says (`Event.about`)."""
    facts = {
        "agent": grant.agent.slug,
        "capability": grant.capability.key,
        "scope": grant.scope,
        "starts_at": grant.starts_at,
        "expires_at": grant.expires_at,
        "request_id": grant.request_id,
        "owner": grant.agent.owner.username,
    }
    return Event.about(grant, name, "grant", facts, **said)


@notice
def grant_expiring(pk: int) -> Event:
    """The agent's owner: a grant ends within the hour."""
    grant = _load_grant(pk)
    left = max(0, int((grant.expires_at - timezone.now()).total_seconds() // 60))
    return _grant_event(
        grant,
        "grant.expiring",
        subject=f"Grant #{pk} for {grant.agent.slug} expires in {left} minutes",
        body=f"{grant.capability.key} for {grant.agent.slug} expires at "
        f"{grant.expires_at:%Y-%m-%d %H:%M} UTC. File a new request if the work goes on: "
        f"{link('access:request-create')}\n",
        recipients=[grant.agent.owner.email],
        data={"minutes_left": left},
    )


@notice
def grant_revoked(pk: int) -> Event:
    """The agent's owner (and who asked for the grant): security ended it early."""
    grant = _load_grant(pk)
    by = grant.revoked_by.username if grant.revoked_by else "the portal"
    when = grant.revoked_at or timezone.now()
    recipients = [grant.agent.owner.email]
    if grant.request is not None:
        recipients.append(grant.request.requested_by.email)
    return _grant_event(
        grant,
        "grant.revoked",
        subject=f"Grant #{pk} for {grant.agent.slug} was revoked",
        body=f"{grant.capability.key} for {grant.agent.slug} was revoked by {by} at "
        f"{when:%Y-%m-%d %H:%M} UTC; decisions deny it from now on.\n"
        f"Reason: {grant.revoke_reason or '—'}\n",
        recipients=recipients,
        data={"revoked_by": by, "revoked_at": when},
        occurred_at=when,
    )
