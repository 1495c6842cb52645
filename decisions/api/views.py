from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from decisions.api.serializers import ActivityIn, activity_input
from decisions.filters import ActivityFilter, DecisionFilter
from decisions.models import Activity, Decision, DecisionOutcome, ReviewStatus
from decisions.selectors import activity_get, activity_list, decision_list
from decisions.services.activity import activity_report, activity_review
from decisions.services.log import decide_and_record
from kernel.api.fast import token_caller, with_fast_path
from kernel.api.filters import SelectorFilters
from kernel.api.inputs import InputSerializer, unknown_fields, validated
from kernel.api.parsers import DECISION_PARSERS, body_too_large, json_body
from kernel.api.permissions import ActionPermission
from kernel.errors import ApplicationError, UnsupportedMedia
from kernel.permissions import Action
from kernel.validation import TEXT_MAX_LENGTH, surrogate_refusal


class DecisionIn(InputSerializer):
    agent = serializers.CharField(max_length=200, help_text="agent slug")
    capability = serializers.CharField(max_length=200, help_text="tool:action")
    scope = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


_DECISION_LIMITS = {"agent": 200, "capability": 200, "scope": 500}


def decision_input(data) -> dict[str, str]:
    """DecisionIn's checks, by hand: this runs on every agent action, and a DRF serializer
    costs more than the decision itself. Errors read as the serializer's would."""
    if not isinstance(data, dict):
        raise ApplicationError("The request body must be a JSON object.", code="invalid_body")
    unknown = unknown_fields(data, _DECISION_LIMITS)
    if unknown:
        raise ApplicationError(unknown, code="invalid")
    cleaned = {}
    for name, limit in _DECISION_LIMITS.items():
        value = data.get(name, "" if name == "scope" else None)
        if value is None:
            raise ApplicationError(f"{name}: This field is required.", field=name)
        if not isinstance(value, str):
            raise ApplicationError(f"{name}: Not a valid string.", field=name)
        if len(value) > limit:
            raise ApplicationError(
                f"{name}: Ensure this field has no more than {limit} characters.", field=name
            )
        if name != "scope" and not value.strip():
            raise ApplicationError(f"{name}: This field may not be blank.", field=name)
        if refusal := surrogate_refusal(value):  # no database stores one: a 400, not a 500
            raise ApplicationError(f"{name}: {refusal}", field=name)
        cleaned[name] = value
    return cleaned


class DecisionOut(serializers.Serializer):
    decision = serializers.ChoiceField(choices=DecisionOutcome.choices)
    reason = serializers.CharField()
    policy_version = serializers.IntegerField(allow_null=True)
    grant = serializers.IntegerField(allow_null=True, source="grant_id")
    exception = serializers.IntegerField(allow_null=True, source="exception_id")
    decision_id = serializers.IntegerField(source="id")


class DecisionLogOut(serializers.ModelSerializer):
    agent = serializers.CharField(source="agent_slug")
    capability = serializers.CharField(source="capability_key")
    caller = serializers.CharField(source="caller.username", default=None)
    grant = serializers.IntegerField(source="grant_id")
    exception = serializers.IntegerField(source="exception_id")

    class Meta:
        model = Decision
        fields = [
            "id",
            "request_id",
            "agent",
            "capability",
            "scope",
            "decision",
            "reason",
            "policy_version",
            "grant",
            "exception",
            "caller",
            "caller_workload",
            "decided_at",
            "credential_jti",
        ]


class DecisionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """`POST`: may this agent use this capability now? `GET`: the decision log."""

    serializer_class = DecisionLogOut
    filter_backends = [SelectorFilters]
    filterset_class = DecisionFilter
    queryset = Decision.objects.none()  # for the schema; the log comes from its selector
    parser_classes = DECISION_PARSERS  # a key twice in the body is a 400, as on the fast path

    def get_queryset(self):
        return decision_list(filters=self.request.query_params)

    # The decision log is audit evidence: security and auditors read it. (A gateway's token POST
    # never gets here: decisions_endpoint answers it, with the same rule and refusal.)
    permission_classes = [ActionPermission]
    action_permissions = {"read": Action.VIEW_AUDIT_TRAIL, "create": Action.CALL_DECISION_API}

    @extend_schema(request=DecisionIn, responses=DecisionOut)
    def create(self, request):
        return Response(answer_decision(request.user, request.data))


