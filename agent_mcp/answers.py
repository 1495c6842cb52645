"""What the tools answer: structured outputs (their JSON Schema is the tools' outputSchema)."""

from datetime import datetime

from pydantic import BaseModel, Field


class AccessCheck(BaseModel):
    agent: str
    capability: str
    scope: str
    decision: str = Field(description="allow or deny")
    reason: str
    policy_version: int | None
    grant: int | None = Field(description="the grant that allows it, if one does")
    exception: int | None = Field(description="the policy exception that allows it, if one does")
    decision_id: int = Field(description="the decision's entry in the portal's decision log")


class ScopedGrantAnswer(BaseModel):
    grant: int
    scope: str
    until: datetime


class CapabilityAccess(BaseModel):
    capability: str
    high_risk: bool
    decision: str
    reason: str
    until: datetime | None = Field(description="when this answer ends (None: standing)")
    grant: int | None
    exception: int | None
    scoped: list[ScopedGrantAnswer] = Field(description="grants that allow it for some scopes")


class EffectiveAccess(BaseModel):
    agent: str
    capabilities: list[CapabilityAccess]


class PolicyExplanation(BaseModel):
    agent: str
    tier: str
    capability: str
    high_risk: bool
    policy_version: int | None = Field(description="the latest published policy version")
    effect: str = Field(description="allow, jit, approval, deny, or none (no rule: deny)")
    max_duration_hours: int | None
    how_to_get_access: str


class ApprovalAnswer(BaseModel):
    approver: str
    at: datetime
    comment: str


class GrantAnswer(BaseModel):
    id: int
    scope: str
    starts_at: datetime
    expires_at: datetime
    state: str = Field(description="active, expired or revoked")
    seconds_left: int = Field(description="0 once it has ended")


class RequestStatusAnswer(BaseModel):
    id: int
    agent: str
    capability: str
    scope: str
    duration_hours: int
    status: str = Field(
        description="awaiting_owner (filed by the agent, its owner has not confirmed it yet), "
        "pending (waiting for security), approved, denied, cancelled or expired"
    )
    requested_by: str
    filed_by_agent: bool = Field(description="the agent filed it itself, for its owner")
    created_at: datetime
    required_approvals: int
    approvals: list[ApprovalAnswer]
    waiting_for: str = Field(description="who is still missing, empty when nobody is")
    decision_comment: str
    grant: GrantAnswer | None
    url: str = Field(description="the request's page in the portal")


class CredentialAnswer(BaseModel):
    access_token: str = Field(description="a JWT signed by the portal; send it as a bearer token")
    token_type: str
    expires_in: int = Field(description="seconds from now")
    expires_at: datetime
    scope: str = Field(description="the capabilities it carries, space-separated")
    resource: str = Field(description="the scope it is limited to, empty for none")
    jti: str = Field(description="its id in the portal's record of issued credentials")


class TierRule(BaseModel):
    capability: str
    high_risk: bool
    effect: str
    max_duration_hours: int | None


class TierPolicy(BaseModel):
    agent: str
    tier: str
    policy_version: int | None
    rules: list[TierRule]
    note: str
