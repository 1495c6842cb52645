"""Who may present itself as an agent (trust providers, identity bindings), the keys the portal
signs with, and the credentials it issued.

A workload proves who it is with a token its platform signed (GitHub Actions OIDC, a
Kubernetes service-account token, a SPIFFE JWT-SVID); a trust provider says whose signature
counts and for which audience; an identity binding says which of that provider's subjects
(and claims) is which agent. The portal then issues a short-lived access token, signed with
its own key, and keeps a record of it (never the token itself).
"""

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.db.models import Q

from approvals.models import ApprovalRecord, ApprovalWorkflow, approval_once_per_person
from credentials.limits import (
    DEFAULT_ALGORITHMS,
    DEFAULT_MAX_TOKEN_AGE_SECONDS,
    PROVIDER_TEXT_MAX_LENGTH,
    RESOURCE_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
)
from kernel.validation import SLUG_MAX_LENGTH
from registry.models import Agent
from registry.models.inventory import slug_validator


def default_algorithms() -> list[str]:
    return list(DEFAULT_ALGORITHMS)


class TrustProvider(models.Model):
    """A platform whose workload tokens the portal accepts (security manages, everyone reads)."""

    slug = models.SlugField(max_length=SLUG_MAX_LENGTH, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    issuer = models.CharField(
        max_length=PROVIDER_TEXT_MAX_LENGTH, help_text="the exact `iss` of its tokens"
    )
    jwks_uri = models.URLField(
        max_length=PROVIDER_TEXT_MAX_LENGTH, blank=True, help_text="where its public keys are"
    )
    jwks = models.JSONField(
        null=True, blank=True, help_text="its public keys inline, instead of a jwks_uri"
    )
    audience = models.CharField(
        max_length=PROVIDER_TEXT_MAX_LENGTH, help_text="the `aud` its tokens must carry"
    )
    algorithms = models.JSONField(default=default_algorithms)
    max_token_age_seconds = models.PositiveIntegerField(
        default=DEFAULT_MAX_TOKEN_AGE_SECONDS,
        help_text="a subject token older than this is refused",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            # A token is verified against the provider of its issuer and audience: one each.
            models.UniqueConstraint(
                fields=["issuer", "audience"], name="trust_provider_issuer_audience_unique"
            )
        ]

    def __str__(self) -> str:
        return self.slug


class BindingStatus(models.TextChoices):
    PENDING = "pending", "Awaiting security approval"
    ACTIVE = "active", "Active"
    REJECTED = "rejected", "Rejected"
    REMOVED = "removed", "Removed"


class IdentityBinding(ApprovalWorkflow):
    """ "A token from `provider` whose `sub` is `subject` and whose claims match `claims` is
    agent X." Claims map a claim name to an exact value or a glob (`refs/heads/*`).

    On a production agent a binding takes effect only once security approves it (the shared
    approval workflow); elsewhere it is active when added.
    """

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="identity_bindings")
    provider = models.ForeignKey(TrustProvider, on_delete=models.PROTECT, related_name="bindings")
    subject = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    claims = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=BindingStatus.choices, default=BindingStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    close_comment = models.TextField(blank=True)

    class Meta:
        ordering = ["agent__slug", "id"]
        indexes = [models.Index(fields=["provider", "subject", "status"])]

    def __str__(self) -> str:
        return f"{self.provider.slug}:{self.subject} -> {self.agent.slug}"

    def get_absolute_url(self) -> str:
        return f"{self.agent.get_absolute_url()}#binding-{self.pk}"


class BindingApproval(ApprovalRecord):
    binding = models.ForeignKey(IdentityBinding, on_delete=models.CASCADE, related_name="approvals")

    class Meta(ApprovalRecord.Meta):
        constraints = [approval_once_per_person("binding", "binding_approval_once_per_person")]


class SigningKey(models.Model):
    """One of the portal's signing keys. The active one has no `retired_at`; a retired key is
    still published until `publish_until` (its last token's expiry). The private key is kept
    encrypted (credentials.keys) and never leaves the process that signs."""

    kid = models.CharField(max_length=64, unique=True)
    algorithm = models.CharField(max_length=16)
    public_jwk = models.JSONField()
    private_key = models.TextField(help_text="PKCS#8 PEM, Fernet-encrypted")
    created_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)
    publish_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["retired_at"],
                condition=Q(retired_at__isnull=True),
                name="one_active_signing_key",
            )
        ]

    def __str__(self) -> str:
        return self.kid


class IssuedCredential(models.Model):
    """What the portal issued: evidence for auditors, and what introspection consults. The
    token itself is never stored."""

    jti = models.CharField(max_length=64, unique=True)
    # Append-only evidence, written on every exchange: like the decision log, the references
    # carry no database constraint (each costs a lookup per insert); the ORM still PROTECTs.
    agent = models.ForeignKey(
        Agent, on_delete=models.PROTECT, db_constraint=False, related_name="credentials"
    )
    capabilities = models.JSONField(default=list)
    # The same keys as " a:b c:d " (space on both ends), so "has capability X" is one portable
    # `contains " X "` on SQLite and PostgreSQL alike.
    capability_keys = models.CharField(max_length=4000, editable=False)
    resource = models.CharField(max_length=RESOURCE_MAX_LENGTH, blank=True)
    provider = models.ForeignKey(
        TrustProvider, on_delete=models.PROTECT, db_constraint=False, related_name="credentials"
    )
    binding = models.ForeignKey(
        IdentityBinding, on_delete=models.PROTECT, db_constraint=False, related_name="credentials"
    )
    subject = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    signing_key = models.ForeignKey(
        SigningKey, on_delete=models.PROTECT, db_constraint=False, related_name="+"
    )
    issued_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    policy_version = models.PositiveIntegerField(null=True)
    grant_ids = models.JSONField(default=list)
    exception_ids = models.JSONField(default=list)
    agent_status = models.CharField(max_length=16, help_text="the agent's status when issued")

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["agent", "issued_at"])]

    def __str__(self) -> str:
        return self.jti


class RefusedExchange(models.Model):
    """A genuine subject token (its signature verified) that got no credential: unbound,
    claims not met, bound to two agents, agent suspended, or a capability denied. Security
    sees these: a forked pull request trying to act as a production agent lands here."""

    provider = models.ForeignKey(
        TrustProvider, on_delete=models.CASCADE, related_name="refused_exchanges"
    )
    subject = models.CharField(max_length=SUBJECT_MAX_LENGTH)
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error = models.CharField(max_length=32)
    description = models.CharField(max_length=1000)
    claims = models.JSONField(default=dict)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.error} {self.subject}"


auditlog.register(TrustProvider)
auditlog.register(IdentityBinding)
auditlog.register(BindingApproval)
auditlog.register(SigningKey, exclude_fields=["private_key"])
