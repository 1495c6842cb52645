"""Dashboard panels about the inventory."""

from django.db.models import Count, Q
from django.urls import reverse

from kernel.permissions import AnyUser
from registry import permissions
from registry.models import Agent, AgentStatus
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
