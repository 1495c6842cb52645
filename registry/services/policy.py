"""Policy authorship: security edits a draft and publishes it; published versions never change."""

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from kernel.audit import audit_actor, audit_batch
from kernel.errors import ApplicationError
from kernel.permissions import Action, require
from registry.models import Capability, Effect, PolicyRule, PolicyStatus, PolicyVersion, Tier
from registry.models.policy import TIME_BOXED_EFFECTS


def _lock_draft(version: PolicyVersion) -> PolicyVersion:
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != PolicyStatus.DRAFT:
        raise ApplicationError(
            f"Policy v{version.number} is published and immutable: create a draft to change it.",
            code="policy_immutable",
        )
    return version


def validate_rule(*, tier: str, effect: str, max_duration_hours: int | None) -> int | None:
    """The rule's shape: a time box for jit/approval, none for allow/deny."""
    if tier not in Tier.values:
        raise ApplicationError(
            f"Unknown tier '{tier}'; use one of {', '.join(Tier.values)}.", field="tier"
        )
    if effect not in Effect.values:
        raise ApplicationError(
            f"Unknown effect '{effect}'; use one of {', '.join(Effect.values)}.", field="effect"
        )
    limit = settings.POLICY_MAX_DURATION_HOURS
    if effect in TIME_BOXED_EFFECTS:
        if max_duration_hours is None:
            raise ApplicationError(
                f"A '{effect}' rule needs max_duration_hours (1 to {limit}).",
                field="max_duration_hours",
            )
        if not 1 <= max_duration_hours <= limit:
            raise ApplicationError(
                f"max_duration_hours must be between 1 and {limit} (no standing access).",
                field="max_duration_hours",
            )
        return max_duration_hours
    if max_duration_hours is not None:
        raise ApplicationError(
            f"An '{effect}' rule has no max_duration_hours; leave it empty.",
            field="max_duration_hours",
        )
    return None


@transaction.atomic
def policy_draft_create(*, actor: User, notes: str = "") -> PolicyVersion:
    """Open the next version as a draft, starting from the rules of the latest published one."""
    require(actor, Action.MANAGE_POLICY)
    # Serialise draft creation: numbers are allocated from the current maximum.
    list(PolicyVersion.objects.select_for_update().order_by("number").values_list("pk", flat=True))
    existing = PolicyVersion.objects.filter(status=PolicyStatus.DRAFT).first()
    if existing is not None:
        raise ApplicationError(
            f"Draft v{existing.number} is already open: edit or publish it, or discard it first.",
            code="draft_exists",
            draft=existing.number,
        )
    base = PolicyVersion.objects.filter(status=PolicyStatus.PUBLISHED).order_by("-number").first()
    number = (PolicyVersion.objects.aggregate(top=Max("number"))["top"] or 0) + 1
    with audit_actor(actor):
        try:
            draft = PolicyVersion.objects.create(
                number=number,
                status=PolicyStatus.DRAFT,
                notes=notes,
                based_on=base,
                created_by=actor,
            )
        except IntegrityError as exc:
            raise ApplicationError(
                "Another draft was opened at the same moment; reload.", code="draft_exists"
            ) from exc
        if base is not None:
            copied = PolicyRule.objects.bulk_create(
                PolicyRule(
                    version=draft,
                    tier=rule.tier,
                    capability_id=rule.capability_id,
                    effect=rule.effect,
                    max_duration_hours=rule.max_duration_hours,
                )
                for rule in base.rules.all()
            )
            audit_batch(
                draft, field="rules", summary=f"{len(copied)} rules copied from v{base.number}"
            )
    return draft


@transaction.atomic
def policy_rule_set(
    *,
    actor: User,
    version: PolicyVersion,
    tier: str,
    capability: Capability,
    effect: str,
    max_duration_hours: int | None = None,
) -> PolicyRule:
    """Create or replace the draft's rule for (tier, capability)."""
    require(actor, Action.MANAGE_POLICY)
    version = _lock_draft(version)
    max_duration_hours = validate_rule(
        tier=tier, effect=effect, max_duration_hours=max_duration_hours
    )
    with audit_actor(actor):
        rule, _ = PolicyRule.objects.update_or_create(
            version=version,
            tier=tier,
            capability=capability,
            defaults={"effect": effect, "max_duration_hours": max_duration_hours},
        )
    return rule


@transaction.atomic
def policy_rule_remove(
    *, actor: User, version: PolicyVersion, tier: str, capability: Capability
) -> None:
    """Remove a draft rule: no rule means deny."""
    require(actor, Action.MANAGE_POLICY)
    version = _lock_draft(version)
    with audit_actor(actor):
        deleted, _ = PolicyRule.objects.filter(
            version=version, tier=tier, capability=capability
        ).delete()
    if not deleted:
        raise ApplicationError(
            f"Draft v{version.number} has no rule for {tier} {capability.key}.", code="not_found"
        )


@transaction.atomic
def policy_publish(*, actor: User, version: PolicyVersion) -> PolicyVersion:
    """Publish the draft: from now on every decision uses it."""
    require(actor, Action.MANAGE_POLICY)
    version = _lock_draft(version)
    version.status = PolicyStatus.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = actor
    with audit_actor(actor):
        version.save(update_fields=["status", "published_at", "published_by"])
    return version


@transaction.atomic
def policy_draft_discard(*, actor: User, version: PolicyVersion) -> None:
    require(actor, Action.MANAGE_POLICY)
    version = _lock_draft(version)
    with audit_actor(actor):
        version.rules.all().delete()
        version.delete()
