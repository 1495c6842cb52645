from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from access import selectors, services
from access.api.serializers import AccessRequestIn, AccessRequestOut, GrantOut
from access.models import AccessRequest, Grant, RequestStatus
from approvals.serializers import CommentIn, NoteIn, ReasonIn, RequiredCommentIn
from kernel.api.inputs import referenced, validated
from kernel.permissions import Action, can
from registry.selectors.agents import agent_get
from registry.selectors.catalogue import capability_get

# The role each write needs; who exactly may (owner, requester, SoD) the services decide.
ACTION_ROLE = {
    "create": (Action.REQUEST_ACCESS, "Only engineers and security request access."),
    "cancel": (Action.REQUEST_ACCESS, "Only the person who filed a request cancels it."),
    "approve": (Action.APPROVE, "Only security approves access requests."),
    "deny": (Action.APPROVE, "Only security denies access requests."),
    "review_break_glass": (Action.APPROVE, "Only security reviews break-glass access."),
    "revoke": (Action.APPROVE, "Only security revokes grants."),
}


class ReadsAccess(BasePermission):
    """Reads: the human roles (scoped by selectors). Writes: the role the action needs, so a
    wrong role is a 403 before its body is validated or its target looked up."""

    message = "Your role does not work with access requests."

    def has_permission(self, request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return can(request.user, Action.VIEW_PORTAL)
        needed, message = ACTION_ROLE.get(view.action, (Action.APPROVE, self.message))
        if can(request.user, needed):
            return True
        self.message = message
        return False


def _flag(method: str) -> filters.ChoiceFilter:
    """`true` or `false`; anything else is a 400 (a BooleanFilter would silently ignore it)."""
    return filters.ChoiceFilter(choices=[("true", "true"), ("false", "false")], method=method)


class AccessRequestFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=RequestStatus.choices)
    agent = filters.CharFilter(field_name="agent__slug")
    mine = _flag("filter_mine")
    awaiting_me = _flag("filter_awaiting_me")
    break_glass = _flag("filter_break_glass")

    class Meta:
        model = AccessRequest
        fields = ["status", "agent", "mine", "awaiting_me", "break_glass"]

    def filter_mine(self, queryset, name, value):
        return queryset.filter(requested_by=self.request.user) if value == "true" else queryset

    def filter_awaiting_me(self, queryset, name, value):
        if value != "true":
            return queryset
        return queryset.filter(pk__in=selectors.requests_awaiting(self.request.user).values("pk"))

    def filter_break_glass(self, queryset, name, value):
        return queryset.filter(break_glass=value == "true")


class AccessRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Just-in-time access requests. POST files one; approve/deny/cancel move it on."""

    serializer_class = AccessRequestOut
    permission_classes = [ReadsAccess]
    filterset_class = AccessRequestFilter

    queryset = AccessRequest.objects.none()  # for the schema; requests come from selectors

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AccessRequest.objects.none()
        return selectors.requests_visible_to(self.request.user)

    def get_object(self) -> AccessRequest:
        return selectors.access_request_get_for_user(self.request.user, self.kwargs["pk"])

    def _out(self, access_request: AccessRequest, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.access_request_get_for_user(self.request.user, access_request.pk)
        return Response(AccessRequestOut(fresh).data, status=code)

    @extend_schema(request=AccessRequestIn, responses={201: AccessRequestOut})
    def create(self, request):
        data = validated(AccessRequestIn, request.data)
        data["agent"] = referenced(agent_get, data["agent"], "agent")
        data["capability"] = referenced(capability_get, data["capability"], "capability")
        access_request = services.access_request_submit(actor=request.user, **data)
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


class GrantFilter(filters.FilterSet):
    agent = filters.CharFilter(field_name="agent__slug")
    capability = filters.CharFilter(field_name="capability__key")
    active = _flag("filter_active")

    class Meta:
        model = Grant
        fields = ["agent", "capability", "active"]

    def filter_active(self, queryset, name, value):
        active = selectors.active_q()
        return queryset.filter(active) if value == "true" else queryset.exclude(active)


class GrantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = GrantOut
    permission_classes = [ReadsAccess]
    filterset_class = GrantFilter

    queryset = Grant.objects.none()  # for the schema; grants come from selectors

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Grant.objects.none()
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
