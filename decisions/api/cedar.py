"""/api/v1/policy/versions/{n}/cedar/ and /api/v1/agents/{slug}/cedar-entities/: the policy and
an agent's entities in Cedar's formats, for gateways that decide locally (decisions.cedar)."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from decisions.cedar import agent_cedar_entities, policy_cedar
from kernel.api.permissions import ActionPermission
from kernel.errors import Forbidden
from kernel.permissions import Action
from registry.models import PolicyStatus
from registry.permissions import AGENT_RECORDS_REFUSAL, may_read_agent_records
from registry.selectors.agents import agent_get
from registry.selectors.policy import policy_version_get


class CedarPolicyOut(serializers.Serializer):
    version = serializers.IntegerField()
    status = serializers.ChoiceField(
        choices=PolicyStatus.choices, help_text="a draft is for trying out, never for enforcing"
    )
    schema = serializers.JSONField(help_text="Cedar schema, JSON format")
    policies = serializers.CharField(help_text="Cedar policy text")


class CedarEntitiesOut(serializers.Serializer):
    agent = serializers.CharField()
    generated_at = serializers.DateTimeField()
    entities = serializers.ListField(
        child=serializers.JSONField(), help_text="Cedar entities, JSON format"
    )


class PolicyVersionCedar(APIView):
    """Everyone who reads the policy reads it as Cedar, drafts included (as the version
    endpoint shows them): security tries a draft at the edge before publishing it."""

    permission_classes = [ActionPermission]
    action_permissions = {"read": Action.VIEW_INVENTORY}

    @extend_schema(responses=CedarPolicyOut)
    def get(self, request: Request, number: int) -> Response:
        """The version's rules as Cedar policies, with the schema they validate against."""
        return Response(policy_cedar(policy_version_get(number)))


class AgentCedarEntities(APIView):
    permission_classes = [ActionPermission]
    action_permissions = {"read": Action.VIEW_INVENTORY}

    @extend_schema(responses=CedarEntitiesOut)
    def get(self, request: Request, slug: str) -> Response:
        """The agent (tier, status) and its grants and exceptions in force now, as Cedar
        entities: each carries its window, so they stay right until it ends."""
        agent = agent_get(slug)
        if not may_read_agent_records(request.user, agent):
            raise Forbidden(AGENT_RECORDS_REFUSAL)
        now = timezone.now()
        return Response(
            {
                "agent": agent.slug,
                "generated_at": now,
                "entities": agent_cedar_entities(agent, at=now),
            }
        )
