"""Reads of requests and grants, always scoped to what the person may see.

Engineers see the requests and grants of agents they own or whose team they are in;
security and auditors see all. A forged id outside that scope is a 404, never a leak.
"""

from collections.abc import Mapping

from django.db.models import Prefetch, Q, QuerySet

from access.filters import AccessRequestFilter, GrantFilter
from access.models import AccessRequest, Approval, Grant
from access.rules import grant_active_q
from approvals.selectors import awaiting_approval_by
from kernel.filtering import filtered
from kernel.lookup import get_by_pk
from kernel.permissions import Action, AnyUser, can
from registry import permissions
from registry.models import Agent, Capability


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
        "agent",
        "agent__owner",
        "agent__team",
        "capability",
        "requested_by",
        "decided_by",
        "confirmed_by",
        "grant",
    ).prefetch_related(Prefetch("approvals", queryset=Approval.objects.select_related("approver")))
    return _scope_by_agent(base, user, or_requested=True).order_by("-created_at", "-id")


def access_request_list(
    user: AnyUser, *, filters: Mapping[str, str] | None = None
) -> QuerySet[AccessRequest]:
    """The requests this person sees, narrowed by AccessRequestFilter's query parameters (a
    bad value raises InvalidFilters)."""
    return filtered(AccessRequestFilter, requests_visible_to(user), filters, user=user)


def access_request_get_for_user(user: AnyUser, pk: int | str) -> AccessRequest:
    return get_by_pk(requests_visible_to(user), pk, f"No access request #{pk}.")


def requests_awaiting(user: AnyUser) -> QuerySet[AccessRequest]:
    """Pending requests this security member may approve now: oldest first (never one they
    confirmed for their agent: access.permissions.approval_refusal)."""
    return awaiting_approval_by(user, requests_visible_to(user)).exclude(confirmed_by=user.pk)


def requests_of_agent(agent: Agent) -> QuerySet[AccessRequest]:
    """The agent's own requests: all an agent acting as itself (over MCP) may read."""
    return (
        AccessRequest.objects.filter(agent=agent)
        .select_related("agent", "agent__team", "capability", "requested_by", "grant")
        .prefetch_related(
            Prefetch("approvals", queryset=Approval.objects.select_related("approver"))
        )
    )


def access_request_get_for_agent(agent: Agent, pk: int | str) -> AccessRequest:
    return get_by_pk(
        requests_of_agent(agent), pk, f"No access request #{pk} for agent '{agent.slug}'."
    )


def break_glass_awaiting_review(user: AnyUser) -> QuerySet[AccessRequest]:
    if not can(user, Action.APPROVE):
        return AccessRequest.objects.none()
    return (
        requests_visible_to(user)
        .filter(break_glass=True, break_glass_reviewed_at__isnull=True)
        .exclude(requested_by=user.pk)
        .exclude(agent__owner=user.pk)  # permissions.break_glass_review_refusal, as a query
        .order_by("created_at", "id")
    )


def grants_visible_to(user: AnyUser) -> QuerySet[Grant]:
    base = Grant.objects.select_related("agent", "capability", "request", "revoked_by")
    return _scope_by_agent(base, user).order_by("-starts_at", "-id")


def grant_list(user: AnyUser, *, filters: Mapping[str, str] | None = None) -> QuerySet[Grant]:
    """The grants this person sees, narrowed by GrantFilter's query parameters."""
    return filtered(GrantFilter, grants_visible_to(user), filters, user=user)


def grant_get_for_user(user: AnyUser, pk: int | str) -> Grant:
    visible = grants_visible_to(user).select_related(
        "agent__owner", "agent__team", "request__requested_by"
    )
    return get_by_pk(visible, pk, f"No grant #{pk}.")


def grants_active_for_agent_visible_to(user: AnyUser, agent_id: int) -> QuerySet[Grant]:
    """The agent's active grants this person may read (the scope of the grants API)."""
    return (
        grants_visible_to(user).filter(grant_active_q(), agent_id=agent_id).order_by("expires_at")
    )


def grants_active_for_agent(agent_id: int) -> QuerySet[Grant]:
    return (
        Grant.objects.filter(grant_active_q(), agent_id=agent_id)
        .select_related("capability", "request")
        .order_by("expires_at")
    )


def filter_choices(user: AnyUser) -> dict[str, list[str]]:
    """The agents (slugs) whose requests and grants this person sees, and every capability
    (keys): what the list pages offer to filter by."""
    agents = permissions.agents_with_records_visible_to(user)
    agents = Agent.objects.all() if agents is None else agents
    return {
        "agents": list(agents.order_by("slug").values_list("slug", flat=True).distinct()),
        "capabilities": list(Capability.objects.order_by("key").values_list("key", flat=True)),
    }
