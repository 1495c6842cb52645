from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from kernel.api.filters import SelectorFilters
from kernel.api.inputs import referenced, user_by_username, validated
from kernel.api.permissions import ActionPermission
from kernel.api.viewsets import step_action
from kernel.permissions import Action
from registry.api.serializers import (
    AgentIn,
    AgentOut,
    AgentPatchIn,
    AgentReassignIn,
    AgentRetireIn,
    AgentStatusIn,
)
from registry.filters import AgentFilter
from registry.models import Agent
from registry.selectors import agents as selectors
from registry.selectors.catalogue import team_get
from registry.services import agents as services


class AgentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The agent inventory: everyone reads it; owners, their teams and security change it."""

    serializer_class = AgentOut
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"
    filter_backends = [SelectorFilters]
    filterset_class = AgentFilter

    permission_classes = [ActionPermission]
    # The role each operation needs; who exactly may (owner, team) the services decide.
    action_permissions = {
        "read": Action.VIEW_INVENTORY,
        "suspend": Action.SUSPEND_AGENT,
        "reactivate": Action.SUSPEND_AGENT,
        "reassign": Action.REASSIGN_AGENT,
        "write": Action.REGISTER_AGENT,  # create, edit, attest, retire
    }

    subject = "agent"  # the keyword the services take it by (step_action)

    def get_queryset(self):
        return selectors.agent_list(filters=self.request.query_params)

    def get_object(self) -> Agent:
        return selectors.agent_get(self.kwargs["slug"])

    def respond(self, agent: Agent, code: int = status.HTTP_200_OK) -> Response:
        return Response(AgentOut(agent).data, status=code)

    @extend_schema(request=AgentIn, responses={201: AgentOut})
    def create(self, request):
        data = validated(AgentIn, request.data)
        data["team"] = referenced(team_get, data["team"], "team")
        if "owner" in data:
            data["owner"] = referenced(user_by_username, data["owner"], "owner")
        agent = services.agent_register(actor=request.user, **data)
        return self.respond(agent, status.HTTP_201_CREATED)

    @extend_schema(request=AgentPatchIn, responses=AgentOut)
    def partial_update(self, request, slug=None):
        data = validated(AgentPatchIn, request.data)
        if "team" in data:
            data["team"] = referenced(team_get, data["team"], "team")
        agent = services.agent_update(actor=request.user, agent=self.get_object(), **data)
        return self.respond(agent)

    attest = step_action("attest", services.agent_attest, None)
    # {"reason": "..."}: required to suspend or reactivate, optional to retire.
    suspend = step_action("suspend", services.agent_suspend, AgentStatusIn)
    reactivate = step_action("reactivate", services.agent_reactivate, AgentStatusIn)
    retire = step_action("retire", services.agent_retire, AgentRetireIn)
    # {"owner": "<username>", "reason": "..."}: security only; an orphaned agent's way back.
    reassign = step_action("reassign", services.agent_reassign, AgentReassignIn)
