"""Collectors that read the published policy: AGC-01, AGC-02, AGC-06.

"In force during the period" means the latest version published before the period started
plus every version published within it. Policy rules are configuration (tiers x
capabilities per version, a few hundred rows at most), not records that grow with use.
"""

from collections import defaultdict
from collections.abc import Collection
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse

from compliance.collectors.base import SAMPLE_SIZE, Collector, Evidence, tally
from compliance.collectors.people import security_people
from compliance.collectors.population import PerVersion, Population, Rows, Sample, each
from compliance.period import Period
from registry.models import Capability, Effect, PolicyRule, PolicyStatus, PolicyVersion, Tier
from registry.policy_rules import OPEN_EFFECTS, Rule, production_looser_than

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class BySecurity(TypedDict):
    by_security: bool


def versions_in_force(period: Period) -> QuerySet[PolicyVersion]:
    published = PolicyVersion.objects.filter(
        status=PolicyStatus.PUBLISHED, published_at__isnull=False
    )
    at_start = published.filter(published_at__lt=period.since).order_by("-number").values("pk")[:1]
    return published.filter(
        Q(published_at__gte=period.since, published_at__lt=period.until) | Q(pk__in=at_start)
    )


def _version_url(number: int) -> str:
    return f"{reverse('registry:policy')}?version={number}"


def _failing_rule(number: int, tier: str, key: str, label: str) -> Sample:
    return Sample(
        kind="policy_rule",
        id=f"v{number}/{tier}/{key}",
        label=label,
        url=_version_url(number),
        failed=True,
    )


class CentralPolicyOwnership(Collector):
    ref_id = "AGC-01"
    checks = (
        "checked: policy versions in force during the period; "
        "failed: those not published by a security user"
    )

    def collect(self, period: Period) -> Evidence:
        versions = _judged_versions(period)
        by_others = Q(by_security=False)
        evidence = tally(
            versions,
            by_others,
            {
                "versions_in_force": Count("pk"),
                "versions_published_in_period": Q(published_at__gte=period.since),
                "published_by_non_security": by_others,
            },
        )
        evidence.samples = [_version_sample(row) for row in _version_rows(versions)[:SAMPLE_SIZE]]
        return evidence

    def population(self, period: Period) -> Population:
        return Population(Rows(_version_rows(_judged_versions(period)), each(_version_sample)))


def _judged_versions(period: Period) -> "QuerySet[WithAnnotations[PolicyVersion, BySecurity]]":
    by_security = Exists(security_people().filter(pk=OuterRef("published_by_id")))
    return versions_in_force(period).annotate(by_security=by_security)


def _version_rows(
    versions: "QuerySet[WithAnnotations[PolicyVersion, BySecurity]]",
) -> QuerySet[Any]:
    """Those published by someone outside security first."""
    return versions.order_by("by_security", "-number").values_list(
        "number", "published_at", "published_by__username", "by_security"
    )


def _version_sample(row: tuple) -> Sample:
    number, published_at, publisher, secure = row
    return Sample(
        kind="policy_version",
        id=str(number),
        label=f"v{number} published {published_at:%Y-%m-%d} by {publisher or 'nobody'}",
        url=_version_url(number),
        failed=not secure,
    )


class ToolAllowlists(Collector):
    ref_id = "AGC-02"
    checks = (
        "checked: every (policy version in force, tier, high-risk capability); "
        "failed: a standing allow or self-service jit rule on it (deny, no rule or "
        "approval pass)"
    )

    def collect(self, period: Period) -> Evidence:
        return self.for_versions(versions_in_force(period))

    def population(self, period: Period) -> Population:
        return Population(high_risk_slots(period, failing=OPEN_EFFECTS))

    def for_versions(self, versions: QuerySet[PolicyVersion]) -> Evidence:
        """The check on these versions (a period's, or one draft before it is published)."""
        version_count = versions.count()
        high_risk = Capability.objects.filter(high_risk=True).count()
        rules = PolicyRule.objects.filter(version__in=versions, capability__high_risk=True)
        by_effect = {
            (tier, effect): n
            for tier, effect, n in rules.values_list("tier", "effect")
            .annotate(n=Count("pk"))
            .order_by()
        }
        open_q = Q(effect__in=OPEN_EFFECTS)
        failed = sum(n for (_, effect), n in by_effect.items() if effect in OPEN_EFFECTS)
        checked = version_count * len(Tier.values) * high_risk
        figures: dict[str, int] = {
            "versions_in_force": version_count,
            "high_risk_capabilities": high_risk,
        }
        for tier in Tier.values:
            gated = by_effect.get((tier, Effect.APPROVAL), 0)
            opened = by_effect.get((tier, Effect.ALLOW), 0) + by_effect.get((tier, Effect.JIT), 0)
            figures[f"{tier}_high_risk_open"] = opened
            figures[f"{tier}_high_risk_approval"] = gated
            figures[f"{tier}_high_risk_denied"] = version_count * high_risk - opened - gated
        samples = [
            _failing_rule(
                number, tier, key, f"v{number} {tier} {key}: {effect} on a high-risk capability"
            )
            for number, tier, key, effect in rules.filter(open_q)
            .order_by("-version__number", "tier", "capability__key")
            .values_list("version__number", "tier", "capability__key", "effect")[:SAMPLE_SIZE]
        ]
        return Evidence(checked=checked, failed=failed, figures=figures, samples=samples)


