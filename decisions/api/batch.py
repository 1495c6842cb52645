"""/api/v1/decisions/batch/ (many decisions in one round trip) and
/api/v1/agents/{slug}/effective/ (what an agent may do now, every capability)."""

from datetime import datetime
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from decisions.api.views import DecisionIn, DecisionOut, decision_input, shape_decision
from decisions.effective import Effective, effective_access
from decisions.limits import BATCH_MAX
from decisions.services.batch import Ask, decide_many
from kernel.api.inputs import unknown_fields
from kernel.api.permissions import ActionPermission, AuthenticatedRequest
from kernel.errors import ApplicationError, Forbidden
from kernel.permissions import Action
from registry.permissions import AGENT_RECORDS_REFUSAL, may_read_agent_records
from registry.selectors.agents import agent_get


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
    permission_classes = [ActionPermission]
    action_permissions = {"read": Action.CALL_DECISION_API, "write": Action.CALL_DECISION_API}

    @extend_schema(request=BatchIn, responses=BatchOut)
    def post(self, request: AuthenticatedRequest) -> Response:
        """Many decisions in one round trip (e.g. filtering an agent's tool list): the same
        answers as single decisions, in request order, all recorded before the answer."""
        asks = batch_input(request.data)
        decided = decide_many(asks, caller=request.user)
        return Response({"results": [shape_decision(result, pk) for result, pk in decided]})


class ScopedGrantOut(serializers.Serializer):
    grant = serializers.IntegerField()
    scope = serializers.CharField()
    until = serializers.DateTimeField()


class EffectiveOut(serializers.Serializer):
    capability = serializers.CharField()
    high_risk = serializers.BooleanField()
    decision = serializers.CharField()
    reason = serializers.CharField()
    until = serializers.DateTimeField(allow_null=True, help_text="null: a standing rule")
    grant = serializers.IntegerField(allow_null=True)
    exception = serializers.IntegerField(allow_null=True)
    scoped = ScopedGrantOut(many=True, help_text="grants that allow it for some scopes only")


class AgentEffectiveOut(serializers.Serializer):
    agent = serializers.CharField()
    at = serializers.DateTimeField()
    capabilities = EffectiveOut(many=True)


_MOMENT = serializers.DateTimeField()


def effective_json(agent: str, at: datetime, rows: list[Effective]) -> dict[str, Any]:
    """`AgentEffectiveOut(...).data`, built directly: the nested serializer spends more on 500
    rows than deciding them does. Times through DRF's own DateTimeField; the tests hold both
    to the same output (tests/decisions/test_effective.py)."""
    moment = _MOMENT.to_representation
    return {
        "agent": agent,
        "at": moment(at),
        "capabilities": [
            {
                "capability": row.capability,
                "high_risk": row.high_risk,
                "decision": row.decision,
                "reason": row.reason,
                "until": moment(row.until) if row.until is not None else None,
                "grant": row.grant,
                "exception": row.exception,
                "scoped": [
                    {"grant": s.grant, "scope": s.scope, "until": moment(s.until)}
                    for s in row.scoped
                ],
            }
            for row in rows
        ],
    }


class AgentEffective(APIView):
    permission_classes = [ActionPermission]
    action_permissions = {"read": Action.VIEW_INVENTORY}

    @extend_schema(responses=AgentEffectiveOut)
    def get(self, request: Request, slug: str) -> Response:
        """Every capability in the catalogue with the decision the agent would get now (an
        unscoped question), why, and until when. Nothing is recorded."""
        agent = agent_get(slug)
        if not may_read_agent_records(request.user, agent):
            raise Forbidden(AGENT_RECORDS_REFUSAL)
        now = timezone.now()
        return Response(effective_json(agent.slug, now, effective_access(agent, at=now)))
