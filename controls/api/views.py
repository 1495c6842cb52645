"""Compliance API: frameworks and their items (read), controls and mappings (security writes).

Item ref_ids contain spaces, dots and '/' ("GOVERN 1.1", "Layer 7 / Agent Tool Misuse"), so a
mapping is addressed as /controls/{ref_id}/mappings/{framework_key}/{item_ref_id}/ where the
last segment may contain '/' (percent-encoded or not); the create body names the item by
`framework` and `ref_id`.
"""

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from controls import selectors, services
from controls.api.serializers import (
    ApplicabilityIn,
    ApplicabilityVersionOut,
    ControlDetailOut,
    ControlIn,
    ControlOut,
    ControlPatchIn,
    FrameworkDetailOut,
    FrameworkItemOut,
    FrameworkOut,
    ItemApplicabilityOut,
    MappingIn,
    MappingOut,
    MappingPatchIn,
)
from controls.applicability import statement_get, statement_history
from controls.crosswalks import frameworks_sharing_controls
from controls.models import Control, FrameworkItem
from kernel.api.inputs import referenced, validated
from kernel.api.permissions import ActionPermission, AuthenticatedRequest
from kernel.permissions import Action
from registry.selectors.catalogue import team_get

# Reads for every human role (the gateway is a machine and gets 403); writes for security.
COMPLIANCE_ACTIONS = {"read": Action.VIEW_COMPLIANCE, "write": Action.MANAGE_CONTROLS}


class FrameworkViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The shipped catalogues with their coverage: items with at least one active control."""

    serializer_class = FrameworkOut
    lookup_field = "key"
    lookup_value_regex = "[^/]+"  # keys contain dots (nist-ai-rmf-1.0)
    permission_classes = [ActionPermission]
    action_permissions = COMPLIANCE_ACTIONS
    filter_backends: list = []

    def get_queryset(self):
        return selectors.framework_list()

    def get_object(self):
        return selectors.framework_get(self.kwargs["key"])

    @extend_schema(responses=FrameworkDetailOut)
    def retrieve(self, request: Request, key: str | None = None) -> Response:
        framework = self.get_object()
        shared = frameworks_sharing_controls().get(framework.key, [])
        setattr(framework, "applicability", statement_get(framework))  # noqa: B010
        setattr(framework, "shares_controls_with", shared)  # noqa: B010
        return Response(FrameworkDetailOut(framework).data)

    @extend_schema(responses=ApplicabilityVersionOut(many=True))
    @action(detail=True, methods=["get"], url_path="applicability-history")
    def applicability_history(self, request: Request, key: str | None = None) -> Response:
        """Every version of the framework's applicability statement, newest first."""
        page = self.paginate_queryset(statement_history(self.get_object()))
        return self.get_paginated_response(ApplicabilityVersionOut(page, many=True).data)

    @extend_schema(
        responses=FrameworkItemOut(many=True),
        parameters=[OpenApiParameter("kind", str, description="e.g. subcategory, risk, threat")],
    )
    @action(detail=True, methods=["get"], filter_backends=[filters.DjangoFilterBackend])
    def items(self, request: Request, key: str | None = None) -> Response:
        framework = self.get_object()
        queryset = selectors.framework_items(framework, filters=request.query_params)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(FrameworkItemOut(page, many=True).data)


class ControlViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Internal controls; security creates and edits them, and sets who owns each (`owner`, a
    security member, and/or `owner_team`)."""

    serializer_class = ControlOut
    lookup_field = "ref_id"
    lookup_value_regex = "[^/]+"
    permission_classes = [ActionPermission]
    action_permissions = COMPLIANCE_ACTIONS
    filter_backends: list = []

    def get_queryset(self):
        return selectors.control_list()

    def _owners(self, data: dict) -> None:
        """The owner and owner team named in the body, as objects (unknown: a 400)."""
        if data.get("owner_team") is not None:
            data["owner_team"] = referenced(team_get, data["owner_team"], "owner_team")
        if data.get("owner") is not None:
            data["owner"] = referenced(selectors.control_owner_get, data["owner"], "owner")

    def _detail(self, ref_id: str) -> Response:
        return Response(ControlDetailOut(selectors.control_detail(ref_id)).data)

    @extend_schema(responses=ControlDetailOut)
    def retrieve(self, request: Request, ref_id: str) -> Response:
        return self._detail(ref_id)

    @extend_schema(request=ControlIn, responses={201: ControlDetailOut})
    def create(self, request: AuthenticatedRequest) -> Response:
        data = validated(ControlIn, request.data)
        self._owners(data)
        control = services.control_create(actor=request.user, **data)
        response = self._detail(control.ref_id)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(request=ControlPatchIn, responses=ControlDetailOut)
    def partial_update(self, request: AuthenticatedRequest, ref_id: str) -> Response:
        control = selectors.control_get(ref_id)
        data = validated(ControlPatchIn, request.data)
        self._owners(data)
        services.control_update(actor=request.user, control=control, **data)
        return self._detail(ref_id)


class ControlMappingCreate(APIView):
    """POST a mapping from this control to a framework item named by `framework` + `ref_id`."""

    permission_classes = [ActionPermission]
    action_permissions = COMPLIANCE_ACTIONS

    @extend_schema(request=MappingIn, responses={201: MappingOut})
    def post(self, request: AuthenticatedRequest, ref_id: str) -> Response:
        control = selectors.control_get(ref_id)
        data = validated(MappingIn, request.data)
        item = referenced(
            lambda value: selectors.item_get(data["framework"], value), data["ref_id"], "ref_id"
        )
        mapping = services.mapping_create(
            actor=request.user,
            control=control,
            item=item,
            relationship=data["relationship"],
            strength=data["strength"],
            rationale=data["rationale"],
        )
        return Response(MappingOut(mapping).data, status=status.HTTP_201_CREATED)


class ControlMappingDetail(APIView):
    """One mapping: read, change its relationship/strength/rationale, or remove it."""

    permission_classes = [ActionPermission]
    action_permissions = COMPLIANCE_ACTIONS

    def _mapping(self, ref_id: str, framework_key: str, item_ref_id: str):
        control: Control = selectors.control_get(ref_id)
        return selectors.mapping_get(control, framework_key, item_ref_id)

    @extend_schema(responses=MappingOut)
    def get(self, request: Request, ref_id: str, framework_key: str, item_ref_id: str):
        return Response(MappingOut(self._mapping(ref_id, framework_key, item_ref_id)).data)

    @extend_schema(request=MappingPatchIn, responses=MappingOut)
    def patch(
        self, request: AuthenticatedRequest, ref_id: str, framework_key: str, item_ref_id: str
    ):
        mapping = self._mapping(ref_id, framework_key, item_ref_id)
        data = validated(MappingPatchIn, request.data)
        mapping = services.mapping_update(actor=request.user, mapping=mapping, **data)
        return Response(MappingOut(mapping).data)

    @extend_schema(responses={204: None})
    def delete(
        self, request: AuthenticatedRequest, ref_id: str, framework_key: str, item_ref_id: str
    ):
        mapping = self._mapping(ref_id, framework_key, item_ref_id)
        services.mapping_delete(actor=request.user, mapping=mapping)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _item_applicability(item: FrameworkItem) -> Response:
    history = list(statement_history(item.framework, item=item))
    current = next((row for row in history if row.current), None)
    return Response(
        ItemApplicabilityOut(
            {
                "framework": item.framework.key,
                "ref_id": item.ref_id,
                "applicable": current is None or current.applicable,
                "current": current,
                "history": history,
            }
        ).data
    )


class ItemApplicabilityView(APIView):
    """An item's applicability (everyone who reads compliance); security marks it not
    applicable, or applicable again, with a rationale: each change is a new version."""

    permission_classes = [ActionPermission]
    action_permissions = COMPLIANCE_ACTIONS

    @extend_schema(responses=ItemApplicabilityOut)
    def get(self, request: Request, key: str, ref_id: str) -> Response:
        return _item_applicability(selectors.item_get(key, ref_id))

    @extend_schema(request=ApplicabilityIn, responses={201: ItemApplicabilityOut})
    def post(self, request: AuthenticatedRequest, key: str, ref_id: str) -> Response:
        item = selectors.item_get(key, ref_id)
        data = validated(ApplicabilityIn, request.data)
        services.applicability_set(
            actor=request.user,
            item=item,
            applicable=data["applicable"],
            rationale=data.get("rationale", ""),
        )
        response = _item_applicability(item)
        response.status_code = status.HTTP_201_CREATED
        return response
