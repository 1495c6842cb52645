from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kernel.api.inputs import referenced, validated
from kernel.api.permissions import ActionPermission, AuthenticatedRequest
from kernel.errors import ApplicationError, NotFound
from kernel.permissions import Action
from registry.api.serializers import (
    PolicyDraftIn,
    PolicyPublishIn,
    PolicyRuleIn,
    PolicyRuleKeyIn,
    PolicyVersionOut,
    PolicyVersionSummaryOut,
    RuleChangeOut,
)
from registry.models import PolicyVersion
from registry.selectors import policy as selectors
from registry.selectors.catalogue import capability_get
from registry.services import policy as services

# Everyone who reads the inventory reads the policy; security edits and publishes it.
POLICY_ACTIONS = {"read": Action.VIEW_INVENTORY, "write": Action.MANAGE_POLICY}


def version_out(version: PolicyVersion) -> dict:
    data = PolicyVersionSummaryOut(version).data
    return {
        **data,
        "rules": [
            {
                "tier": rule.tier,
                "capability": rule.capability.key,
                "effect": rule.effect,
                "max_duration_hours": rule.max_duration_hours,
            }
            for rule in selectors.policy_rules(version)
        ],
    }


class PolicyCurrent(APIView):
    permission_classes = [ActionPermission]
    action_permissions = POLICY_ACTIONS

    @extend_schema(responses=PolicyVersionOut)
    def get(self, request: Request) -> Response:
        """The latest published policy version with its rules. Decisions use exactly this."""
        version = selectors.policy_latest_published()
        if version is None:
            raise NotFound("No policy version has been published yet: every decision is deny.")
        return Response(version_out(version))


class PolicyVersionList(APIView):
    permission_classes = [ActionPermission]
    action_permissions = POLICY_ACTIONS

    @extend_schema(responses=PolicyVersionSummaryOut(many=True))
    def get(self, request: Request) -> Response:
        versions = selectors.policy_versions()
        return Response(PolicyVersionSummaryOut(versions, many=True).data)

    @extend_schema(request=PolicyDraftIn, responses={201: PolicyVersionOut})
    def post(self, request: AuthenticatedRequest) -> Response:
        """Open a draft: a copy of the latest published rules, to edit and publish."""
        data = validated(PolicyDraftIn, request.data)
        draft = services.policy_draft_create(actor=request.user, **data)
        return Response(version_out(draft), status=status.HTTP_201_CREATED)


class PolicyVersionDetail(APIView):
    permission_classes = [ActionPermission]
    action_permissions = POLICY_ACTIONS

    @extend_schema(responses=PolicyVersionOut)
    def get(self, request: Request, number: int) -> Response:
        return Response(version_out(selectors.policy_version_get(number)))

    @extend_schema(responses={204: None})
    def delete(self, request: AuthenticatedRequest, number: int) -> Response:
        """Discard a draft. Published versions stay forever."""
        services.policy_draft_discard(
            actor=request.user, version=selectors.policy_version_get(number)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PolicyVersionRules(APIView):
    permission_classes = [ActionPermission]
    action_permissions = POLICY_ACTIONS

    @extend_schema(request=PolicyRuleIn, responses=PolicyVersionOut)
    def put(self, request: AuthenticatedRequest, number: int) -> Response:
        """Set (create or replace) the draft's rule for one tier and capability."""
        version = selectors.policy_version_get(number)
        data = validated(PolicyRuleIn, request.data)
        capability = referenced(capability_get, data.pop("capability"), "capability")
        services.policy_rule_set(actor=request.user, version=version, capability=capability, **data)
        return Response(version_out(version))

    @extend_schema(
        parameters=[OpenApiParameter("tier", str), OpenApiParameter("capability", str)],
        responses=PolicyVersionOut,
    )
    def delete(self, request: AuthenticatedRequest, number: int) -> Response:
        """Remove the draft's rule for one tier and capability (no rule means deny)."""
        version = selectors.policy_version_get(number)
        data = validated(PolicyRuleKeyIn, request.query_params.dict())
        capability = referenced(capability_get, data["capability"], "capability")
        services.policy_rule_remove(
            actor=request.user, version=version, tier=data["tier"], capability=capability
        )
        return Response(version_out(version))


class PolicyPublish(APIView):
    permission_classes = [ActionPermission]
    action_permissions = POLICY_ACTIONS

    @extend_schema(request=PolicyPublishIn, responses=PolicyVersionOut)
    def post(self, request: AuthenticatedRequest, number: int) -> Response:
        """Publish the draft. One that loosens the policy in force needs a `reason` (a 400
        `reason_required` lists the warnings it must answer)."""
        version = selectors.policy_version_get(number)
        data = validated(PolicyPublishIn, request.data or {})
        version = services.policy_publish(actor=request.user, version=version, **data)
        return Response(version_out(version))


class PolicyDiff(APIView):
    permission_classes = [ActionPermission]
    action_permissions = POLICY_ACTIONS

    @extend_schema(
        parameters=[OpenApiParameter("against", int, required=True)],
        responses=RuleChangeOut(many=True),
    )
    def get(self, request: Request, number: int) -> Response:
        """What changed from version `against` to version `number`."""
        against = request.query_params.get("against")
        if not against:
            raise ApplicationError(
                "Say which version to compare with: ?against=N.", field="against"
            )
        version = selectors.policy_version_get(number)
        other = referenced(selectors.policy_version_get, against, "against")
        changes = selectors.policy_diff(version, other)
        return Response(
            {
                "from": other.number,
                "to": version.number,
                "changes": RuleChangeOut(changes, many=True).data,
            }
        )
