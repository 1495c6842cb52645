"""Shapes of the exceptions API: input validation that carries no business rule, and output."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from exceptions.limits import (
    ELEVATED_RISKS,
    MAX_DAYS,
    START_AHEAD_MAX_DAYS,
    STILL_NEEDED,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    TITLE_NEEDED,
    WHY_NEEDED,
)
from exceptions.models import ExceptionApproval, ExceptionStatus, PolicyException, Risk
from exceptions.rules import exception_is_in_force
from kernel.api.inputs import InputSerializer
from kernel.validation import SLUG_MAX_LENGTH, sane_year_validator, visible_text_validator
from registry.models import CAPABILITY_KEY_MAX_LENGTH


class ExceptionIn(InputSerializer):
    title = serializers.CharField(
        max_length=TITLE_MAX_LENGTH, validators=[visible_text_validator(TITLE_NEEDED)]
    )
    agent = serializers.CharField(max_length=SLUG_MAX_LENGTH, help_text="agent slug")
    capability = serializers.CharField(
        max_length=CAPABILITY_KEY_MAX_LENGTH, help_text="tool:action"
    )
    justification = serializers.CharField(
        max_length=TEXT_MAX_LENGTH, validators=[visible_text_validator(WHY_NEEDED)]
    )
    risk = serializers.ChoiceField(choices=Risk.choices)
    compensating_controls = serializers.CharField(
        max_length=TEXT_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text=f"required for {' and '.join(ELEVATED_RISKS)} risk",
    )
    starts_at = serializers.DateTimeField(
        required=False,
        default=None,
        validators=[sane_year_validator("starts_at")],
        help_text=f"default: now; at most {START_AHEAD_MAX_DAYS} days ahead",
    )
    expires_at = serializers.DateTimeField(
        validators=[sane_year_validator("expires_at")],
        help_text=f"at most {'/'.join(map(str, MAX_DAYS.values()))} days after starts_at "
        f"for {'/'.join(MAX_DAYS)}",
    )
    controls = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        max_length=50,
        help_text="ref_ids of the controls it deviates from (e.g. AGC-03); default: those "
        "governing the capability",
    )


class RenewIn(InputSerializer):
    expires_at = serializers.DateTimeField(
        validators=[sane_year_validator("expires_at")],
        help_text="the renewal starts when this one expires",
    )
    justification = serializers.CharField(
        max_length=TEXT_MAX_LENGTH, validators=[visible_text_validator(STILL_NEEDED)]
    )


class ExceptionApprovalOut(serializers.ModelSerializer):
    approver = serializers.CharField(source="approver.username")

    class Meta:
        model = ExceptionApproval
        fields = ["approver", "comment", "created_at"]


# A plain string in the schema: an enum component named after the field ("status") collides
# with the registry's request statuses (naming it needs an ENUM_NAME_OVERRIDES entry).
@extend_schema_field(OpenApiTypes.STR)
class ExceptionStatusField(serializers.CharField):
    pass


class ExceptionOut(serializers.ModelSerializer):
    status = ExceptionStatusField(
        read_only=True, help_text="one of " + ", ".join(ExceptionStatus.values)
    )
    agent = serializers.CharField(source="agent.slug")
    capability = serializers.CharField(source="capability.key", default=None)
    requested_by = serializers.CharField(source="requested_by.username")
    approvals = ExceptionApprovalOut(many=True, read_only=True)
    in_force = serializers.SerializerMethodField()
    max_days = serializers.IntegerField(read_only=True)
    renews = serializers.IntegerField(source="renews_id", allow_null=True)
    rejected_by = serializers.CharField(source="rejected_by.username", default=None)
    revoked_by = serializers.CharField(source="revoked_by.username", default=None)
    controls: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="ref_id", many=True, read_only=True
    )

    class Meta:
        model = PolicyException
        fields = [
            "id",
            "title",
            "agent",
            "capability",
            "justification",
            "risk",
            "compensating_controls",
            "controls",
            "status",
            "in_force",
            "starts_at",
            "expires_at",
            "max_days",
            "required_approvals",
            "approvals",
            "requested_by",
            "created_at",
            "activated_at",
            "renews",
            "rejected_at",
            "rejected_by",
            "rejection_comment",
            "revoked_at",
            "revoked_by",
            "revoke_reason",
            "withdrawn_at",
        ]

    def get_in_force(self, exception: PolicyException) -> bool:
        return exception_is_in_force(exception)


class ExceptionDetailOut(ExceptionOut):
    renewed_by = serializers.SerializerMethodField()

    class Meta(ExceptionOut.Meta):
        fields = [*ExceptionOut.Meta.fields, "renewed_by"]

    def get_renewed_by(self, exception: PolicyException) -> list[int]:
        return [renewal.pk for renewal in exception.renewals.all()]
