from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from kernel.api.inputs import referenced, user_by_username, validated
from kernel.permissions import Action, can
from registry import permissions
from registry.api.serializers import AgentIn, AgentOut, AgentPatchIn
from registry.models import Agent, AgentStatus, Tier
from registry.selectors import agents as selectors
from registry.selectors.catalogue import team_get
from registry.services import agents as services


class CanViewInventory(BasePermission):
    message = "Your role may not read the agent inventory."

    def has_permission(self, request, view) -> bool:
        return permissions.can_view_inventory(request.user)


class AgentFilter(filters.FilterSet):
    tier = filters.ChoiceFilter(choices=Tier.choices)
    status = filters.ChoiceFilter(choices=AgentStatus.choices)
    team = filters.CharFilter(field_name="team__slug")
    owner = filters.CharFilter(field_name="owner__username")
    search = filters.CharFilter(method="filter_search")

    class Meta:
        model = Agent
        fields = ["tier", "status", "team", "owner", "search"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(selectors.search_q(value))


class AgentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The agent inventory: everyone reads it; owners, their teams and security change it."""

    serializer_class = AgentOut
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"
    filterset_class = AgentFilter

    def get_permissions(self):
        return [inventory_reads_and(Action.REGISTER_AGENT)()]

    def get_queryset(self):
        return selectors.agent_list()

    def get_object(self) -> Agent:
        return selectors.agent_get(self.kwargs["slug"])

    def _out(self, agent: Agent, code: int = status.HTTP_200_OK) -> Response:
        return Response(AgentOut(agent).data, status=code)

    @extend_schema(request=AgentIn, responses={201: AgentOut})
    def create(self, request):
        data = validated(AgentIn, request.data)
        data["team"] = referenced(team_get, data["team"], "team")
        if "owner" in data:
            data["owner"] = referenced(user_by_username, data["owner"], "owner")
        agent = services.agent_register(actor=request.user, **data)
        return self._out(agent, status.HTTP_201_CREATED)

    @extend_schema(request=AgentPatchIn, responses=AgentOut)
    def partial_update(self, request, slug=None):
        data = validated(AgentPatchIn, request.data)
        if "team" in data:
            data["team"] = referenced(team_get, data["team"], "team")
        agent = services.agent_update(actor=request.user, agent=self.get_object(), **data)
        return self._out(agent)

    @extend_schema(request=None, responses=AgentOut)
    @action(detail=True, methods=["post"])
    def attest(self, request, slug=None):
        return self._out(services.agent_attest(actor=request.user, agent=self.get_object()))

    @extend_schema(request=None, responses=AgentOut)
    @action(detail=True, methods=["post"])
    def suspend(self, request, slug=None):
        return self._out(services.agent_suspend(actor=request.user, agent=self.get_object()))

    @extend_schema(request=None, responses=AgentOut)
    @action(detail=True, methods=["post"])
    def reactivate(self, request, slug=None):
        return self._out(services.agent_reactivate(actor=request.user, agent=self.get_object()))

    @extend_schema(request=None, responses=AgentOut)
    @action(detail=True, methods=["post"])
    def retire(self, request, slug=None):
        return self._out(services.agent_retire(actor=request.user, agent=self.get_object()))


def inventory_reads_and(action: Action) -> type[BasePermission]:
    """Reads: anyone who reads the inventory. Writes: roles that may `action` at all, so a
    wrong role is refused (403) before its body is even validated; services check again."""

    class _Permission(CanViewInventory):
        message = "Your role may not change this."

        def has_permission(self, request, view) -> bool:
            if request.method in ("GET", "HEAD", "OPTIONS"):
                return super().has_permission(request, view)
            return can(request.user, action)

    _Permission.__name__ = f"InventoryReadsAnd_{action.value}"
    return _Permission
