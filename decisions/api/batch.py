"""/api/v1/decisions/batch/: many decisions in one round trip."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from decisions.api.views import DecisionIn, DecisionOut, decision_input, shape_decision
from decisions.limits import BATCH_MAX
from decisions.services.batch import Ask, decide_many
from kernel.api.inputs import unknown_fields
from kernel.api.parsers import DECISION_PARSERS
from kernel.api.permissions import ActionPermission, AuthenticatedRequest
from kernel.errors import ApplicationError
from kernel.permissions import Action


class BatchIn(serializers.Serializer):
    requests = DecisionIn(many=True, help_text=f"1 to {BATCH_MAX} questions, answered in order")


class BatchOut(serializers.Serializer):
    results = DecisionOut(many=True)


def batch_input(data: Any) -> list[Ask]:
    """The asks, each checked like a single decision's body; the first bad one is a 400 that
    names its index (and nothing is decided or recorded)."""
    if not isinstance(data, dict):
        raise ApplicationError("The request body must be a JSON object.", code="invalid_body")
    if unknown := unknown_fields(data, ["requests"]):
        raise ApplicationError(unknown, code="invalid")
    items = data.get("requests")
    if not isinstance(items, list) or not 1 <= len(items) <= BATCH_MAX:
        raise ApplicationError(
            f"requests: a list of 1 to {BATCH_MAX} decision requests.", field="requests"
        )
    asks = []
    for index, item in enumerate(items):
        try:
            checked = decision_input(item)
        except ApplicationError as exc:
            where = f"requests[{index}]"
            raise ApplicationError(f"{where}: {exc.message}", field=where, index=index) from None
        asks.append(Ask(checked["agent"], checked["capability"], checked["scope"]))
    return asks


class DecisionBatch(APIView):
    parser_classes = DECISION_PARSERS  # a key twice in one question is a 400
    permission_classes = [ActionPermission]
    action_permissions = {"read": Action.CALL_DECISION_API, "write": Action.CALL_DECISION_API}

    @extend_schema(request=BatchIn, responses=BatchOut)
    def post(self, request: AuthenticatedRequest) -> Response:
        """Many decisions in one round trip (e.g. filtering an agent's tool list): the same
        answers as single decisions, in request order, all recorded before the answer."""
        asks = batch_input(request.data)
        decided = decide_many(asks, caller=request.user)
        return Response({"results": [shape_decision(result, pk) for result, pk in decided]})
