"""What an approver reads beside an exception: why it needs its approvers, who is still
missing, the policy rule it deviates from, and how long it would last."""

from collections.abc import Iterable

from approvals import rules
from exceptions.models import PolicyException
from exceptions.services import approver_rule_for
from registry.models import PolicyRule
from registry.selectors.policy import policy_latest_published


def with_approver_rules(exceptions: Iterable[PolicyException]) -> None:
    """Why each exception needs its approvers and who is still missing (approvals.rules)."""
    rules.with_approver_rules(exceptions, lambda e: approver_rule_for(e.risk))


def with_rules_deviated_from(exceptions: Iterable[PolicyException]) -> None:
    """Set `deviates_from` on each exception: the latest published rule for its agent's tier
    and its capability, in words (two queries, however many exceptions)."""
    exceptions = [exception for exception in exceptions if exception.capability is not None]
    if not exceptions:
        return
    version = policy_latest_published()
    found: dict[tuple[str, int], PolicyRule] = {}
    if version is not None:
        rules = version.rules.filter(capability_id__in={e.capability_id for e in exceptions})
        found = {(rule.tier, rule.capability_id): rule for rule in rules}
    for exception in exceptions:
        rule = found.get((exception.agent.tier, exception.capability_id or 0))
        setattr(exception, "deviates_from", _words(exception, version, rule))  # noqa: B010


def _words(exception: PolicyException, version, rule: PolicyRule | None) -> str:
    tier, key = exception.agent.tier, exception.capability.key if exception.capability else ""
    if version is None:
        return f"no published policy (so deny) for {key} on {tier} agents"
    if rule is None:
        return f"policy v{version.number} has no rule for {key} on {tier} agents (so deny)"
    hours = f", at most {rule.max_duration_hours} h" if rule.max_duration_hours else ""
    return f"policy v{version.number}: {rule.effect}{hours} for {key} on {tier} agents"
