from registry.models.access import AccessRequest, Approval, Grant, RequestStatus
from registry.models.decisions import Activity, Decision, DecisionOutcome, ReviewStatus
from registry.models.inventory import Agent, AgentStatus, Capability, Team, Tier, Tool, ToolCategory
from registry.models.policy import Effect, PolicyRule, PolicyStatus, PolicyVersion

__all__ = [
    "AccessRequest",
    "Activity",
    "Approval",
    "Decision",
    "DecisionOutcome",
    "Grant",
    "RequestStatus",
    "ReviewStatus",
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
