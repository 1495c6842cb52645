"""Policy reads: the latest published version, the matrix, and diffs between versions."""

from dataclasses import dataclass

from django.db.models import QuerySet

from kernel.errors import ApplicationError, NotFound
from registry.models import Capability, PolicyRule, PolicyStatus, PolicyVersion, Tier
from registry.policy_rules import Loosening, RuleMap, loosenings


def policy_latest_published() -> PolicyVersion | None:
    return (
        PolicyVersion.objects.filter(status=PolicyStatus.PUBLISHED)
        .select_related("published_by")
        .order_by("-number")
        .first()
    )


def published_rule(
    tier: str, capability: Capability
) -> tuple[PolicyVersion | None, PolicyRule | None]:
    """The latest published version and its rule for (tier, capability); None: no such
    version, or no rule (which denies)."""
    version = policy_latest_published()
    rule = version.rules.filter(tier=tier, capability=capability).first() if version else None
    return version, rule


def policy_draft() -> PolicyVersion | None:
    return PolicyVersion.objects.filter(status=PolicyStatus.DRAFT).first()


def policy_versions() -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.select_related("created_by", "published_by").order_by("-number")


def policy_version_get(number: int | str) -> PolicyVersion:
    try:
        return PolicyVersion.objects.select_related("created_by", "published_by").get(
            number=int(number)
        )
    except (PolicyVersion.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"No policy version {number}.") from None


def policy_rules(version: PolicyVersion) -> QuerySet[PolicyRule]:
    return version.rules.select_related("capability").order_by("tier", "capability__key")


def policy_matrix(version: PolicyVersion | None) -> list[dict[str, object]]:
    """One row per capability, one cell per tier (None where no rule: deny)."""
    cells: dict[tuple[int, str], PolicyRule] = {}
    if version is not None:
        cells = {(rule.capability_id, rule.tier): rule for rule in policy_rules(version)}
    rows = []
    for capability in Capability.objects.select_related("tool").order_by("key"):
        rows.append(
            {
                "capability": capability,
                "cells": [
                    {"tier": tier, "rule": cells.get((capability.pk, tier))} for tier in Tier.values
                ],
            }
        )
    return rows


@dataclass(frozen=True)
class RuleChange:
    tier: str
    capability: str
    change: str  # added | removed | changed
    before: dict[str, object] | None
    after: dict[str, object] | None


def policy_rule_map(version: PolicyVersion | None) -> RuleMap:
    """(tier, capability key) -> (effect, max_duration_hours): a version's rules, one query."""
    if version is None:
        return {}
    return {
        (tier, key): (effect, hours)
        for tier, key, effect, hours in version.rules.values_list(
            "tier", "capability__key", "effect", "max_duration_hours"
        )
    }


def policy_loosenings(version: PolicyVersion) -> list[Loosening]:
    """How `version` is less strict than the latest published version before it (or than
    nothing published: everything denied). The warnings a publish must answer."""
    published = (
        PolicyVersion.objects.filter(status=PolicyStatus.PUBLISHED, number__lt=version.number)
        .order_by("-number")
        .first()
    )
    high_risk = set(Capability.objects.filter(high_risk=True).values_list("key", flat=True))
    return loosenings(policy_rule_map(published), policy_rule_map(version), high_risk)


def _as_dict(rule: tuple[str, int | None] | None) -> dict[str, object] | None:
    return None if rule is None else {"effect": rule[0], "max_duration_hours": rule[1]}


def rule_changes(old: RuleMap, new: RuleMap) -> list[RuleChange]:
    """What changes going from the rules `old` to the rules `new` (added, removed, changed)."""
    changes = []
    tier_order = {tier: index for index, tier in enumerate(Tier.values)}
    for key in sorted(old.keys() | new.keys(), key=lambda k: (tier_order[k[0]], k[1])):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        kind = "added" if before is None else "removed" if after is None else "changed"
        changes.append(RuleChange(key[0], key[1], kind, _as_dict(before), _as_dict(after)))
    return changes


def policy_diff(version: PolicyVersion, against: PolicyVersion) -> list[RuleChange]:
    """What changes going from `against` to `version` (rules added, removed or changed)."""
    if version.pk == against.pk:
        raise ApplicationError("Pick two different versions to compare.", field="against")
    return rule_changes(policy_rule_map(against), policy_rule_map(version))
