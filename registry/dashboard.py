"""Dashboard panels about the inventory: agents to re-attest, orphaned agents, figures."""

from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse

from kernel.dashboard import attention
from kernel.permissions import Action, AnyUser, can
from registry.models import Agent, AgentStatus
from registry.rules import attestation_overdue_q, orphaned_q


def inventory_panels(user: AnyUser) -> list[dict]:
    """Agents to re-attest (an engineer's own; everyone's for security and auditors), orphaned
    agents (security), and figures: active agents, agents I own."""
    if not can(user, Action.VIEW_INVENTORY):
        return []
    stale = attestation_overdue_q()
    counts = Agent.objects.aggregate(
        active=Count("pk", filter=Q(status=AgentStatus.ACTIVE)),
        stale=Count("pk", filter=stale),
        mine=Count("pk", filter=Q(owner=user)),
        mine_stale=Count("pk", filter=Q(owner=user) & stale),
        orphaned=Count("pk", filter=orphaned_q()),
    )
    agents_url = reverse("registry:agent-list")
    days = settings.ATTESTATION_MAX_AGE.days
    # Security and auditors answer for the whole inventory; an engineer for their own agents.
    everyone = can(user, Action.APPROVE) or can(user, Action.VIEW_AUDIT_TRAIL)
    mine_query, stale_query = {"owner": user.get_username()}, {"stale": "true"}
    panels = [
        attention(
            "stale-agents",
            f"Agents not attested within {days} days"
            if everyone
            else f"My agents to re-attest (not attested within {days} days)",
            counts["stale"] if everyone else counts["mine_stale"],
            f"{agents_url}?{urlencode(stale_query if everyone else {**mine_query, **stale_query})}",
            rank=80,
        ),
        {
            "key": "active-agents",
            "title": "Active agents",
            "value": counts["active"],
            "link": agents_url + "?status=active",
            "link_label": "Inventory",
        },
    ]
    if can(user, Action.REASSIGN_AGENT):
        panels.append(
            attention(
                "orphaned-agents",
                "Orphaned agents (owner left)",
                counts["orphaned"],
                agents_url + "?orphaned=true",
                rank=70,
            )
        )
    if can(user, Action.REGISTER_AGENT):
        panels.append(
            {
                "key": "my-agents",
                "title": "Agents I own",
                "value": counts["mine"],
                "link": f"{agents_url}?{urlencode(mine_query)}",
                "link_label": "My agents",
            }
        )
    return panels
