"""Dashboard panels about the inventory."""

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse

from kernel.permissions import Action, AnyUser, can
from registry.models import Agent, AgentStatus
from registry.rules import orphaned_q
from registry.selectors.agents import stale_q


def inventory_panels(user: AnyUser) -> list[dict]:
    if not can(user, Action.VIEW_INVENTORY):
        return []
    counts = Agent.objects.aggregate(
        active=Count("pk", filter=Q(status=AgentStatus.ACTIVE)),
        stale=Count(
            "pk",
            filter=~Q(status=AgentStatus.RETIRED) & stale_q(),
        ),
        mine=Count("pk", filter=Q(owner=user) & ~Q(status=AgentStatus.RETIRED)),
        orphaned=Count("pk", filter=orphaned_q()),
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
            "title": f"Stale attestations (over {settings.ATTESTATION_MAX_AGE.days} days)",
            "value": counts["stale"],
            "link": agents_url,
            "link_label": "Review the inventory",
        },
    ]
    if can(user, Action.REASSIGN_AGENT):
        panels.append(
            {
                "key": "orphaned-agents",
                "title": "Orphaned agents (owner left)",
                "value": counts["orphaned"],
                "link": agents_url + "?orphaned=true",
                "link_label": "Reassign their owners",
            }
        )
    if can(user, Action.REGISTER_AGENT):
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
