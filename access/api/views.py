from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action

from access import agent_requests, selectors, services
from access.api.serializers import AccessRequestIn, AccessRequestOut, BreakGlassIn, GrantOut
from access.break_glass import break_glass_request
from access.filters import AccessRequestFilter, GrantFilter
from access.models import AccessRequest, Grant
from approvals.serializers import CommentIn, NoteIn, ReasonIn, RequiredCommentIn
from kernel.api.inputs import referenced, validated
from kernel.api.viewsets import ScopedViewSet, UserScope, step_action
from kernel.permissions import Action
from registry.selectors.agents import agent_get
from registry.selectors.catalogue import capability_get

# Reads: the human roles (scoped by selectors). Writes: the role the operation needs, so a
# wrong role is a 403 before its body is validated or its target looked up; who exactly may
# (owner, requester, separation of duties) the services decide.
REQUEST_ACTIONS = {
    "read": Action.VIEW_PORTAL,
    "create": Action.REQUEST_ACCESS,
    "break_glass": Action.REQUEST_ACCESS,
    "cancel": Action.REQUEST_ACCESS,
    "confirm": Action.REQUEST_ACCESS,  # what the agent filed: its owner or team
    "decline": Action.REQUEST_ACCESS,
    "write": Action.APPROVE,  # approve, deny, review-break-glass
}
GRANT_ACTIONS = {"read": Action.VIEW_PORTAL, "write": Action.APPROVE}  # revoke


def _references(data: dict) -> dict:
    """The agent and capability the body names (unknown: a 400 on that field)."""
    data["agent"] = referenced(agent_get, data["agent"], "agent")
    data["capability"] = referenced(capability_get, data["capability"], "capability")
    return data


class AccessRequestViewSet(ScopedViewSet):
    """Just-in-time access requests. POST files one; approve/deny/cancel move it on; what an
    agent filed itself (over MCP) its owner or team confirms or declines first."""

    serializer_class = AccessRequestOut
    action_permissions = REQUEST_ACTIONS
    filterset_class = AccessRequestFilter
    queryset = AccessRequest.objects.none()
    subject = "access_request"
    scope = UserScope(
        listed=selectors.access_request_list,
        visible=selectors.requests_visible_to,
        get=selectors.access_request_get_for_user,
    )

    @extend_schema(request=AccessRequestIn, responses={201: AccessRequestOut})
    def create(self, request):
        data = _references(validated(AccessRequestIn, request.data))
        if data.pop("break_glass"):  # the older way to ask for break-glass, still honoured
            access_request = break_glass_request(actor=request.user, **data)
        else:
            data.pop("incident")
            access_request = services.access_request_submit(actor=request.user, **data)
        return self.respond(access_request, status.HTTP_201_CREATED)

    @extend_schema(request=BreakGlassIn, responses={201: AccessRequestOut})
    @action(detail=False, methods=["post"], url_path="break-glass")
    def break_glass(self, request):
        """Emergency access for a production agent's owner: granted now, reviewed after."""
        data = _references(validated(BreakGlassIn, request.data))
        access_request = break_glass_request(actor=request.user, **data)
        return self.respond(access_request, status.HTTP_201_CREATED)

    approve = step_action("approve", services.access_request_approve, CommentIn)
    deny = step_action("deny", services.access_request_deny, RequiredCommentIn)
    cancel = step_action("cancel", services.access_request_cancel, None)
    confirm = step_action("confirm", agent_requests.agent_request_confirm, None)
    decline = step_action("decline", agent_requests.agent_request_decline, ReasonIn)
    review_break_glass = step_action("review_break_glass", services.break_glass_review, NoteIn)


class GrantViewSet(ScopedViewSet):
    serializer_class = GrantOut
    action_permissions = GRANT_ACTIONS
    filterset_class = GrantFilter
    queryset = Grant.objects.none()
    subject = "grant"
    scope = UserScope(
        listed=selectors.grant_list,
        visible=selectors.grants_visible_to,
        get=selectors.grant_get_for_user,
    )

    revoke = step_action("revoke", services.grant_revoke, ReasonIn)