class TieredPosture(Collector):
    ref_id = "AGC-06"
    checks = (
        "checked: every (policy version in force, capability); failed: production is less "
        "strict than sandbox or internal (allow < jit < approval < deny; for the same "
        "time-boxed effect, a longer maximum is less strict)"
    )

    def collect(self, period: Period) -> Evidence:
        return self.for_versions(versions_in_force(period))

    def population(self, period: Period) -> Population:
        capabilities = Capability.objects.order_by("key")

        def expand(versions: list[tuple[int, int]]) -> list[Sample]:
            rules: dict[tuple[int, int], dict[str, Rule]] = defaultdict(dict)
            for version_id, capability_id, tier, effect, hours in PolicyRule.objects.filter(
                version_id__in=[pk for pk, _ in versions]
            ).values_list("version_id", "capability_id", "tier", "effect", "max_duration_hours"):
                rules[(version_id, capability_id)][tier] = (effect, hours)
            keys = list(capabilities.values_list("pk", "key"))
            return [
                _posture_sample(number, key, production_looser_than(rules.get((pk, cap), {})))
                for pk, number in versions
                for cap, key in keys
            ]

        return Population(
            PerVersion(_ordered(versions_in_force(period)), capabilities.count, expand)
        )

    def for_versions(self, in_force: QuerySet[PolicyVersion]) -> Evidence:
        """The check on these versions (a period's, or one draft before it is published)."""
        versions = list(in_force.values_list("pk", "number"))
        capabilities = dict(Capability.objects.values_list("pk", "key"))
        rules: dict[tuple[int, int], dict[str, Rule]] = defaultdict(dict)
        for version_id, capability_id, tier, effect, hours in PolicyRule.objects.filter(
            version_id__in=[pk for pk, _ in versions]
        ).values_list("version_id", "capability_id", "tier", "effect", "max_duration_hours"):
            rules[(version_id, capability_id)][tier] = (effect, hours)
        weaker: list[tuple[int, str, str]] = []
        for version_id, number in versions:
            for capability_id, key in capabilities.items():
                looser = production_looser_than(rules.get((version_id, capability_id), {}))
                if looser:
                    weaker.append((number, key, ", ".join(looser)))
        weaker.sort(key=lambda row: (-row[0], row[1]))
        return Evidence(
            checked=len(versions) * len(capabilities),
            failed=len(weaker),
            figures={
                "versions_in_force": len(versions),
                "capabilities": len(capabilities),
                "production_less_strict": len(weaker),
            },
            samples=[
                _failing_rule(
                    number,
                    "production",
                    key,
                    f"v{number} {key}: production is less strict than {tiers}",
                )
                for number, key, tiers in weaker[:SAMPLE_SIZE]
            ],
        )


def _ordered(versions: QuerySet[PolicyVersion]) -> QuerySet[Any]:
    return versions.order_by("-number").values_list("pk", "number")


def _posture_sample(number: int, key: str, looser: list[str]) -> Sample:
    if looser:
        return _failing_rule(
            number,
            "production",
            key,
            f"v{number} {key}: production is less strict than " + ", ".join(looser),
        )
    return Sample(
        kind="policy_rule",
        id=f"v{number}/production/{key}",
        label=f"v{number} {key}: production is at least as strict as sandbox and internal",
        url=_version_url(number),
    )


def high_risk_slots(period: Period, *, failing: Collection[str]) -> PerVersion:
    """Every (policy version in force, tier, high-risk capability), with its rule's effect
    (no rule: denied); a slot whose effect is in `failing` fails (AGC-02, AGC-03)."""
    capabilities = Capability.objects.filter(high_risk=True).order_by("key")

    def expand(versions: list[tuple[int, int]]) -> list[Sample]:
        effects = {
            (version_id, tier, capability_id): effect
            for version_id, tier, capability_id, effect in PolicyRule.objects.filter(
                version_id__in=[pk for pk, _ in versions], capability__high_risk=True
            ).values_list("version_id", "tier", "capability_id", "effect")
        }
        keys = list(capabilities.values_list("pk", "key"))
        samples = []
        for pk, number in versions:
            for tier in Tier.values:
                for capability_id, key in keys:
                    effect = effects.get((pk, tier, capability_id))
                    samples.append(
                        Sample(
                            kind="policy_rule",
                            id=f"v{number}/{tier}/{key}",
                            label=f"v{number} {tier} {key}: {effect or 'no rule (denied)'} on "
                            "a high-risk capability",
                            url=_version_url(number),
                            failed=effect in failing,
                        )
                    )
        return samples

    return PerVersion(
        _ordered(versions_in_force(period)),
        lambda: len(Tier.values) * capabilities.count(),
        expand,
    )
