"""Collectors that read the agent inventory: AGC-08 (ownership), AGC-09 (attestation).

Both judge the inventory as it stands at the end of the period (or now, if sooner): agents
registered by then and not retired. The registry keeps the current owner and the latest
attestation only, so for a period in the past an agent attested again since then counts
as attested; the audit trail holds the history.
"""

from datetime import datetime

from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse

from compliance.collectors.base import SAMPLE_SIZE, Collector, Evidence, Sample
from compliance.period import Period
from registry.models import Agent, AgentStatus
from registry.selectors.agents import stale_before


def agents_in_inventory(period: Period) -> QuerySet[Agent]:
    return Agent.objects.filter(created_at__lt=period.until).exclude(status=AgentStatus.RETIRED)


def _agent_url(slug: str) -> str:
    return reverse("registry:agent-detail", kwargs={"slug": slug})


class InventoryOwnership(Collector):
    ref_id = "AGC-08"
    checks = (
        "checked: agents registered by the end of the period and not retired; "
        "failed: their owner's account is deactivated"
    )

    def collect(self, period: Period) -> Evidence:
        agents = agents_in_inventory(period)
        ownerless = Q(owner__is_active=False)
        figures = agents.aggregate(
            checked=Count("pk"),
            failed=Count("pk", filter=ownerless),
            registered_in_period=Count("pk", filter=Q(created_at__gte=period.since)),
            production=Count("pk", filter=Q(tier="production")),
            teams=Count("team", distinct=True),
        )
        samples = [
            Sample(
                kind="agent",
                id=slug,
                label=f"{slug} ({tier}) owned by {owner}"
                + ("" if active else " — owner deactivated"),
                url=_agent_url(slug),
                failed=not active,
            )
            for slug, tier, owner, active in agents.order_by(
                "owner__is_active", "slug"
            ).values_list("slug", "tier", "owner__username", "owner__is_active")[:SAMPLE_SIZE]
        ]
        return Evidence(
            checked=figures["checked"],
            failed=figures["failed"],
            figures={
                "agents": figures["checked"],
                "agents_without_active_owner": figures["failed"],
                "registered_in_period": figures["registered_in_period"],
                "production_agents": figures["production"],
                "teams": figures["teams"],
            },
            samples=samples,
        )


class PeriodicAttestation(Collector):
    ref_id = "AGC-09"
    checks = (
        "checked: agents registered by the end of the period and not retired; "
        "failed: not attested within the attestation window (90 days) at the period's end"
    )

    def collect(self, period: Period) -> Evidence:
        as_of: datetime = period.as_of()
        overdue = Q(last_attested_at__isnull=True) | Q(last_attested_at__lt=stale_before(as_of))
        agents = agents_in_inventory(period)
        figures = agents.aggregate(
            checked=Count("pk"),
            failed=Count("pk", filter=overdue),
            attested_in_period=Count(
                "pk",
                filter=Q(last_attested_at__gte=period.since, last_attested_at__lt=period.until),
            ),
            never_attested=Count("pk", filter=Q(last_attested_at__isnull=True)),
        )
        samples = [
            Sample(
                kind="agent",
                id=slug,
                label=f"{slug}: last attested "
                + (f"{attested:%Y-%m-%d}" if attested else "never")
                + f" (owner {owner})",
                url=_agent_url(slug),
                failed=attested is None or attested < stale_before(as_of),
            )
            for slug, attested, owner in agents.order_by(
                F("last_attested_at").asc(nulls_first=True), "slug"
            ).values_list("slug", "last_attested_at", "owner__username")[:SAMPLE_SIZE]
        ]
        return Evidence(
            checked=figures["checked"],
            failed=figures["failed"],
            figures={
                "agents": figures["checked"],
                "overdue_at_period_end": figures["failed"],
                "never_attested": figures["never_attested"],
                "attested_in_period": figures["attested_in_period"],
            },
            samples=samples,
        )
