"""Reads of requests and grants, always scoped to what the person may see.

Engineers see the requests and grants of agents they own or whose team they are in;
security and auditors see all. A forged id outside that scope is a 404, never a leak.
"""

from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from access.models import AccessRequest, Approval, Grant, RequestStatus
from kernel.errors import NotFound
from kernel.permissions import Action, AnyUser, can
from registry import permissions


def _scope_by_agent(queryset: QuerySet, user: AnyUser, *, or_requested: bool = False) -> QuerySet:
    agents = permissions.agents_with_records_visible_to(user)
    if agents is None:
        return queryset
    visible = Q(agent_id__in=agents.values("pk"))
    if or_requested:
        visible |= Q(requested_by=user)
    return queryset.filter(visible)


def requests_visible_to(user: AnyUser) -> QuerySet[AccessRequest]:
    base = AccessRequest.objects.select_related(
        "agent", "agent__owner", "capability", "requested_by", "decided_by", "grant"
    ).prefetch_related(Prefetch("approvals", queryset=Approval.objects.select_related("approver")))
    return _scope_by_agent(base, user, or_requested=True).order_by("-created_at", "-id")


def access_request_get_for_user(user: AnyUser, pk: int | str) -> AccessRequest:
    try:
        return requests_visible_to(user).get(pk=int(pk))
    except (AccessRequest.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"No access request #{pk}.") from None


def requests_awaiting(user: AnyUser) -> QuerySet[AccessRequest]:
    """Pending requests this security member may approve now: oldest first."""
    if not can(user, Action.APPROVE):
        return AccessRequest.objects.none()
    mine = Approval.objects.filter(request=OuterRef("pk"), approver=user)
    return (
        requests_visible_to(user)
        .filter(status=RequestStatus.PENDING)
        .exclude(requested_by=user)
        .exclude(agent__owner=user)
        .exclude(Exists(mine))
        .order_by("created_at", "id")
    )


def break_glass_awaiting_review(user: AnyUser) -> QuerySet[AccessRequest]:
    if not can(user, Action.APPROVE):
        return AccessRequest.objects.none()
    return (
        requests_visible_to(user)
        .filter(break_glass=True, break_glass_reviewed_at__isnull=True)
        .exclude(requested_by=user)
        .order_by("created_at", "id")
    )


def active_q(at: datetime | None = None) -> Q:
    """Grants active at `at`: started, not expired, not revoked by then. Computed from times,
    so it is right whether or not the periodic task has marked anything expired."""
    at = at or timezone.now()
    return Q(starts_at__lte=at, expires_at__gt=at) & (
        Q(revoked_at__isnull=True) | Q(revoked_at__gt=at)
    )


def scope_covers(grant_scope: str, requested: str) -> bool:
    """A grant without scope covers every scope; otherwise its scope is an fnmatch-style glob
    (case-sensitive), and a request without a scope is not covered by a scoped grant."""
    return not grant_scope or fnmatchcase(requested or "", grant_scope)


def grant_active_for(
    *, agent_id: int, capability_id: int, scope: str = "", at: datetime | None = None
) -> Grant | None:
    """The active grant covering (agent, capability, scope) at `at`, or None, in one query.

    The candidates (an agent rarely holds more than a few for one capability) are read in one
    query, oldest first, and the glob is matched here: SQL LIKE cannot express fnmatch.
    """
    candidates = Grant.objects.filter(
        active_q(at), agent_id=agent_id, capability_id=capability_id
    ).order_by("pk")
    return next((g for g in candidates if scope_covers(g.scope, scope)), None)


def grants_visible_to(user: AnyUser) -> QuerySet[Grant]:
    base = Grant.objects.select_related("agent", "capability", "request", "revoked_by")
    return _scope_by_agent(base, user).order_by("-starts_at", "-id")


def grant_get_for_user(user: AnyUser, pk: int | str) -> Grant:
    try:
        return grants_visible_to(user).get(pk=int(pk))
    except (Grant.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"No grant #{pk}.") from None


def grant_is_active(grant: Grant, at: datetime | None = None) -> bool:
    """The same rule as active_q, for a grant already loaded."""
    at = at or timezone.now()
    revoked = grant.revoked_at is not None and grant.revoked_at <= at
    return not revoked and grant.starts_at <= at < grant.expires_at


def grant_state(grant: Grant, at: datetime | None = None) -> str:
    """ "active", "revoked" or "expired" (or "scheduled", not started yet), by the times."""
    at = at or timezone.now()
    if grant_is_active(grant, at):
        return "active"
    if grant.revoked_at is not None and grant.revoked_at <= at:
        return "revoked"
    return "scheduled" if at < grant.starts_at else "expired"


def grants_active_for_agent(agent_id: int) -> QuerySet[Grant]:
    return (
        Grant.objects.filter(active_q(), agent_id=agent_id)
        .select_related("capability", "request")
        .order_by("expires_at")
    )


def grants_expiring_within(hours: int, user: AnyUser) -> QuerySet[Grant]:
    now = timezone.now()
    return grants_visible_to(user).filter(
        active_q(now), expires_at__lte=now + timedelta(hours=hours)
    )
