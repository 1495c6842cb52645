"""Reads of requests and grants, always scoped to what the person may see.

Engineers see the requests and grants of agents they own or whose team they are in;
security and auditors see all. A forged id outside that scope is a 404, never a leak.
"""

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from portal.errors import NotFound
from portal.permissions import Action, AnyUser, can
from registry import permissions
from registry.models import AccessRequest, Approval, Grant, RequestStatus


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
    at = at or timezone.now()
    return Q(revoked_at__isnull=True, starts_at__lte=at, expires_at__gt=at)


def grants_visible_to(user: AnyUser) -> QuerySet[Grant]:
    base = Grant.objects.select_related("agent", "capability", "request", "revoked_by")
    return _scope_by_agent(base, user).order_by("-starts_at", "-id")


def grant_get_for_user(user: AnyUser, pk: int | str) -> Grant:
    try:
        return grants_visible_to(user).get(pk=int(pk))
    except (Grant.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"No grant #{pk}.") from None


def grant_is_active(grant: Grant, at: datetime | None = None) -> bool:
    at = at or timezone.now()
    return grant.revoked_at is None and grant.starts_at <= at < grant.expires_at


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
