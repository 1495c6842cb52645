"""Collectors that read the agent inventory: AGC-08 (ownership), AGC-09 (attestation).

Both judge the inventory as it stands at the end of the period (or now, if sooner): agents
registered by then and not retired. The registry keeps the current owner and the latest
attestation only, so for a period in the past an agent attested again since then counts
as attested; the audit trail holds the history.
"""

from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse

from compliance.collectors.base import SAMPLE_SIZE, Collector, Evidence, tally
from compliance.collectors.population import Population, Rows, Sample, each
from compliance.period import Period
from registry.models import Agent, AgentStatus
from registry.rules import orphaned_q, stale_before


def agents_in_inventory(period: Period) -> QuerySet[Agent]:
    return Agent.objects.filter(created_at__lt=period.until).exclude(status=AgentStatus.RETIRED)


def _agent_url(slug: str) -> str:
    return reverse("registry:agent-detail", kwargs={"slug": slug})


class InventoryOwnership(Collector):
    ref_id = "AGC-08"
    checks = (
        "checked: agents registered by the end of the period and not retired; "
        "failed: orphaned, their owner left (account deactivated) and nobody was made "
        "owner in their place, so no one is accountable for them"
    )

    def collect(self, period: Period) -> Evidence:
        agents = agents_in_inventory(period)
        # Within the agents not retired, `orphaned_q` is exactly "the owner is deactivated".
        orphaned = orphaned_q()
        evidence = tally(
            agents,
            orphaned,
            {
                "agents": Count("pk"),
                "orphaned": orphaned,
                "agents_without_active_owner": orphaned,
                "registered_in_period": Q(created_at__gte=period.since),
                "production_agents": Q(tier="production"),
                "teams": Count("team", distinct=True),
            },
        )
        evidence.samples = [_owner_sample(row) for row in _owner_rows(agents)[:SAMPLE_SIZE]]
        return evidence

    def population(self, period: Period) -> Population:
        return Population(Rows(_owner_rows(agents_in_inventory(period)), each(_owner_sample)))


def _owner_rows(agents: QuerySet[Agent]) -> QuerySet[Any]:
    """The orphaned agents first."""
    return agents.order_by("owner__is_active", "slug").values_list(
        "slug", "tier", "owner__username", "owner__is_active"
    )


def _owner_sample(row: tuple) -> Sample:
    slug, tier, owner, active = row
    return Sample(
        kind="agent",
        id=slug,
        label=f"{slug} ({tier}) owned by {owner}"
        + ("" if active else f" — orphaned: owner {owner} left"),
        url=_agent_url(slug),
        failed=not active,
    )


class PeriodicAttestation(Collector):
    ref_id = "AGC-09"
    checks = (
        "checked: agents registered by the end of the period and not retired; "
        "failed: not attested within the attestation window "
        f"({settings.ATTESTATION_MAX_AGE.days} days) at the period's end"
    )

    def collect(self, period: Period) -> Evidence:
        as_of: datetime = period.as_of()
        overdue = Q(last_attested_at__isnull=True) | Q(last_attested_at__lt=stale_before(as_of))
        agents = agents_in_inventory(period)
        evidence = tally(
            agents,
            overdue,
            {
                "agents": Count("pk"),
                "overdue_at_period_end": overdue,
                "never_attested": Q(last_attested_at__isnull=True),
                "attested_in_period": Q(
                    last_attested_at__gte=period.since, last_attested_at__lt=period.until
                ),
            },
        )
        stale = stale_before(as_of)
        evidence.samples = [
            _attested_sample(row, stale) for row in _attested_rows(agents)[:SAMPLE_SIZE]
        ]
        return evidence

    def population(self, period: Period) -> Population:
        stale = stale_before(period.as_of())
        rows = _attested_rows(agents_in_inventory(period))
        return Population(Rows(rows, each(partial(_attested_sample, stale=stale))))


def _attested_rows(agents: QuerySet[Agent]) -> QuerySet[Any]:
    """Never attested first, then the longest ago."""
    return agents.order_by(F("last_attested_at").asc(nulls_first=True), "slug").values_list(
        "slug", "last_attested_at", "owner__username"
    )


def _attested_sample(row: tuple, stale: datetime) -> Sample:
    slug, attested, owner = row
    return Sample(
        kind="agent",
        id=slug,
        label=f"{slug}: last attested "
        + (f"{attested:%Y-%m-%d}" if attested else "never")
        + f" (owner {owner})",
        url=_agent_url(slug),
        failed=attested is None or attested < stale,
    )
