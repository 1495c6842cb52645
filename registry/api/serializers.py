"""Output shapes of the registry API, and input validation that carries no business rule."""

from typing import Any

from django.contrib.auth.models import User
from rest_framework import serializers

from kernel.api.inputs import InputSerializer
from kernel.validation import SLUG_MAX_LENGTH
from registry.models import (
    Agent,
    Capability,
    PolicyRule,
    PolicyVersion,
    Team,
    Tier,
    Tool,
    ToolCategory,
)
from registry.models.inventory import AGENT_DESCRIPTION_MAX_LENGTH
from registry.models.policy import POLICY_TEXT_MAX_LENGTH
from registry.rules import is_stale


class TeamOut(serializers.ModelSerializer):
    members: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="username", many=True, read_only=True
    )

    class Meta:
        model = Team
        fields = ["slug", "name", "business_unit", "members"]


class TeamIn(InputSerializer):
    slug = serializers.CharField(max_length=SLUG_MAX_LENGTH)
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
        return is_stale(agent)


class AgentIn(InputSerializer):
    slug = serializers.CharField(max_length=SLUG_MAX_LENGTH)
    name = serializers.CharField(max_length=200)
    team = serializers.CharField(max_length=SLUG_MAX_LENGTH, help_text="team slug")
    tier = serializers.ChoiceField(choices=Tier.choices)
    workload_identity = serializers.CharField(max_length=255)
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=AGENT_DESCRIPTION_MAX_LENGTH
    )
    vendor = serializers.CharField(max_length=200, required=False, allow_blank=True)
    repositories = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=100
    )
    owner = serializers.CharField(required=False, help_text="username; defaults to the caller")


class AgentPatchIn(InputSerializer):
    name = serializers.CharField(max_length=200, required=False)
    team = serializers.CharField(max_length=SLUG_MAX_LENGTH, required=False)
    tier = serializers.ChoiceField(choices=Tier.choices, required=False)
    workload_identity = serializers.CharField(max_length=255, required=False)
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=AGENT_DESCRIPTION_MAX_LENGTH
    )
    vendor = serializers.CharField(max_length=200, required=False, allow_blank=True)
    repositories = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=100
    )


class UsernameField(serializers.CharField):
    """A username in the body, read as that person, active or not (the service says why a
    deactivated one will not do); an unknown one is a 400 on the field."""

    def run_validation(self, data: Any = serializers.empty) -> User:
        username = super().run_validation(data)  # a non-empty string of at most max_length
        user = User.objects.filter(username=username).first()
        if user is None:
            raise serializers.ValidationError(f"No user '{username}'.", code="unknown_reference")
        return user


class AgentReassignIn(InputSerializer):
    owner = UsernameField(max_length=150, help_text="username of the new owner")
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class AgentStatusIn(InputSerializer):
    """Suspend or reactivate: why, kept on the agent and told to its owner."""

    reason = serializers.CharField(max_length=1000, help_text="why (shown on the agent's page)")


class AgentRetireIn(InputSerializer):
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


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


class ToolIn(InputSerializer):
    slug = serializers.CharField(max_length=SLUG_MAX_LENGTH)
    name = serializers.CharField(max_length=200)
    category = serializers.ChoiceField(choices=ToolCategory.choices)
    description = serializers.CharField(required=False, allow_blank=True)


class ToolPatchIn(InputSerializer):
    name = serializers.CharField(max_length=200, required=False)
    category = serializers.ChoiceField(choices=ToolCategory.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class CapabilityIn(InputSerializer):
    tool = serializers.CharField(max_length=SLUG_MAX_LENGTH, help_text="tool slug")
    action = serializers.CharField(max_length=SLUG_MAX_LENGTH)
    high_risk = serializers.BooleanField(default=False)
    description = serializers.CharField(required=False, allow_blank=True)


class CapabilityPatchIn(InputSerializer):
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
            "publish_reason",
            "publish_warnings",
            "published_at",
        ]


class PolicyVersionOut(PolicyVersionSummaryOut):
    rules = PolicyRuleOut(many=True, read_only=True)

    class Meta(PolicyVersionSummaryOut.Meta):
        fields = [*PolicyVersionSummaryOut.Meta.fields, "rules"]


class PolicyDraftIn(InputSerializer):
    notes = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=POLICY_TEXT_MAX_LENGTH
    )


class PolicyPublishIn(InputSerializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=POLICY_TEXT_MAX_LENGTH,
        help_text="Why: required when the draft loosens the policy in force (see impact).",
    )


class PolicyRuleIn(InputSerializer):
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
