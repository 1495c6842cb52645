"""What the MCP resources show, for one agent: its registry record (as the API shows it) and
the published policy for its tier."""

from typing import Any

from agent_mcp.answers import TierPolicy, TierRule
from registry.api.serializers import AgentOut
from registry.models import Agent
from registry.selectors.policy import policy_latest_published, policy_rules


def agent_record(agent: Agent) -> dict[str, Any]:
    return dict(AgentOut(agent).data)


def tier_policy(agent: Agent) -> TierPolicy:
    version = policy_latest_published()
    rules = [] if version is None else policy_rules(version).filter(tier=agent.tier)
    return TierPolicy(
        agent=agent.slug,
        tier=agent.tier,
        policy_version=version.number if version is not None else None,
        rules=[
            TierRule(
                capability=rule.capability.key,
                high_risk=rule.capability.high_risk,
                effect=rule.effect,
                max_duration_hours=rule.max_duration_hours,
            )
            for rule in rules
        ],
        note="A capability without a rule here is denied.",
    )
