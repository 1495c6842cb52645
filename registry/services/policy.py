"""Policy authorship: security edits a draft and publishes it; published versions never change."""

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from kernel.audit import audit_actor, audit_batch
from kernel.errors import ApplicationError
from kernel.permissions import Action, require
from kernel.validation import optional_text
from registry.models import Capability, PolicyRule, PolicyStatus, PolicyVersion
from registry.models.policy import POLICY_TEXT_MAX_LENGTH
from registry.policy_file import PolicyDocument
from registry.policy_rules import RuleMap, validate_rule
from registry.selectors.policy import policy_loosenings, policy_rule_map


def _lock_draft(version: PolicyVersion) -> PolicyVersion:
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != PolicyStatus.DRAFT:
        raise ApplicationError(
            f"Policy v{version.number} is published and immutable: create a draft to change it.",
            code="policy_immutable",
        )
    return version


def _open_draft(*, actor: User, notes: str) -> tuple[PolicyVersion, PolicyVersion | None]:
    """The next version number as a new draft (in the caller's transaction), and the latest
    published version it follows. One draft at a time."""
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
    notes = optional_text(notes, "notes", POLICY_TEXT_MAX_LENGTH, strip=False)  # as typed
    base = PolicyVersion.objects.filter(status=PolicyStatus.PUBLISHED).order_by("-number").first()
    number = (PolicyVersion.objects.aggregate(top=Max("number"))["top"] or 0) + 1
    try:
        with transaction.atomic(), audit_actor(actor):
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
    return draft, base


@transaction.atomic
def policy_draft_create(*, actor: User, notes: str = "") -> PolicyVersion:
    """Open the next version as a draft, starting from the rules of the latest published one."""
    draft, base = _open_draft(actor=actor, notes=notes)
    if base is not None:
        with audit_actor(actor):
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
def policy_draft_import(*, actor: User, document: PolicyDocument, source: str) -> PolicyVersion:
    """Open a draft holding exactly the file's rules (a parsed `registry.policy_file`), its
    comment as the version's notes. `source` names where it came from, for the audit trail."""
    draft, _ = _open_draft(actor=actor, notes=document.comment)
    capabilities = dict(
        Capability.objects.filter(key__in={key for _, key in document.rules}).values_list(
            "key", "pk"
        )
    )
    with audit_actor(actor):
        created = PolicyRule.objects.bulk_create(
            PolicyRule(
                version=draft,
                tier=tier,
                capability_id=capabilities[key],
                effect=effect,
                max_duration_hours=hours,
            )
            for (tier, key), (effect, hours) in sorted(document.rules.items())
        )
        audit_batch(draft, field="rules", summary=f"{len(created)} rules imported from {source}")
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
def policy_draft_update(*, actor: User, version: PolicyVersion, rules: RuleMap) -> int:
    """Make the draft's rules exactly `rules` (the whole matrix, saved at once); returns how
    many rules were added, changed or removed. Each change is audited as `actor`."""
    require(actor, Action.MANAGE_POLICY)
    version = _lock_draft(version)
    for (tier, _), (effect, hours) in rules.items():
        validate_rule(tier=tier, effect=effect, max_duration_hours=hours)
    current = policy_rule_map(version)
    changed = {key for key in current.keys() | rules.keys() if current.get(key) != rules.get(key)}
    capabilities = dict(
        Capability.objects.filter(key__in={key for _, key in changed}).values_list("key", "pk")
    )
    if unknown := sorted({key for _, key in changed} - capabilities.keys()):
        raise ApplicationError(f"Unknown capability '{unknown[0]}'.", field="capability")
    with audit_actor(actor):
        for tier, key in sorted(changed):
            if (tier, key) not in rules:
                PolicyRule.objects.filter(
                    version=version, tier=tier, capability_id=capabilities[key]
                ).delete()
                continue
            effect, hours = rules[(tier, key)]
            PolicyRule.objects.update_or_create(
                version=version,
                tier=tier,
                capability_id=capabilities[key],
                defaults={"effect": effect, "max_duration_hours": hours},
            )
    return len(changed)


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
def policy_publish(*, actor: User, version: PolicyVersion, reason: str = "") -> PolicyVersion:
    """Publish the draft: from now on every decision uses it.

    A draft that loosens the policy in force (`registry.policy_rules.loosenings`) is published
    only with a reason; the reason and the warnings it answers stay on the version."""
    require(actor, Action.MANAGE_POLICY)
    version = _lock_draft(version)
    warnings = [warning.as_dict() for warning in policy_loosenings(version)]
    reason = optional_text(reason, "reason", POLICY_TEXT_MAX_LENGTH)
    if warnings and not reason:
        raise ApplicationError(
            f"Publishing v{version.number} loosens the policy in {len(warnings)} "
            f"place{'' if len(warnings) == 1 else 's'}: say why (a reason) to publish it.",
            code="reason_required",
            field="reason",
            warnings=warnings,
        )
    version.status = PolicyStatus.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = actor
    version.publish_reason = reason
    version.publish_warnings = warnings
    with audit_actor(actor):
        version.save(
            update_fields=[
                "status",
                "published_at",
                "published_by",
                "publish_reason",
                "publish_warnings",
            ]
        )
    return version


@transaction.atomic
def policy_draft_discard(*, actor: User, version: PolicyVersion) -> None:
    require(actor, Action.MANAGE_POLICY)
    version = _lock_draft(version)
    with audit_actor(actor):
        version.rules.all().delete()
        version.delete()
