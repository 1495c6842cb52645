from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from kernel.api.inputs import referenced, user_by_username, validated
from kernel.api.permissions import ActionPermission
from kernel.permissions import Action
from registry.api.serializers import (
    CapabilityIn,
    CapabilityOut,
    CapabilityPatchIn,
    TeamIn,
    TeamOut,
    ToolIn,
    ToolOut,
    ToolPatchIn,
)
from registry.models import Capability
from registry.selectors import catalogue as selectors
from registry.services import catalogue as services

# Everyone who reads the inventory reads the catalogue; security owns it.
CATALOGUE_ACTIONS = {"read": Action.VIEW_INVENTORY, "write": Action.MANAGE_POLICY}


class CatalogueViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """List and read for everyone who reads the inventory; security creates and edits."""

    lookup_field = "slug"
    permission_classes = [ActionPermission]
    action_permissions = CATALOGUE_ACTIONS


class TeamViewSet(CatalogueViewSet):
    serializer_class = TeamOut

    def get_queryset(self):
        return selectors.team_list()

    def get_object(self):
        return selectors.team_get(self.kwargs["slug"])

    def _members(self, usernames):
        return [referenced(user_by_username, name, "members") for name in usernames]

    @extend_schema(request=TeamIn, responses={201: TeamOut})
    def create(self, request):
        data = validated(TeamIn, request.data)
        if "members" in data:
            data["members"] = self._members(data["members"])
        team = services.team_create(actor=request.user, **data)
        return Response(TeamOut(team).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TeamIn(partial=True), responses=TeamOut)
    def partial_update(self, request, slug=None):
        data = validated(TeamIn, request.data, partial=True)
        data.pop("slug", None)
        if "members" in data:
            data["members"] = self._members(data["members"])
        team = services.team_update(actor=request.user, team=self.get_object(), **data)
        return Response(TeamOut(team).data)


class ToolViewSet(CatalogueViewSet):
    """Tools with their capabilities. Security creates and edits them."""

    serializer_class = ToolOut

    def get_queryset(self):
        return selectors.tool_list()

    def get_object(self):
        return selectors.tool_get(self.kwargs["slug"])

    @extend_schema(request=ToolIn, responses={201: ToolOut})
    def create(self, request):
        tool = services.tool_create(actor=request.user, **validated(ToolIn, request.data))
        return Response(ToolOut(selectors.tool_get(tool.slug)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ToolPatchIn, responses=ToolOut)
    def partial_update(self, request, slug=None):
        data = validated(ToolPatchIn, request.data)
        tool = services.tool_update(actor=request.user, tool=self.get_object(), **data)
        return Response(ToolOut(selectors.tool_get(tool.slug)).data)


class CapabilityViewSet(CatalogueViewSet):
    """Capabilities, looked up by `tool:action`."""

    serializer_class = CapabilityOut
    lookup_field = "key"
    lookup_value_regex = "[^/]+"
    queryset = Capability.objects.select_related("tool").order_by("key")

    def get_object(self):
        return selectors.capability_get(self.kwargs["key"])

    @extend_schema(request=CapabilityIn, responses={201: CapabilityOut})
    def create(self, request):
        data = validated(CapabilityIn, request.data)
        data["tool"] = referenced(selectors.tool_get, data["tool"], "tool")
        capability = services.capability_create(actor=request.user, **data)
        return Response(CapabilityOut(capability).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CapabilityPatchIn, responses=CapabilityOut)
    def partial_update(self, request, key=None):
        data = validated(CapabilityPatchIn, request.data)
        capability = services.capability_update(
            actor=request.user, capability=self.get_object(), **data
        )
        return Response(CapabilityOut(capability).data)
