from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from access import selectors, services
from access.api.serializers import AccessRequestIn, AccessRequestOut, BreakGlassIn, GrantOut
from access.break_glass import break_glass_request
from access.filters import AccessRequestFilter, GrantFilter
from access.models import AccessRequest, Grant
from approvals.serializers import CommentIn, NoteIn, ReasonIn, RequiredCommentIn
from kernel.api.filters import SelectorFilters
from kernel.api.inputs import referenced, validated
from kernel.api.permissions import ActionPermission
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
    "write": Action.APPROVE,  # approve, deny, review-break-glass
}
GRANT_ACTIONS = {"read": Action.VIEW_PORTAL, "write": Action.APPROVE}  # revoke


def _references(data: dict) -> dict:
    """The agent and capability the body names (unknown: a 400 on that field)."""
    data["agent"] = referenced(agent_get, data["agent"], "agent")
    data["capability"] = referenced(capability_get, data["capability"], "capability")
    return data


class AccessRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Just-in-time access requests. POST files one; approve/deny/cancel move it on."""

    serializer_class = AccessRequestOut
    permission_classes = [ActionPermission]
    action_permissions = REQUEST_ACTIONS
    filter_backends = [SelectorFilters]
    filterset_class = AccessRequestFilter

    queryset = AccessRequest.objects.none()  # for the schema; requests come from selectors

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AccessRequest.objects.none()
        if self.action == "list":
            return selectors.access_request_list(
                self.request.user, filters=self.request.query_params
            )
        return selectors.requests_visible_to(self.request.user)

    def get_object(self) -> AccessRequest:
        return selectors.access_request_get_for_user(self.request.user, self.kwargs["pk"])

    def _out(self, access_request: AccessRequest, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.access_request_get_for_user(self.request.user, access_request.pk)
        return Response(AccessRequestOut(fresh).data, status=code)

    @extend_schema(request=AccessRequestIn, responses={201: AccessRequestOut})
    def create(self, request):
        data = _references(validated(AccessRequestIn, request.data))
        if data.pop("break_glass"):  # the older way to ask for break-glass, still honoured
            access_request = break_glass_request(actor=request.user, **data)
        else:
            data.pop("incident")
            access_request = services.access_request_submit(actor=request.user, **data)
        return self._out(access_request, status.HTTP_201_CREATED)

    @extend_schema(request=BreakGlassIn, responses={201: AccessRequestOut})
    @action(detail=False, methods=["post"], url_path="break-glass")
    def break_glass(self, request):
        """Emergency access for a production agent's owner: granted now, reviewed after."""
        data = _references(validated(BreakGlassIn, request.data))
        access_request = break_glass_request(actor=request.user, **data)
        return self._out(access_request, status.HTTP_201_CREATED)

    @extend_schema(request=CommentIn, responses=AccessRequestOut)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        data = validated(CommentIn, request.data)
        access_request = services.access_request_approve(
            actor=request.user, access_request=self.get_object(), **data
        )
        return self._out(access_request)

    @extend_schema(request=RequiredCommentIn, responses=AccessRequestOut)
    @action(detail=True, methods=["post"])
    def deny(self, request, pk=None):
        target = self.get_object()
        data = validated(RequiredCommentIn, request.data)
        return self._out(
            services.access_request_deny(actor=request.user, access_request=target, **data)
        )

    @extend_schema(request=None, responses=AccessRequestOut)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._out(
            services.access_request_cancel(actor=request.user, access_request=self.get_object())
        )

    @extend_schema(request=NoteIn, responses=AccessRequestOut)
    @action(detail=True, methods=["post"], url_path="review-break-glass")
    def review_break_glass(self, request, pk=None):
        target = self.get_object()
        data = validated(NoteIn, request.data)
        return self._out(
            services.break_glass_review(actor=request.user, access_request=target, **data)
        )


class GrantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = GrantOut
    permission_classes = [ActionPermission]
    action_permissions = GRANT_ACTIONS
    filter_backends = [SelectorFilters]
    filterset_class = GrantFilter

    queryset = Grant.objects.none()  # for the schema; grants come from selectors

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Grant.objects.none()
        if self.action == "list":
            return selectors.grant_list(self.request.user, filters=self.request.query_params)
        return selectors.grants_visible_to(self.request.user)

    def get_object(self) -> Grant:
        return selectors.grant_get_for_user(self.request.user, self.kwargs["pk"])

    @extend_schema(request=ReasonIn, responses=GrantOut)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        grant = self.get_object()
        data = validated(ReasonIn, request.data)
        grant = services.grant_revoke(actor=request.user, grant=grant, **data)
        return Response(GrantOut(selectors.grant_get_for_user(request.user, grant.pk)).data)
