"""The steps every "edit a record" service shares: refuse fields not editable, save safely."""

from collections.abc import Collection, Mapping
from typing import Any

from django.db import IntegrityError, models, transaction

from kernel.errors import ApplicationError


def apply_changes(
    instance: models.Model, changes: Mapping[str, Any], editable: Collection[str]
) -> None:
    """Set `changes` on `instance`; a field not `editable` here refuses them all."""
    unknown = set(changes) - set(editable)
    if unknown:
        raise ApplicationError(
            f"These fields cannot be changed here: {', '.join(sorted(unknown))}.", code="read_only"
        )
    for field, value in changes.items():
        setattr(instance, field, value)


def save_unique(instance: models.Model, duplicate: str = "", **kwargs: Any) -> None:
    """Save in a savepoint: losing a race with a concurrent write of the same unique key
    becomes a "duplicate" refusal (`duplicate`, or "This <model> already exists.")."""
    try:
        with transaction.atomic():
            instance.save(**kwargs)
    except IntegrityError as exc:
        raise ApplicationError(
            duplicate or f"This {instance._meta.verbose_name} already exists.", code="duplicate"
        ) from exc
