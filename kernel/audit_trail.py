"""Reads of the audit trail (django-auditlog entries). Nothing in the portal writes or edits
them except auditlog itself; the trail is readable by security and auditors only."""

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from auditlog.models import LogEntry
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters

from kernel.accounts import ACTOR_USERNAME
from kernel.filtering import filtered
from kernel.validation import sane_year_validator

ACTION_NAMES = {
    LogEntry.Action.CREATE: "create",
    LogEntry.Action.UPDATE: "update",
    LogEntry.Action.DELETE: "delete",
    LogEntry.Action.ACCESS: "access",
}
AUDITED_APPS = (
    "registry",
    "controls",
    "access",
    "exceptions",
    "decisions",
    "credentials",
    "compliance",
    "auth",
)


def object_types() -> QuerySet[ContentType]:
    """Object types that appear in the trail, for the filter (e.g. `registry.agent`)."""
    return ContentType.objects.filter(app_label__in=AUDITED_APPS).order_by("app_label", "model")


def _day_start(day: date, *, after: bool = False) -> datetime:
    """Midnight starting `day` (or the day after it), in the portal's time zone."""
    moment = datetime.combine(day + timedelta(days=1) if after else day, time.min)
    return timezone.make_aware(moment, timezone.get_default_timezone())


class _TrailFilterForm(forms.Form):
    def clean_object_type(self) -> str:
        value = self.cleaned_data.get("object_type") or ""
        if value and not value.partition(".")[2]:
            raise forms.ValidationError(
                f"object_type is app_label.model (e.g. registry.agent); got '{value}'."
            )
        return value

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("from") and data.get("to") and data["from"] > data["to"]:
            self.add_error("from", "'from' must not be after 'to'.")
        return data


def _day(name: str, **kwargs) -> filters.DateFilter:
    return filters.DateFilter(
        error_messages={"invalid": f"{name} must be a date like 2026-01-31."},
        validators=[sane_year_validator(name)],  # `to` 9999-12-31 plus a day overflows
        **kwargs,
    )


class AuditEventFilter(filters.FilterSet):
    """`object_type` is `app_label.model`; `from` and `to` are inclusive calendar days."""

    object_type = filters.CharFilter(method="filter_object_type")
    object_id = filters.CharFilter(field_name="object_pk")
    actor = filters.CharFilter(method="filter_actor")

    class Meta:
        model = LogEntry
        fields = ["object_type", "object_id", "actor"]
        form = _TrailFilterForm

    def filter_object_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        app_label, _, model = value.partition(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)

    def filter_actor(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # A deleted actor's username was kept in the entry (kernel.accounts).
        kept = {f"additional_data__{ACTOR_USERNAME}": value}
        return queryset.filter(Q(actor__username=value) | Q(actor__isnull=True, **kept))

    def filter_from(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(timestamp__gte=_day_start(value))

    def filter_to(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(timestamp__lt=_day_start(value, after=True))


# `from` is a Python keyword, so these two cannot be declared as class attributes.
AuditEventFilter.base_filters["from"] = _day("from", method="filter_from")
AuditEventFilter.base_filters["to"] = _day("to", method="filter_to")


def actor_name(entry: LogEntry) -> str | None:
    """Who acted: the user, or the username kept when that user was deleted."""
    if entry.actor is not None:
        return entry.actor.username
    data = entry.additional_data if isinstance(entry.additional_data, dict) else {}
    return data.get(ACTOR_USERNAME)


def audit_events(*, filters: Mapping[str, str] | None = None) -> QuerySet[LogEntry]:
    """The trail, newest first, narrowed by AuditEventFilter's query parameters (a bad value
    raises InvalidFilters)."""
    entries = LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-pk")
    return filtered(AuditEventFilter, entries, filters)
