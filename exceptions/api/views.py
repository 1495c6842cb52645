"""GET/POST /api/v1/exceptions/ and the approve, reject, revoke, renew and withdraw actions."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action

from approvals.serializers import CommentIn, ReasonIn, RequiredCommentIn
from controls.selectors import control_get
from exceptions import selectors, services
from exceptions.api.serializers import ExceptionDetailOut, ExceptionIn, ExceptionOut, RenewIn
from exceptions.filters import ExceptionFilter
from exceptions.models import PolicyException
from kernel.api.inputs import referenced, validated
from kernel.api.viewsets import ScopedViewSet, UserScope, step_action
from kernel.permissions import Action
from registry.selectors.agents import agent_get
from registry.selectors.catalogue import capability_get

# Every human role reads (scoped by selectors). Each write needs its role, refused with a 403
# before the exception is looked up; who exactly may (owner, requester, SoD) services decide.
EXCEPTION_ACTIONS = {
    "read": Action.VIEW_PORTAL,
    "create": Action.REQUEST_EXCEPTION,
    "renew": Action.REQUEST_EXCEPTION,
    "withdraw": Action.REQUEST_EXCEPTION,
    "approve": Action.APPROVE,
    "reject": Action.APPROVE,
    "revoke": Action.APPROVE,
}


class ExceptionViewSet(ScopedViewSet):
    """Time-boxed policy exceptions. POST files one; approve/reject/revoke/renew move it on;
    its requester withdraws it while it is pending."""

    serializer_class = ExceptionOut
    answer_serializer_class = ExceptionDetailOut
    action_permissions = EXCEPTION_ACTIONS
    filterset_class = ExceptionFilter
    queryset = PolicyException.objects.none()
    subject = "exception"
    scope = UserScope(
        listed=selectors.exception_list,
        visible=selectors.exceptions_visible_to,
        get=selectors.exception_get_for_user,
    )

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
        return self.respond(exception, status.HTTP_201_CREATED)

    approve = step_action("approve", services.exception_approve, CommentIn)
    reject = step_action("reject", services.exception_reject, RequiredCommentIn)
    revoke = step_action("revoke", services.exception_revoke, ReasonIn)
    withdraw = step_action("withdraw", services.exception_withdraw, None)

    @extend_schema(request=RenewIn, responses={201: ExceptionDetailOut})
    @action(detail=True, methods=["post"])
    def renew(self, request, pk=None):
        target = self.get_object()
        data = validated(RenewIn, request.data)
        renewal = services.exception_renew(actor=request.user, exception=target, **data)
        return self.respond(renewal, status.HTTP_201_CREATED)
