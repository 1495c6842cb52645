"""Published, immutable, numbered policy versions: one rule per (tier, capability)."""

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models

from registry.models.inventory import Capability, Tier


class PolicyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Effect(models.TextChoices):
    ALLOW = "allow", "Allow (standing)"
    JIT = "jit", "Just-in-time (self-service, time-boxed)"
    APPROVAL = "approval", "Approval by security (time-boxed)"
    DENY = "deny", "Deny"


TIME_BOXED_EFFECTS = frozenset({Effect.JIT, Effect.APPROVAL})

# What people write about a version (its notes, or a policy file's comment; the reason for a
# loosening publish) is at most this long.
POLICY_TEXT_MAX_LENGTH = 2000


class PolicyVersion(models.Model):
    number = models.PositiveIntegerField(unique=True)
    status = models.CharField(
        max_length=16, choices=PolicyStatus.choices, default=PolicyStatus.DRAFT
    )
    notes = models.TextField(blank=True)
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    # A publish that loosened the policy in force says why; the warnings it answered stay here.
    publish_reason = models.TextField(blank=True)
    publish_warnings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            # One draft at a time: two drafts would race to become "the next version".
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="draft"),
                name="policy_single_draft",
            )
        ]

    def __str__(self) -> str:
        return f"v{self.number} ({self.status})"

    @property
    def is_published(self) -> bool:
        return self.status == PolicyStatus.PUBLISHED


class PolicyRule(models.Model):
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="rules")
    tier = models.CharField(max_length=16, choices=Tier.choices)
    capability = models.ForeignKey(Capability, on_delete=models.PROTECT, related_name="rules")
    effect = models.CharField(max_length=16, choices=Effect.choices)
    max_duration_hours = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["tier", "capability__key"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "tier", "capability"], name="policy_rule_unique_per_version"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(effect__in=["jit", "approval"], max_duration_hours__gt=0)
                    | models.Q(effect__in=["allow", "deny"], max_duration_hours__isnull=True)
                ),
                name="policy_rule_duration_matches_effect",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tier} {self.capability.key}: {self.effect}"


auditlog.register(PolicyVersion)
auditlog.register(PolicyRule)
