"""Output shapes of the registry API, and input validation that carries no business rule."""

from rest_framework import serializers

from registry.models import (
    AccessRequest,
    Agent,
    Approval,
    Capability,
    Grant,
    PolicyRule,
    PolicyVersion,
    Team,
    Tier,
    Tool,
    ToolCategory,
)
from registry.selectors import agents as agent_selectors


class TeamOut(serializers.ModelSerializer):
    members = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)

    class Meta:
        model = Team
        fields = ["slug", "name", "business_unit", "members"]


class TeamIn(serializers.Serializer):
    slug = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    business_unit = serializers.CharField(max_length=200, required=False, allow_blank=True)
    members = serializers.ListField(child=serializers.CharField(), required=False)


class AgentOut(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")
    team = serializers.CharField(source="team.slug")
    attestation_stale = serializers.SerializerMethodField()

    class Meta:
        model = Agent
        fields = [
            "slug",
            "name",
            "description",
            "owner",
            "team",
            "tier",
            "status",
            "vendor",
            "workload_identity",
            "repositories",
            "last_attested_at",
            "attestation_stale",
            "created_at",
            "updated_at",
        ]

    def get_attestation_stale(self, agent: Agent) -> bool:
        return agent_selectors.is_stale(agent)


class AgentIn(serializers.Serializer):
    slug = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    team = serializers.CharField(max_length=64, help_text="team slug")
    tier = serializers.ChoiceField(choices=Tier.choices)
    workload_identity = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True)
    vendor = serializers.CharField(max_length=200, required=False, allow_blank=True)
    repositories = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=100
    )
    owner = serializers.CharField(required=False, help_text="username; defaults to the caller")


class AgentPatchIn(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    team = serializers.CharField(max_length=64, required=False)
    tier = serializers.ChoiceField(choices=Tier.choices, required=False)
    workload_identity = serializers.CharField(max_length=255, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    vendor = serializers.CharField(max_length=200, required=False, allow_blank=True)
    repositories = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=100
    )


class CapabilityOut(serializers.ModelSerializer):
    tool = serializers.CharField(source="tool.slug")

    class Meta:
        model = Capability
        fields = ["key", "tool", "action", "high_risk", "description"]


class CapabilityNested(serializers.ModelSerializer):
    class Meta:
        model = Capability
        fields = ["key", "action", "high_risk", "description"]


class ToolOut(serializers.ModelSerializer):
    capabilities = CapabilityNested(many=True, read_only=True)

    class Meta:
        model = Tool
        fields = ["slug", "name", "category", "description", "capabilities"]


class ToolIn(serializers.Serializer):
    slug = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    category = serializers.ChoiceField(choices=ToolCategory.choices)
    description = serializers.CharField(required=False, allow_blank=True)


class ToolPatchIn(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    category = serializers.ChoiceField(choices=ToolCategory.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class CapabilityIn(serializers.Serializer):
    tool = serializers.CharField(max_length=64, help_text="tool slug")
    action = serializers.CharField(max_length=64)
    high_risk = serializers.BooleanField(default=False)
    description = serializers.CharField(required=False, allow_blank=True)


class CapabilityPatchIn(serializers.Serializer):
    high_risk = serializers.BooleanField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class PolicyRuleOut(serializers.ModelSerializer):
    capability = serializers.CharField(source="capability.key")

    class Meta:
        model = PolicyRule
        fields = ["tier", "capability", "effect", "max_duration_hours"]


class PolicyVersionSummaryOut(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username")
    published_by = serializers.CharField(source="published_by.username", default=None)
    based_on = serializers.IntegerField(source="based_on.number", default=None)

    class Meta:
        model = PolicyVersion
        fields = [
            "number",
            "status",
            "notes",
            "based_on",
            "created_by",
            "created_at",
            "published_by",
            "published_at",
        ]


class PolicyVersionOut(PolicyVersionSummaryOut):
    rules = PolicyRuleOut(many=True, read_only=True)

    class Meta(PolicyVersionSummaryOut.Meta):
        fields = [*PolicyVersionSummaryOut.Meta.fields, "rules"]


class PolicyDraftIn(serializers.Serializer):
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class PolicyRuleIn(serializers.Serializer):
    tier = serializers.ChoiceField(choices=Tier.choices)
    capability = serializers.CharField(help_text="tool:action")
    effect = serializers.CharField()
    max_duration_hours = serializers.IntegerField(required=False, allow_null=True, default=None)


class PolicyRuleKeyIn(serializers.Serializer):
    tier = serializers.ChoiceField(choices=Tier.choices)
    capability = serializers.CharField(help_text="tool:action")


class RuleChangeOut(serializers.Serializer):
    tier = serializers.CharField()
    capability = serializers.CharField()
    change = serializers.ChoiceField(choices=["added", "removed", "changed"])
    before = serializers.DictField(allow_null=True)
    after = serializers.DictField(allow_null=True)


class GrantOut(serializers.ModelSerializer):
    agent = serializers.CharField(source="agent.slug")
    capability = serializers.CharField(source="capability.key")
    request = serializers.IntegerField(source="request_id", allow_null=True)
    revoked_by = serializers.CharField(source="revoked_by.username", default=None)
    active = serializers.SerializerMethodField()

    class Meta:
        model = Grant
        fields = [
            "id",
            "agent",
            "capability",
            "scope",
            "starts_at",
            "expires_at",
            "active",
            "request",
            "revoked_at",
            "revoked_by",
            "revoke_reason",
        ]

    def get_active(self, grant: Grant) -> bool:
        from registry.selectors.access import grant_is_active

        return grant_is_active(grant)


class ApprovalOut(serializers.ModelSerializer):
    approver = serializers.CharField(source="approver.username")

    class Meta:
        model = Approval
        fields = ["approver", "comment", "created_at"]


class AccessRequestOut(serializers.ModelSerializer):
    agent = serializers.CharField(source="agent.slug")
    capability = serializers.CharField(source="capability.key")
    requested_by = serializers.CharField(source="requested_by.username")
    decided_by = serializers.CharField(source="decided_by.username", default=None)
    approvals = ApprovalOut(many=True, read_only=True)
    grant = serializers.SerializerMethodField()

    class Meta:
        model = AccessRequest
        fields = [
            "id",
            "agent",
            "capability",
            "scope",
            "justification",
            "ticket",
            "duration_hours",
            "status",
            "effect",
            "policy_version",
            "required_approvals",
            "approvals",
            "grant",
            "requested_by",
            "created_at",
            "decided_by",
            "decided_at",
            "decision_comment",
            "break_glass",
            "incident",
            "break_glass_reviewed_at",
        ]

    def get_grant(self, access_request: AccessRequest) -> dict | None:
        grant = getattr(access_request, "grant", None)
        return GrantOut(grant).data if grant is not None else None


class AccessRequestIn(serializers.Serializer):
    agent = serializers.CharField(max_length=64, help_text="agent slug")
    capability = serializers.CharField(max_length=130, help_text="tool:action")
    justification = serializers.CharField(max_length=4000)
    duration_hours = serializers.IntegerField(min_value=1, max_value=100_000)
    scope = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    ticket = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    break_glass = serializers.BooleanField(required=False, default=False)
    incident = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class CommentIn(serializers.Serializer):
    comment = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


class RequiredCommentIn(serializers.Serializer):
    comment = serializers.CharField(max_length=4000)


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField(max_length=4000)


class NoteIn(serializers.Serializer):
    note = serializers.CharField(max_length=4000)
