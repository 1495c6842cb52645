"""Dashboard panels about the inventory."""

from datetime import timedelta

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from portal.permissions import Action, AnyUser, can
from registry import permissions
from registry.models import (
    AccessRequest,
    Activity,
    Agent,
    AgentStatus,
    Decision,
    RequestStatus,
    ReviewStatus,
)
from registry.selectors.access import (
    active_q,
    break_glass_awaiting_review,
    grants_visible_to,
    requests_awaiting,
)
from registry.selectors.agents import stale_before


def inventory_panels(user: AnyUser) -> list[dict]:
    if not permissions.can_view_inventory(user):
        return []
    counts = Agent.objects.aggregate(
        active=Count("pk", filter=Q(status=AgentStatus.ACTIVE)),
        stale=Count(
            "pk",
            filter=~Q(status=AgentStatus.RETIRED)
            & (Q(last_attested_at__isnull=True) | Q(last_attested_at__lt=stale_before())),
        ),
        mine=Count("pk", filter=Q(owner=user) & ~Q(status=AgentStatus.RETIRED)),
    )
    agents_url = reverse("registry:agent-list")
    panels = [
        {
            "key": "active-agents",
            "title": "Active agents",
            "value": counts["active"],
            "link": agents_url + "?status=active",
            "link_label": "Inventory",
        },
        {
            "key": "stale-agents",
            "title": "Stale attestations (over 90 days)",
            "value": counts["stale"],
            "link": agents_url,
            "link_label": "Review the inventory",
        },
    ]
    if permissions.can_register_agent(user):
        panels.append(
            {
                "key": "my-agents",
                "title": "Agents I own",
                "value": counts["mine"],
                "link": agents_url + f"?owner={user.get_username()}",
                "link_label": "My agents",
            }
        )
    return panels


def access_panels(user: AnyUser) -> list[dict]:
    """My pending requests; security's queue; grants ending within 24 h; break-glass use."""
    panels = []
    recent_break_glass = AccessRequest.objects.filter(
        break_glass=True, created_at__gte=timezone.now() - timedelta(days=30)
    ).count()
    if can(user, Action.REQUEST_ACCESS):
        panels.append(
            {
                "key": "my-pending-requests",
                "title": "My pending requests",
                "value": AccessRequest.objects.filter(
                    requested_by=user, status=RequestStatus.PENDING
                ).count(),
                "link": reverse("registry:request-list") + "?status=pending",
                "link_label": "My requests",
            }
        )
    if can(user, Action.APPROVE):
        panels.append(
            {
                "key": "approval-queue",
                "title": "Requests waiting for my approval",
                "value": requests_awaiting(user).count(),
                "link": reverse("registry:approvals"),
                "link_label": "Approvals",
            }
        )
        panels.append(
            {
                "key": "break-glass",
                "title": "Break-glass to review (uses in the last 30 days)",
                "value": f"{break_glass_awaiting_review(user).count()} ({recent_break_glass})",
                "link": reverse("registry:approvals"),
                "link_label": "Review",
            }
        )
    if can(user, Action.VIEW_PORTAL):
        now = timezone.now()
        expiring = grants_visible_to(user).filter(
            active_q(now), expires_at__lte=now + timedelta(hours=24)
        )
        panels.append(
            {
                "key": "grants-expiring",
                "title": "Grants expiring within 24 hours",
                "value": expiring.count(),
                "link": reverse("registry:request-list") + "?all=1",
                "link_label": "Requests",
            }
        )
    return panels


def drift_panels(user: AnyUser) -> list[dict]:
    """Security: flagged activity nobody has reviewed yet; everyone with the log: decisions."""
    panels = []
    if can(user, Action.REVIEW_ACTIVITY):
        panels.append(
            {
                "key": "drift",
                "title": "Flagged activity to review",
                "value": Activity.objects.filter(
                    flagged=True, review_status=ReviewStatus.PENDING
                ).count(),
                "link": reverse("registry:review"),
                "link_label": "Drift review",
            }
        )
    if can(user, Action.VIEW_AUDIT_TRAIL):
        panels.append(
            {
                "key": "decisions-24h",
                "title": "Decisions in the last 24 hours",
                "value": Decision.objects.filter(
                    decided_at__gte=timezone.now() - timedelta(hours=24)
                ).count(),
            }
        )
    return panels
