"""GET/POST /api/v1/exceptions/ and the approve, reject, revoke and renew actions."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from approvals.serializers import CommentIn, ReasonIn, RequiredCommentIn
from controls.selectors import control_get
from exceptions import selectors, services
from exceptions.api.serializers import ExceptionDetailOut, ExceptionIn, ExceptionOut, RenewIn
from exceptions.filters import ExceptionFilter
from exceptions.models import PolicyException
from kernel.api.filters import SelectorFilters
from kernel.api.inputs import referenced, validated
from kernel.api.permissions import ActionPermission
from kernel.permissions import Action
from registry.selectors.agents import agent_get
from registry.selectors.catalogue import capability_get

# Every human role reads (scoped by selectors). Each write needs its role, refused with a 403
# before the exception is looked up; who exactly may (owner, requester, SoD) services decide.
EXCEPTION_ACTIONS = {
    "read": Action.VIEW_PORTAL,
    "create": Action.REQUEST_EXCEPTION,
    "renew": Action.REQUEST_EXCEPTION,
    "approve": Action.APPROVE,
    "reject": Action.APPROVE,
    "revoke": Action.APPROVE,
}


class ExceptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Time-boxed policy exceptions. POST files one; approve/reject/revoke/renew move it on."""

    serializer_class = ExceptionOut
    permission_classes = [ActionPermission]
    action_permissions = EXCEPTION_ACTIONS
    filter_backends = [SelectorFilters]
    filterset_class = ExceptionFilter

    queryset = PolicyException.objects.none()  # for the schema; rows come from selectors

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PolicyException.objects.none()
        if self.action == "list":
            return selectors.exception_list(self.request.user, filters=self.request.query_params)
        return selectors.exceptions_visible_to(self.request.user)

    def get_object(self) -> PolicyException:
        return selectors.exception_get_for_user(self.request.user, self.kwargs["pk"])

    def _out(self, exception: PolicyException, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.exception_get_for_user(self.request.user, exception.pk)
        return Response(ExceptionDetailOut(fresh).data, status=code)

    @extend_schema(responses=ExceptionDetailOut)
    def retrieve(self, request, pk=None):
        return Response(ExceptionDetailOut(self.get_object()).data)

    @extend_schema(request=ExceptionIn, responses={201: ExceptionDetailOut})
    def create(self, request):
        data = validated(ExceptionIn, request.data)
        data["agent"] = referenced(agent_get, data["agent"], "agent")
        data["capability"] = referenced(capability_get, data["capability"], "capability")
        if "controls" in data:
            data["controls"] = [
                referenced(control_get, ref, "controls") for ref in data["controls"]
            ]
        exception = services.exception_request(actor=request.user, **data)
        return self._out(exception, status.HTTP_201_CREATED)

    @extend_schema(request=CommentIn, responses=ExceptionDetailOut)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        target = self.get_object()
        data = validated(CommentIn, request.data)
        return self._out(services.exception_approve(actor=request.user, exception=target, **data))

    @extend_schema(request=RequiredCommentIn, responses=ExceptionDetailOut)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        target = self.get_object()
        data = validated(RequiredCommentIn, request.data)
        return self._out(services.exception_reject(actor=request.user, exception=target, **data))

    @extend_schema(request=ReasonIn, responses=ExceptionDetailOut)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        target = self.get_object()
        data = validated(ReasonIn, request.data)
        return self._out(services.exception_revoke(actor=request.user, exception=target, **data))

    @extend_schema(request=RenewIn, responses={201: ExceptionDetailOut})
    @action(detail=True, methods=["post"])
    def renew(self, request, pk=None):
        target = self.get_object()
        data = validated(RenewIn, request.data)
        renewal = services.exception_renew(actor=request.user, exception=target, **data)
        return self._out(renewal, status.HTTP_201_CREATED)
