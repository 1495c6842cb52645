from registry.models.access import AccessRequest, Approval, Grant, RequestStatus
from registry.models.decisions import Activity, Decision, DecisionOutcome, ReviewStatus
from registry.models.inventory import Agent, AgentStatus, Capability, Team, Tier, Tool, ToolCategory
from registry.models.policy import Effect, PolicyRule, PolicyStatus, PolicyVersion

__all__ = [
    "AccessRequest",
    "Activity",
    "Agent",
    "AgentStatus",
    "Approval",
    "Capability",
    "Decision",
    "DecisionOutcome",
    "Effect",
    "Grant",
    "PolicyRule",
    "PolicyStatus",
    "PolicyVersion",
    "RequestStatus",
    "ReviewStatus",
    "Team",
    "Tier",
    "Tool",
    "ToolCategory",
]
