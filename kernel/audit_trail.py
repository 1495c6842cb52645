"""Reads of the audit trail (django-auditlog entries). Nothing in the portal writes or edits
them except auditlog itself; the trail is readable by security and auditors only."""

from datetime import date, datetime, time, timedelta

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.utils import timezone

from kernel.errors import ApplicationError, Forbidden
from kernel.permissions import Action, AnyUser, can

ACTION_NAMES = {
    LogEntry.Action.CREATE: "create",
    LogEntry.Action.UPDATE: "update",
    LogEntry.Action.DELETE: "delete",
    LogEntry.Action.ACCESS: "access",
}
AUDITED_APPS = ("registry", "exceptions", "compliance", "auth")


def require_audit_reader(user: AnyUser) -> None:
    if not can(user, Action.VIEW_AUDIT_TRAIL):
        raise Forbidden("Only security and auditors read the audit trail.")


def object_types() -> QuerySet[ContentType]:
    """Object types that appear in the trail, for the filter (e.g. `registry.agent`)."""
    return ContentType.objects.filter(app_label__in=AUDITED_APPS).order_by("app_label", "model")


def _day_bound(value: date | str | None, *, end: bool, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise ApplicationError(f"{name} must be a date like 2026-01-31.", field=name) from None
    moment = datetime.combine(value + timedelta(days=1) if end else value, time.min)
    return timezone.make_aware(moment, timezone.get_default_timezone())


def audit_events(
    *,
    object_type: str | None = None,
    actor: str | None = None,
    date_from: date | str | None = None,
    date_to: date | str | None = None,
    object_id: str | None = None,
) -> QuerySet[LogEntry]:
    """Newest first. `object_type` is `app_label.model`; dates are inclusive calendar days."""
    entries = LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-pk")
    if object_type:
        app_label, _, model = object_type.partition(".")
        if not model:
            raise ApplicationError(
                f"object_type is app_label.model (e.g. registry.agent); got '{object_type}'.",
                field="object_type",
            )
        entries = entries.filter(content_type__app_label=app_label, content_type__model=model)
    if actor:
        entries = entries.filter(actor__username=actor)
    if object_id:
        entries = entries.filter(object_pk=object_id)
    start = _day_bound(date_from, end=False, name="from")
    stop = _day_bound(date_to, end=True, name="to")
    if start and stop and start >= stop:
        raise ApplicationError("'from' must not be after 'to'.", field="from")
    if start:
        entries = entries.filter(timestamp__gte=start)
    if stop:
        entries = entries.filter(timestamp__lt=stop)
    return entries
