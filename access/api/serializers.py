"""API shapes of just-in-time access: requests, their approvals, grants."""

from rest_framework import serializers

from access.limits import (
    DURATION_HOURS_INPUT_MAX,
    INCIDENT_NEEDED,
    SCOPE_MAX_LENGTH,
    TICKET_MAX_LENGTH,
    WHY_NEEDED,
)
from access.models import AccessRequest, Approval, Grant
from access.rules import grant_is_active
from kernel.api.inputs import InputSerializer
from kernel.validation import SLUG_MAX_LENGTH, TEXT_MAX_LENGTH, visible_text_validator
from registry.models import CAPABILITY_KEY_MAX_LENGTH


class GrantOut(serializers.ModelSerializer):
    agent = serializers.CharField(source="agent.slug")
    capability = serializers.CharField(source="capability.key")
    request = serializers.IntegerField(source="request_id", allow_null=True)
    revoked_by = serializers.CharField(source="revoked_by.username", default=None)
    active = serializers.SerializerMethodField()

    class Meta:
        model = Grant
        fields = [
            "id",
            "agent",
            "capability",
            "scope",
            "starts_at",
            "expires_at",
            "active",
            "request",
            "revoked_at",
            "revoked_by",
            "revoke_reason",
        ]

    def get_active(self, grant: Grant) -> bool:

        return grant_is_active(grant)


class ApprovalOut(serializers.ModelSerializer):
    approver = serializers.CharField(source="approver.username")

    class Meta:
        model = Approval
        fields = ["approver", "comment", "created_at"]


class AccessRequestOut(serializers.ModelSerializer):
    agent = serializers.CharField(source="agent.slug")
    capability = serializers.CharField(source="capability.key")
    requested_by = serializers.CharField(source="requested_by.username")
    decided_by = serializers.CharField(source="decided_by.username", default=None)
    confirmed_by = serializers.CharField(source="confirmed_by.username", default=None)
    approvals = ApprovalOut(many=True, read_only=True)
    grant = serializers.SerializerMethodField()

    class Meta:
        model = AccessRequest
        fields = [
            "id",
            "agent",
            "capability",
            "scope",
            "justification",
            "ticket",
            "duration_hours",
            "status",
            "effect",
            "policy_version",
            "required_approvals",
            "approvals",
            "grant",
            "requested_by",
            "created_at",
            "decided_by",
            "decided_at",
            "decision_comment",
            "break_glass",
            "incident",
            "break_glass_reviewed_at",
            "filed_by_agent",
            "filed_by_workload",
            "confirmed_by",
            "confirmed_at",
        ]

    def get_grant(self, access_request: AccessRequest) -> dict | None:
        grant = getattr(access_request, "grant", None)
        return GrantOut(grant).data if grant is not None else None


class AccessRequestIn(InputSerializer):
    agent = serializers.CharField(max_length=SLUG_MAX_LENGTH, help_text="agent slug")
    capability = serializers.CharField(
        max_length=CAPABILITY_KEY_MAX_LENGTH, help_text="tool:action"
    )
    justification = serializers.CharField(
        max_length=TEXT_MAX_LENGTH, validators=[visible_text_validator(WHY_NEEDED)]
    )
    duration_hours = serializers.IntegerField(min_value=1, max_value=DURATION_HOURS_INPUT_MAX)
    scope = serializers.CharField(
        max_length=SCOPE_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    ticket = serializers.CharField(
        max_length=TICKET_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    break_glass = serializers.BooleanField(required=False, default=False)
    incident = serializers.CharField(
        max_length=TICKET_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        validators=[visible_text_validator(INCIDENT_NEEDED)],
    )


class BreakGlassIn(InputSerializer):
    """POST /api/v1/access-requests/break-glass/: an owner's emergency access."""

    agent = serializers.CharField(
        max_length=SLUG_MAX_LENGTH, help_text="agent slug (production, yours)"
    )
    capability = serializers.CharField(
        max_length=CAPABILITY_KEY_MAX_LENGTH, help_text="tool:action"
    )
    justification = serializers.CharField(
        max_length=TEXT_MAX_LENGTH, validators=[visible_text_validator(WHY_NEEDED)]
    )
    duration_hours = serializers.IntegerField(
        min_value=1, max_value=DURATION_HOURS_INPUT_MAX, help_text="at most the break-glass limit"
    )
    incident = serializers.CharField(
        max_length=TICKET_MAX_LENGTH,
        validators=[visible_text_validator(INCIDENT_NEEDED)],
        error_messages=dict.fromkeys(("required", "blank", "null"), INCIDENT_NEEDED),
    )
    scope = serializers.CharField(
        max_length=SCOPE_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    ticket = serializers.CharField(
        max_length=TICKET_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
