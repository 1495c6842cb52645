from registry.models.inventory import (
    CAPABILITY_KEY_MAX_LENGTH,
    Agent,
    AgentStatus,
    Capability,
    Team,
    Tier,
    Tool,
    ToolCategory,
)
from registry.models.policy import Effect, PolicyRule, PolicyStatus, PolicyVersion

__all__ = [
    "CAPABILITY_KEY_MAX_LENGTH",
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