def answer_decision(user, data) -> dict:
    """Validate, decide, record (committed), and shape the answer: both entry points use it."""
    checked = decision_input(data)
    result, record = decide_and_record(
        agent_slug=checked["agent"],
        capability_key=checked["capability"],
        scope=checked["scope"],
        caller=user,
    )
    return shape_decision(result, record)


def shape_decision(result, record: int) -> dict:
    """A decision's answer (single or in a batch): what the gateway acts on."""
    return {
        "decision": result.decision,
        "reason": result.reason,
        "policy_version": result.policy_version,
        "grant": result.grant_id,
        "exception": result.exception_id,
        "decision_id": record,
    }


def _fast_decision(request: HttpRequest, token: str) -> HttpResponse:
    """A gateway's token-authenticated POST, made on every agent action, answered without
    DRF's request machinery (measured: a fifth of the request)."""
    try:
        checked = _parse_decision_request(request)
    except ApplicationError:
        # Who asks comes first: a stranger or a wrong role hears 401/403, not 400.
        token_caller(token, Action.CALL_DECISION_API)
        raise
    result, record = decide_and_record(
        agent_slug=checked["agent"],
        capability_key=checked["capability"],
        scope=checked["scope"],
        token=token,
    )
    return JsonResponse(shape_decision(result, record))


# /api/v1/decisions/: the GET log and session callers go through DRF; same checks, same
# answers, same error shapes either way.
decisions_endpoint = with_fast_path(
    DecisionViewSet.as_view({"get": "list", "post": "create"}), "POST", _fast_decision
)


def _parse_decision_request(request: HttpRequest) -> dict[str, str]:
    if request.content_type != "application/json":
        raise UnsupportedMedia("Send the decision request as application/json.")
    try:
        body = request.body
    except RequestDataTooBig:
        raise body_too_large() from None
    return decision_input(json_body(body, unique_keys=True))


class ActivityOut(serializers.ModelSerializer):
    agent = serializers.CharField(source="agent_slug")
    capability = serializers.CharField(source="capability_key")
    reported_by = serializers.CharField(source="reported_by.username")
    reviewed_by = serializers.CharField(source="reviewed_by.username", default=None)

    class Meta:
        model = Activity
        fields = [
            "id",
            "agent",
            "capability",
            "target",
            "outcome",
            "occurred_at",
            "reported_by",
            "reported_at",
            "covered_by",
            "flagged",
            "flag_reason",
            "review_status",
            "reviewed_by",
            "reviewed_at",
            "review_note",
        ]


class ReviewIn(InputSerializer):
    verdict = serializers.ChoiceField(choices=[ReviewStatus.EXPECTED, ReviewStatus.INCIDENT])
    note = serializers.CharField(max_length=TEXT_MAX_LENGTH)


class ActivityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """`POST` one activity or a list (gateway). `GET` with `?flagged=true` for drift."""

    serializer_class = ActivityOut
    filter_backends = [SelectorFilters]
    filterset_class = ActivityFilter
    queryset = Activity.objects.none()  # for the schema; rows come from the selector

    def get_queryset(self):
        if self.action == "list":
            return activity_list(filters=self.request.query_params)
        return activity_list()

    # Activity is audit evidence (security and auditors read it); gateways report it and
    # security reviews the flagged; the services check again.
    permission_classes = [ActionPermission]
    action_permissions = {
        "read": Action.VIEW_AUDIT_TRAIL,
        "create": Action.REPORT_ACTIVITY,
        "review": Action.REVIEW_ACTIVITY,
    }

    @extend_schema(
        request=ActivityIn(many=True),
        responses={201: ActivityOut(many=True)},
    )
    def create(self, request):
        activities = activity_report(actor=request.user, items=activity_input(request.data))
        return Response(ActivityOut(activities, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReviewIn, responses=ActivityOut)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        data = validated(ReviewIn, request.data)
        activity = activity_get(pk)
        activity = activity_review(actor=request.user, activity=activity, **data)
        return Response(ActivityOut(activity).data)
