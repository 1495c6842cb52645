from registry.models.inventory import Agent, AgentStatus, Capability, Team, Tier, Tool, ToolCategory
from registry.models.policy import Effect, PolicyRule, PolicyStatus, PolicyVersion

__all__ = [
    "Agent",
    "AgentStatus",
    "Capability",
    "Effect",
    "PolicyRule",
    "PolicyStatus",
    "PolicyVersion",
    "Team",
    "Tier",
    "Tool",
    "ToolCategory",
]
