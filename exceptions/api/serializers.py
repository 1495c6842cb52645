"""Shapes of the exceptions API: input validation that carries no business rule, and output."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from exceptions.models import ExceptionApproval, ExceptionStatus, PolicyException, Risk
from exceptions.selectors import is_in_force


class ExceptionIn(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    agent = serializers.CharField(max_length=64, help_text="agent slug")
    capability = serializers.CharField(max_length=130, help_text="tool:action")
    justification = serializers.CharField(max_length=4000)
    risk = serializers.ChoiceField(choices=Risk.choices)
    compensating_controls = serializers.CharField(
        max_length=4000,
        required=False,
        allow_blank=True,
        default="",
        help_text="required for high and critical risk",
    )
    starts_at = serializers.DateTimeField(required=False, default=None, help_text="default: now")
    expires_at = serializers.DateTimeField(
        help_text="at most 180/90/30/14 days after starts_at for low/medium/high/critical"
    )
    controls = serializers.ListField(
        child=serializers.CharField(max_length=32),
        required=False,
        max_length=50,
        help_text="ref_ids of the controls it deviates from (e.g. AGC-03); default: those "
        "governing the capability",
    )


class RenewIn(serializers.Serializer):
    expires_at = serializers.DateTimeField(help_text="the renewal starts when this one expires")
    justification = serializers.CharField(max_length=4000)


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
    controls = serializers.SlugRelatedField(slug_field="ref_id", many=True, read_only=True)

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
        ]

    def get_in_force(self, exception: PolicyException) -> bool:
        return is_in_force(exception)


class ExceptionDetailOut(ExceptionOut):
    renewed_by = serializers.SerializerMethodField()

    class Meta(ExceptionOut.Meta):
        fields = [*ExceptionOut.Meta.fields, "renewed_by"]

    def get_renewed_by(self, exception: PolicyException) -> list[int]:
        return [renewal.pk for renewal in exception.renewals.all()]
