"""Policy reads: the latest published version, the matrix, and diffs between versions."""

from dataclasses import dataclass

from django.db.models import QuerySet

from kernel.errors import ApplicationError, NotFound
from registry.models import Capability, PolicyRule, PolicyStatus, PolicyVersion, Tier


def policy_latest_published() -> PolicyVersion | None:
    return (
        PolicyVersion.objects.filter(status=PolicyStatus.PUBLISHED)
        .select_related("published_by")
        .order_by("-number")
        .first()
    )


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


def _rule_map(version: PolicyVersion) -> dict[tuple[str, str], dict[str, object]]:
    return {
        (rule.tier, rule.capability.key): {
            "effect": rule.effect,
            "max_duration_hours": rule.max_duration_hours,
        }
        for rule in policy_rules(version)
    }


def policy_diff(version: PolicyVersion, against: PolicyVersion) -> list[RuleChange]:
    """What changes going from `against` to `version` (rules added, removed or changed)."""
    if version.pk == against.pk:
        raise ApplicationError("Pick two different versions to compare.", field="against")
    old, new = _rule_map(against), _rule_map(version)
    changes = []
    tier_order = {tier: index for index, tier in enumerate(Tier.values)}
    for key in sorted(old.keys() | new.keys(), key=lambda k: (tier_order[k[0]], k[1])):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        kind = "added" if before is None else "removed" if after is None else "changed"
        changes.append(RuleChange(key[0], key[1], kind, before, after))
    return changes
