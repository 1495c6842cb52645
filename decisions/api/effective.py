"""/api/v1/agents/{slug}/effective/: what an agent may do now, capability by capability
(decisions.effective), as JSON."""

import json
import weakref
from datetime import datetime
from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from decisions.effective import Effective, effective_access
from kernel.api.fast import token_caller, with_fast_path
from kernel.api.permissions import ActionPermission, AuthenticatedRequest
from kernel.errors import Forbidden
from kernel.permissions import Action
from registry.permissions import (
    AGENT_RECORDS_REFUSAL,
    may_read_agent_records,
    may_read_every_agents_records,
)
from registry.selectors.agents import agent_get


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


def effective_row(row: Effective) -> dict[str, Any]:
    """One capability of `AgentEffectiveOut`, built directly: the nested serializer spends more
    on 500 rows than deciding them does. Times through DRF's own DateTimeField; the tests hold
    both to the same output (tests/decisions/test_effective.py)."""
    moment = _MOMENT.to_representation
    return {
        "capability": row.capability,
        "high_risk": row.high_risk,
        "decision": row.decision,
        "reason": row.reason,
        "until": moment(row.until) if row.until is not None else None,
        "grant": row.grant,
        "exception": row.exception,
        "scoped": [
            {"grant": scoped.grant, "scope": scoped.scope, "until": moment(scoped.until)}
            for scoped in row.scoped
        ],
    }


def effective_json(agent: str, at: datetime, rows: list[Effective]) -> dict[str, Any]:
    """`AgentEffectiveOut(...).data`, for the DRF view (which negotiates the rendering)."""
    return {
        "agent": agent,
        "at": _MOMENT.to_representation(at),
        "capabilities": [effective_row(row) for row in rows],
    }


class _Encoded:
    """Each row's JSON text, made once per row object while it lives: decisions.effective
    keeps its rows (one object per tier and capability, and per holdings) as long as the
    policy and the catalogue stay the same, so most are encoded once, not once a request.
    A row is immutable; its entry goes when it does (a weak reference)."""

    def __init__(self) -> None:
        self.texts: dict[int, tuple[weakref.ref[Effective], str]] = {}

    def of(self, row: Effective) -> str:
        key = id(row)
        kept = self.texts.get(key)
        if kept is not None and kept[0]() is row:
            return kept[1]
        text = _dumps(effective_row(row))
        self.texts[key] = (weakref.ref(row, partial(self._gone, key)), text)
        return text

    def _gone(self, key: int, _: object) -> None:
        self.texts.pop(key, None)


_encoded = _Encoded()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def effective_body(agent: str, at: datetime, rows: list[Effective]) -> bytes:
    """`effective_json` as the JSON text a token caller gets (the same document)."""
    head = _dumps({"agent": agent, "at": _MOMENT.to_representation(at)})[:-1]
    rows_text = ",".join([_encoded.of(row) for row in rows])
    return f'{head},"capabilities":[{rows_text}]}}'.encode()


def readable_effective(user: User, slug: str) -> tuple[str, datetime, list[Effective]]:
    """The agent's effective access now, for a caller whose role may read the inventory:
    404 for no such agent, 403 if it is not theirs to read."""
    if not may_read_every_agents_records(user) and not may_read_agent_records(
        user, agent_get(slug)
    ):
        raise Forbidden(AGENT_RECORDS_REFUSAL)
    now = timezone.now()
    return slug, now, effective_access(slug, at=now)


class AgentEffective(APIView):
    permission_classes = [ActionPermission]
    action_permissions = {"read": Action.VIEW_INVENTORY}

    @extend_schema(responses=AgentEffectiveOut)
    def get(self, request: AuthenticatedRequest, slug: str) -> Response:
        """Every capability in the catalogue with the decision the agent would get now (an
        unscoped question), why, and until when. Nothing is recorded."""
        return Response(effective_json(*readable_effective(request.user, slug)))


def _fast_effective(request: HttpRequest, token: str, slug: str) -> HttpResponse:
    """A token GET (a gateway filtering an agent's tool list) gets the JSON text directly."""
    user = token_caller(token, Action.VIEW_INVENTORY)
    body = effective_body(*readable_effective(user, slug))
    return HttpResponse(body, content_type="application/json")


effective_endpoint = with_fast_path(AgentEffective.as_view(), "GET", _fast_effective)
