"""Writes of compliance data: controls, mappings, evidence files, applicability statements.
Security only."""

import datetime
import hashlib
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone

from controls.models import (
    STRENGTH_MAX,
    STRENGTH_MIN,
    Control,
    EvidenceFile,
    Framework,
    FrameworkItem,
    ItemApplicability,
    Mapping,
    Relationship,
)
from kernel.audit import audit_actor
from kernel.editing import apply_changes, save_unique
from kernel.errors import ApplicationError
from kernel.permissions import Action, can, require
from kernel.validation import TEXT_MAX_LENGTH, has_visible_text, optional_text, year_refusal
from registry.models import Team

CONTROL_FIELDS = frozenset({"title", "description", "owner_team", "owner", "active"})
MAPPING_FIELDS = frozenset({"relationship", "strength", "rationale"})
MAX_EVIDENCE_BYTES = 50 * 1024 * 1024
MAX_RATIONALE_CHARS = 1000
MAX_DESCRIPTION_CHARS = TEXT_MAX_LENGTH  # a control's description
MAX_EVIDENCE_DESCRIPTION_CHARS = 1000  # what an evidence file holds, shown beside it
# How an evidence file's date is named in refusals (the form's and the service's alike).
EFFECTIVE_ON = "The effective date"


def _save(actor: User, instance: models.Model) -> None:
    """full_clean then save as `actor` (the audit trail names them); model validation errors
    become one readable ApplicationError."""
    try:
        instance.full_clean(validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        label = "" if field == "__all__" else f"{field}: "
        raise ApplicationError(
            f"{label}{' '.join(messages)}", field=None if field == "__all__" else field
        ) from None
    with audit_actor(actor):
        save_unique(instance)


M = TypeVar("M", Control, Mapping)


def _edited(actor: User, instance: M, changes: dict[str, Any], editable: frozenset[str]) -> M:
    """The row re-read under lock for security to edit, with `changes` (`editable` only) set."""
    require(actor, Action.MANAGE_CONTROLS)
    instance = type(instance).objects.select_for_update().get(pk=instance.pk)
    apply_changes(instance, changes, editable)
    return instance


def _check_mapping_values(relationship: str, strength: int, rationale: str) -> None:
    # Said here, before the model, so the API and forms give the same words.
    if relationship not in Relationship.values:
        raise ApplicationError(
            f"Unknown relationship '{relationship}': use one of {', '.join(Relationship.values)}.",
            field="relationship",
        )
    if not STRENGTH_MIN <= strength <= STRENGTH_MAX:
        raise ApplicationError(
            f"strength must be between {STRENGTH_MIN} and {STRENGTH_MAX}; got {strength}.",
            field="strength",
        )
    if not rationale or not has_visible_text(rationale):
        raise ApplicationError(
            "Give a one-line rationale: why does this control address this item?",
            field="rationale",
        )


def _check_owner(owner: User | None) -> None:
    """A control's owner answers for it to auditors: a security member, still here."""
    if owner is not None and not (owner.is_active and can(owner, Action.MANAGE_CONTROLS)):
        raise ApplicationError(
            f"{owner.username} is not in security: a control's owner must be a security "
            "member (or name the owner team instead).",
            code="owner_not_security",
            field="owner",
        )


@transaction.atomic
def control_create(
    *,
    actor: User,
    ref_id: str,
    title: str,
    description: str = "",
    owner_team: Team | None = None,
    owner: User | None = None,
    active: bool = True,
) -> Control:
    require(actor, Action.MANAGE_CONTROLS)
    _check_owner(owner)
    description = optional_text(description, "description", MAX_DESCRIPTION_CHARS)
    if Control.objects.filter(ref_id=ref_id).exists():
        raise ApplicationError(
            f"Control {ref_id} already exists.", code="duplicate", field="ref_id"
        )
    control = Control(
        ref_id=ref_id,
        title=title,
        description=description,
        owner_team=owner_team,
        owner=owner,
        active=active,
    )
    _save(actor, control)
    return control


@transaction.atomic
def control_update(*, actor: User, control: Control, **changes: Any) -> Control:
    """Edit a control's title, description, owner (a security member), owner team or active
    flag (ref_id never changes)."""
    if "description" in changes:
        changes["description"] = optional_text(
            changes["description"], "description", MAX_DESCRIPTION_CHARS
        )
    control = _edited(actor, control, changes, CONTROL_FIELDS)
    if "owner" in changes:
        _check_owner(control.owner)
    _save(actor, control)
    return control


@transaction.atomic
def mapping_create(
    *,
    actor: User,
    control: Control,
    item: FrameworkItem,
    relationship: str,
    strength: int,
    rationale: str,
) -> Mapping:
    require(actor, Action.MANAGE_CONTROLS)
    _check_mapping_values(relationship, strength, rationale)
    if Mapping.objects.filter(control=control, item=item).exists():
        raise ApplicationError(
            f"{control.ref_id} is already mapped to {item.framework.key} '{item.ref_id}': "
            "edit that mapping instead.",
            code="duplicate",
        )
    mapping = Mapping(
        control=control,
        item=item,
        relationship=relationship,
        strength=strength,
        rationale=rationale.strip(),
    )
    _save(actor, mapping)
    return mapping


@transaction.atomic
def mapping_update(*, actor: User, mapping: Mapping, **changes: Any) -> Mapping:
    mapping = _edited(actor, mapping, changes, MAPPING_FIELDS)
    _check_mapping_values(mapping.relationship, mapping.strength, mapping.rationale)
    mapping.rationale = mapping.rationale.strip()
    _save(actor, mapping)
    return mapping


@transaction.atomic
def mapping_delete(*, actor: User, mapping: Mapping) -> None:
    require(actor, Action.MANAGE_CONTROLS)
    with audit_actor(actor):
        mapping.delete()


def _sha256_and_size(upload: UploadedFile) -> tuple[str, int]:
    """Hash the upload chunk by chunk: a large file is never held in memory whole."""
    digest = hashlib.sha256()
    size = 0
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
        size += len(chunk)
    upload.seek(0)
    return digest.hexdigest(), size


@transaction.atomic
def evidence_upload(
    *,
    actor: User,
    control: Control,
    file: UploadedFile,
    effective_on: datetime.date,
    description: str = "",
) -> EvidenceFile:
    """Store an evidence file for a control, with the SHA-256 and size of what was received.

    The file is written to storage before the row commits; if the row cannot be saved, the
    stored file is removed again so storage holds no evidence the database does not know.
    """
    require(actor, Action.MANAGE_CONTROLS)
    description = optional_text(description, "description", MAX_EVIDENCE_DESCRIPTION_CHARS)
    if refusal := year_refusal(effective_on, EFFECTIVE_ON):
        raise ApplicationError(refusal, field="effective_on")
    if effective_on > timezone.localdate():
        raise ApplicationError(
            "Evidence cannot be effective in the future: give the date it speaks for.",
            field="effective_on",
        )
    if file.size is not None and file.size > MAX_EVIDENCE_BYTES:
        raise ApplicationError(
            f"Evidence files are limited to {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB.",
            field="file",
        )
    sha256, size = _sha256_and_size(file)
    if size == 0:
        raise ApplicationError("The evidence file is empty.", field="file")
    original_name = (file.name or "evidence").rsplit("/", 1)[-1][:255]
    evidence = EvidenceFile(
        control=control,
        uploaded_by=actor,
        effective_on=effective_on,
        description=description,
        sha256=sha256,
        size=size,
        original_name=original_name,
    )
    evidence.file.save(original_name, file, save=False)
    try:
        _save(actor, evidence)
    except Exception:
        evidence.file.delete(save=False)
        raise
    return evidence


def _applicability_unchanged(
    item: FrameworkItem, current: ItemApplicability | None, *, applicable: bool, rationale: str
) -> str | None:
    """Why this change would change nothing (None when it changes something)."""
    if current is None or current.applicable:
        return f"{item.ref_id} is already applicable: nothing to change." if applicable else None
    if not applicable and current.rationale == rationale:
        return f"{item.ref_id} is already not applicable for that reason: nothing to change."
    return None


@transaction.atomic
def applicability_set(
    *, actor: User, item: FrameworkItem, applicable: bool, rationale: str
) -> ItemApplicability:
    """Mark a framework item not applicable (or applicable again, or give a new reason): a new
    version of the framework's applicability statement, audited as `actor`.

    The framework row is locked while the next version number is taken, so two changes at
    once get two versions; the item's previous version stops being current in the same
    transaction (one current version per item, a constraint says so too).
    """
    require(actor, Action.MANAGE_CONTROLS)
    rationale = (rationale or "").strip()
    if not has_visible_text(rationale):
        scope = "back in" if applicable else "out of"
        raise ApplicationError(
            f"Give a rationale: why is {item.ref_id} {scope} the portal's scope?",
            field="rationale",
        )
    if len(rationale) > MAX_RATIONALE_CHARS:
        raise ApplicationError(
            f"Keep the rationale to at most {MAX_RATIONALE_CHARS} characters.", field="rationale"
        )
    framework = Framework.objects.select_for_update().get(pk=item.framework_id)
    versions = ItemApplicability.objects.filter(framework=framework)
    current = versions.filter(item=item, current=True).first()
    unchanged = _applicability_unchanged(item, current, applicable=applicable, rationale=rationale)
    if unchanged:
        raise ApplicationError(unchanged, code="unchanged")
    if current is not None:
        # Only the `current` marker moves (not audited: the new version is the change).
        versions.filter(pk=current.pk).update(current=False)
    latest = versions.aggregate(latest=Max("version"))["latest"] or 0
    statement = ItemApplicability(
        framework=framework,
        item=item,
        version=latest + 1,
        applicable=applicable,
        rationale=rationale,
        decided_by=actor,
        current=True,
    )
    _save(actor, statement)
    return statement
