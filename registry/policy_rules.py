"""What a policy rule may be, how strict it is, and which changes loosen the policy.

`validate_rule` is the shape of one rule, for the editor, the API and the policy file alike.
One ordering serves the publish warnings (`loosenings`), the impact page and the AGC-02 and
AGC-06 collectors: allow < jit < approval < deny, a missing rule counts as deny (as the
decision engine treats it), and for the same time-boxed effect a longer maximum is less strict.
"""

from dataclasses import asdict, dataclass

from django.conf import settings

from kernel.errors import ApplicationError
from registry.models import Effect, Tier
from registry.models.policy import TIME_BOXED_EFFECTS

# Strictness of an effect; a missing rule counts as deny.
STRICTNESS: dict[str, int] = {Effect.ALLOW: 0, Effect.JIT: 1, Effect.APPROVAL: 2, Effect.DENY: 3}
LOWER_TIERS = (Tier.SANDBOX, Tier.INTERNAL)
# Effects that open a high-risk capability without security looking at each use (AGC-02).
OPEN_EFFECTS = frozenset({Effect.ALLOW, Effect.JIT})

# (effect, max_duration_hours) of one rule; None where the version has no rule (deny).
Rule = tuple[str, int | None]
RuleMap = dict[tuple[str, str], Rule]  # (tier, capability key) -> rule


def validate_rule(*, tier: str, effect: str, max_duration_hours: int | None) -> int | None:
    """The rule's shape: a time box for jit/approval, none for allow/deny."""
    if tier not in Tier.values:
        raise ApplicationError(
            f"Unknown tier '{tier}'; use one of {', '.join(Tier.values)}.", field="tier"
        )
    if effect not in Effect.values:
        raise ApplicationError(
            f"Unknown effect '{effect}'; use one of {', '.join(Effect.values)}.", field="effect"
        )
    limit = settings.POLICY_MAX_DURATION_HOURS
    a_rule = f"{'An' if effect[0] in 'aeiou' else 'A'} {effect} rule"
    if effect in TIME_BOXED_EFFECTS:
        if max_duration_hours is None:
            raise ApplicationError(
                f"{a_rule} needs a maximum duration (1 to {limit} hours).",
                field="max_duration_hours",
            )
        if not 1 <= max_duration_hours <= limit:
            raise ApplicationError(
                f"The maximum duration must be between 1 and {limit} hours (no standing access).",
                field="max_duration_hours",
            )
        return max_duration_hours
    if max_duration_hours is not None:
        raise ApplicationError(
            f"{a_rule} has no maximum duration: leave it empty.",
            field="max_duration_hours",
        )
    return None


def strictness(rule: Rule | None) -> tuple[int, int]:
    """Bigger is stricter. Hours are negated: a longer maximum is less strict."""
    if rule is None:
        return (STRICTNESS[Effect.DENY], 0)
    effect, hours = rule
    return (STRICTNESS[effect], -(hours or 0))


def production_looser_than(cells: dict[str, Rule]) -> list[str]:
    """The lower tiers (sandbox, internal) that are stricter than production for one
    capability: production should never be the easiest place for an agent to act."""
    production = strictness(cells.get(Tier.PRODUCTION))
    return [tier for tier in LOWER_TIERS if production < strictness(cells.get(tier))]


def describe(rule: Rule | None) -> str:
    if rule is None:
        return "no rule, deny"
    effect, hours = rule
    return f"{effect} ≤ {hours}h" if hours else effect


LOOSENING_LABELS = {
    "high_risk_opened": "High-risk opened",
    "effect_loosened": "Loosened",
    "production_less_strict": "Production less strict",
    "duration_increased": "Longer maximum",
}


@dataclass(frozen=True)
class Loosening:
    """One way a new version is less strict than the one in force: a publish warning."""

    kind: str  # high_risk_opened | effect_loosened | production_less_strict | duration_increased
    tier: str
    capability: str
    before: str
    after: str
    message: str

    @property
    def label(self) -> str:
        return LOOSENING_LABELS[self.kind]

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _cells(rules: RuleMap, capability: str) -> dict[str, Rule]:
    return {tier: rules[(tier, capability)] for tier in Tier.values if (tier, capability) in rules}


def _rule_loosening(
    key: tuple[str, str], old: Rule | None, new: Rule | None, high_risk: bool
) -> Loosening | None:
    tier, capability = key
    before, after = describe(old), describe(new)
    where = f"{tier} {capability}"
    if strictness(new)[0] < strictness(old)[0]:
        if high_risk and new is not None and new[0] in OPEN_EFFECTS:
            message = f"High-risk {where} becomes '{new[0]}' (was {before})."
            return Loosening("high_risk_opened", tier, capability, before, after, message)
        message = f"{where} loosens from {before} to {after}."
        return Loosening("effect_loosened", tier, capability, before, after, message)
    if old is not None and new is not None and old[0] == new[0] and (new[1] or 0) > (old[1] or 0):
        message = f"{where}: the maximum duration goes up from {old[1]}h to {new[1]}h."
        return Loosening("duration_increased", tier, capability, before, after, message)
    return None


def loosenings(before: RuleMap, after: RuleMap, high_risk: set[str]) -> list[Loosening]:
    """Every way `after` is less strict than `before` (the published version, or nothing):
    a rule that loosens (a high-risk capability opening to allow or jit named as such), a
    maximum duration going up, and production newly less strict than sandbox or internal."""
    found: list[Loosening] = []
    tier_order = {tier: index for index, tier in enumerate(Tier.values)}
    for key in sorted(before.keys() | after.keys(), key=lambda k: (k[1], tier_order[k[0]])):
        loosened = _rule_loosening(key, before.get(key), after.get(key), key[1] in high_risk)
        if loosened is not None:
            found.append(loosened)
    for capability in sorted({key for _, key in after}):
        cells = _cells(after, capability)
        already = set(production_looser_than(_cells(before, capability)))
        newly = [tier for tier in production_looser_than(cells) if tier not in already]
        if newly:
            production = describe(cells.get(Tier.PRODUCTION))
            stricter = ", ".join(f"{tier} ({describe(cells.get(tier))})" for tier in newly)
            found.append(
                Loosening(
                    "production_less_strict",
                    Tier.PRODUCTION,
                    capability,
                    stricter,
                    production,
                    f"production {capability} ({production}) is less strict than {stricter}.",
                )
            )
    return found
