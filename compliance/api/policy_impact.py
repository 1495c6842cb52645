"""The impact of publishing a policy draft (security, before publishing)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance.policy_impact import DEFAULT_DAYS, MAX_DAYS, policy_impact
from kernel.api.inputs import InputSerializer, validated
from kernel.api.permissions import ActionPermission
from kernel.permissions import Action
from registry.selectors.policy import policy_version_get


class ImpactIn(InputSerializer):
    days = serializers.IntegerField(min_value=1, max_value=MAX_DAYS, default=DEFAULT_DAYS)


class PolicyImpact(APIView):
    permission_classes = [ActionPermission]
    action_permissions = {"read": Action.MANAGE_POLICY}

    @extend_schema(
        parameters=[OpenApiParameter("days", int, default=DEFAULT_DAYS)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, number: int) -> Response:
        """What publishing the draft would change: every distinct (agent, capability, scope)
        of the last `days` of the decision log replayed against it (today's agents, grants and
        exceptions), the warnings it must answer, and AGC-02/AGC-06 on both versions."""
        version = policy_version_get(number)
        data = validated(ImpactIn, request.query_params.dict())
        return Response(policy_impact(version, days=data["days"]).as_dict())
