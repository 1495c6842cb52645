"""Read-only admin views of trust, bindings, keys and issued credentials: changes go through
the services (API and pages), where the rules and the approval workflow are."""

from django.contrib import admin

from credentials.models import (
    IdentityBinding,
    IssuedCredential,
    RefusedExchange,
    SigningKey,
    TrustProvider,
)
from kernel.admin_mixins import ReadOnlyWorkflowAdmin


@admin.register(TrustProvider)
class TrustProviderAdmin(ReadOnlyWorkflowAdmin):
    list_display = ["slug", "name", "issuer", "audience", "max_token_age_seconds"]
    search_fields = ["slug", "issuer"]


@admin.register(IdentityBinding)
class IdentityBindingAdmin(ReadOnlyWorkflowAdmin):
    list_display = ["id", "agent", "provider", "subject", "status", "created_at"]
    list_filter = ["status", "provider"]
    search_fields = ["subject", "agent__slug"]
    list_select_related = ["agent", "provider"]


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyWorkflowAdmin):
    """The private key (encrypted) is never shown, not even to superusers."""

    list_display = ["kid", "algorithm", "created_at", "retired_at", "publish_until"]
    fields = ["kid", "algorithm", "public_jwk", "created_at", "retired_at", "publish_until"]


@admin.register(IssuedCredential)
class IssuedCredentialAdmin(ReadOnlyWorkflowAdmin):
    list_display = ["jti", "agent", "provider", "issued_at", "expires_at"]
    list_filter = ["provider"]
    search_fields = ["jti", "agent__slug", "subject"]
    list_select_related = ["agent", "provider"]


@admin.register(RefusedExchange)
class RefusedExchangeAdmin(ReadOnlyWorkflowAdmin):
    list_display = ["at", "provider", "subject", "error", "agent"]
    list_filter = ["error", "provider"]
    list_select_related = ["provider", "agent"]
