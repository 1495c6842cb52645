"""API shapes of trust providers, identity bindings and issued credentials."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from credentials.limits import (
    ASYMMETRIC_ALGORITHMS,
    CLAIM_VALUE_MAX_LENGTH,
    DEFAULT_ALGORITHMS,
    DEFAULT_MAX_TOKEN_AGE_SECONDS,
    MAX_TOKEN_AGE_SECONDS,
    MIN_TOKEN_AGE_SECONDS,
    PROVIDER_TEXT_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
)
from credentials.models import IdentityBinding, IssuedCredential, TrustProvider
from kernel.api.inputs import InputSerializer
from kernel.validation import SLUG_MAX_LENGTH


class ProviderIn(InputSerializer):
    slug = serializers.SlugField(max_length=SLUG_MAX_LENGTH)
    name = serializers.CharField(max_length=200)
    issuer = serializers.CharField(max_length=PROVIDER_TEXT_MAX_LENGTH)
    jwks_uri = serializers.URLField(
        max_length=PROVIDER_TEXT_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    jwks = serializers.JSONField(required=False, allow_null=True, default=None)
    audience = serializers.CharField(max_length=PROVIDER_TEXT_MAX_LENGTH)
    algorithms = serializers.ListField(
        child=serializers.CharField(max_length=16),
        required=False,
        default=lambda: list(DEFAULT_ALGORITHMS),
        help_text=f"any of {', '.join(ASYMMETRIC_ALGORITHMS)} (never none or HMAC)",
    )
    max_token_age_seconds = serializers.IntegerField(
        min_value=MIN_TOKEN_AGE_SECONDS,
        max_value=MAX_TOKEN_AGE_SECONDS,
        default=DEFAULT_MAX_TOKEN_AGE_SECONDS,
    )


class ProviderOut(serializers.ModelSerializer):
    class Meta:
        model = TrustProvider
        fields = [
            "slug",
            "name",
            "issuer",
            "jwks_uri",
            "jwks",
            "audience",
            "algorithms",
            "max_token_age_seconds",
            "created_at",
            "updated_at",
        ]


class BindingIn(InputSerializer):
    provider = serializers.SlugField(max_length=SLUG_MAX_LENGTH, help_text="trust provider slug")
    subject = serializers.CharField(max_length=SUBJECT_MAX_LENGTH, help_text="the exact `sub`")
    claims = serializers.DictField(
        child=serializers.CharField(max_length=CLAIM_VALUE_MAX_LENGTH),
        required=False,
        default=dict,
        help_text="claim name to exact value or glob (`refs/heads/*`)",
    )


class BindingOut(serializers.ModelSerializer):
    agent = serializers.CharField(source="agent.slug")
    provider = serializers.CharField(source="provider.slug")
    requested_by = serializers.CharField(source="requested_by.username")
    approvals = serializers.SerializerMethodField()

    class Meta:
        model = IdentityBinding
        fields = [
            "id",
            "agent",
            "provider",
            "subject",
            "claims",
            "status",
            "required_approvals",
            "approvals",
            "requested_by",
            "created_at",
            "activated_at",
            "closed_at",
            "close_comment",
        ]

    def get_approvals(self, binding: IdentityBinding) -> list[str]:
        return [approval.approver.username for approval in binding.approvals.all()]


class AllowedByOut(serializers.Serializer):
    grants = serializers.ListField(child=serializers.IntegerField())
    exceptions = serializers.ListField(child=serializers.IntegerField())
    standing = serializers.BooleanField(help_text="a standing allow in the policy version")


class CredentialOut(serializers.ModelSerializer):
    agent = serializers.CharField(source="agent.slug")
    provider = serializers.CharField(source="provider.slug")
    scope = serializers.CharField(source="resource")
    kid = serializers.CharField(source="signing_key.kid")
    allowed_by = serializers.SerializerMethodField()

    class Meta:
        model = IssuedCredential
        fields = [
            "jti",
            "agent",
            "capabilities",
            "scope",
            "subject",
            "provider",
            "issued_at",
            "expires_at",
            "policy_version",
            "allowed_by",
            "kid",
        ]

    @extend_schema_field(AllowedByOut)
    def get_allowed_by(self, credential: IssuedCredential) -> dict[str, object]:
        """Grants and exceptions by id; neither means a standing allow in the policy version."""
        return {
            "grants": credential.grant_ids,
            "exceptions": credential.exception_ids,
            "standing": not credential.grant_ids and not credential.exception_ids,
        }
