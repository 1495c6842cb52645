"""Reads of the audit trail (django-auditlog entries). Nothing in the portal writes or edits
them except auditlog itself; the trail is readable by security and auditors only."""

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch
from django.utils import timezone
from django.utils.text import capfirst
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
# The query parameters the trail's page and API filter on.
TRAIL_FILTERS = ("object_type", "actor", "action", "from", "to")
# What the trail says someone did, in the past tense ("sam changed agent payments-fixer").
ACTION_VERBS = {
    LogEntry.Action.CREATE: "created",
    LogEntry.Action.UPDATE: "changed",
    LogEntry.Action.DELETE: "deleted",
    LogEntry.Action.ACCESS: "viewed",
}


def object_types() -> list[tuple[str, str]]:
    """(`app_label.model`, human name) of every audited model, by name, for the filter."""
    types = ContentType.objects.get_for_models(*auditlog.get_models())
    return sorted(
        ((f"{ct.app_label}.{ct.model}", type_label(model)) for model, ct in types.items()),
        key=lambda pair: pair[1].lower(),
    )


def type_label(model: type[models.Model] | None, fallback: str = "") -> str:
    """`Access request` for access.AccessRequest: the model's verbose name."""
    return capfirst(str(model._meta.verbose_name)) if model is not None else fallback


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
    action = filters.ChoiceFilter(
        choices=[(name, ACTION_VERBS[value]) for value, name in ACTION_NAMES.items()],
        method="filter_action",
        error_messages={"invalid_choice": "action is one of create, update, delete, access."},
    )

    class Meta:
        model = LogEntry
        fields = ["object_type", "object_id", "actor", "action"]
        form = _TrailFilterForm

    def filter_object_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        app_label, _, model = value.partition(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)

    def filter_actor(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # A deleted actor's username was kept in the entry (kernel.accounts).
        kept = {f"additional_data__{ACTOR_USERNAME}": value}
        return queryset.filter(Q(actor__username=value) | Q(actor__isnull=True, **kept))

    def filter_action(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        codes = {name: code for code, name in ACTION_NAMES.items()}
        return queryset.filter(action=codes[value])

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


# --- Presentation: "who did what to which object, when", readable -------------------------
# A page of entries is presented at once: the objects they name and the ids their changes
# hold are read with one query per model for the whole page, never one per row.

TEXT_LIMIT = 200  # characters of a changed value shown; the API keeps the raw values


@dataclass(frozen=True)
class Change:
    field: str  # the field's verbose name ("Owner team")
    before: str  # "" when there was nothing
    after: str


@dataclass(frozen=True)
class TrailRow:
    entry: LogEntry
    actor: str  # "Sam Security (sam)", a deleted user's kept username, or "system"
    verb: str  # "created", "changed", "deleted", "viewed"
    object_type: str  # "Agent"
    object_label: str
    object_url: str | None  # the object's page, or its parent's (a grant → its agent)
    changes: tuple[Change, ...]

    @property
    def created(self) -> bool:
        return self.entry.action == LogEntry.Action.CREATE

    def change_lines(self) -> list[str]:
        """`Owner: alice → bob` per change (`Owner: alice` for a created object's values)."""
        if self.created:
            return [f"{change.field}: {change.after}" for change in self.changes]
        return [f"{c.field}: {c.before or '—'} → {c.after or '—'}" for c in self.changes]


def present(entries: Sequence[LogEntry]) -> list[TrailRow]:
    """Readable rows for `entries` (loaded with `audit_events`, so actor and type are joined)."""
    objects = _Objects()
    for entry in entries:
        model = entry.content_type.model_class()
        if model is None:
            continue
        objects.want(model, entry.object_pk)
        for _name, field, value in _field_changes(model, entry):
            if _is_fk(field) and isinstance(value, list):
                objects.want(field.related_model, *value)
    objects.load()
    return [_row(entry, objects) for entry in entries]


def trail_csv_rows(entries: QuerySet[LogEntry], *, absolute: Any) -> Iterator[list[str]]:
    """The header and one row per entry, presented 500 at a time; `absolute(path)` makes a
    link absolute (`request.build_absolute_uri`)."""
    yield ["when_utc", "actor", "action", "object_type", "object_id", "object", "link", "changes"]
    chunk: list[LogEntry] = []
    for entry in entries.iterator(chunk_size=500):
        chunk.append(entry)
        if len(chunk) == 500:
            yield from _csv_rows(chunk, absolute)
            chunk = []
    yield from _csv_rows(chunk, absolute)


def _csv_rows(chunk: list[LogEntry], absolute: Any) -> Iterator[list[str]]:
    for row in present(chunk):
        yield [
            row.entry.timestamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            row.actor,
            row.verb,
            row.object_type,
            row.entry.object_pk,
            row.object_label,
            absolute(row.object_url) if row.object_url else "",
            "\n".join(row.change_lines()),
        ]


class _Objects:
    """The rows a page of entries names, loaded with one query per model."""

    def __init__(self) -> None:
        self.wanted: dict[type[models.Model], set[Any]] = {}
        self.found: dict[type[models.Model], dict[Any, models.Model]] = {}

    def want(self, model: type[models.Model], *pks: Any) -> None:
        for pk in pks:
            value = _pk(model, pk)
            if value is not None:
                self.wanted.setdefault(model, set()).add(value)

    def load(self) -> None:
        for model, pks in self.wanted.items():
            # The forward links a page's link may follow (a binding's agent), in the same query.
            related = [field.name for field in _linked_fields(model)]
            rows = model._base_manager.select_related(*related).in_bulk(pks)
            self.found[model] = rows

    def get(self, model: type[models.Model], pk: Any) -> models.Model | None:
        value = _pk(model, pk)
        return None if value is None else self.found.get(model, {}).get(value)


def _pk(model: type[models.Model], value: Any) -> Any:
    if value in (None, "", "None"):
        return None
    try:
        return model._meta.pk.to_python(value)
    except ValidationError:  # a value the key's type refuses names no row
        return None


def _linked_fields(model: type[models.Model]) -> list[models.Field]:
    """Forward foreign keys to models that have a page (`get_absolute_url`)."""
    return [
        field
        for field in model._meta.concrete_fields
        if _is_fk(field) and hasattr(field.related_model, "get_absolute_url")
    ]


def _url_of(obj: models.Model | None) -> str | None:
    """The object's page; else the page of the first object it belongs to that has one."""
    if obj is None:
        return None
    try:
        if hasattr(obj, "get_absolute_url"):
            return obj.get_absolute_url()
        for field in _linked_fields(type(obj)):
            parent = getattr(obj, field.name)
            if parent is not None:
                return parent.get_absolute_url()
    except NoReverseMatch:
        return None
    return None


def _field_changes(model: type[models.Model], entry: LogEntry) -> Iterator[tuple[str, Any, Any]]:
    """(name, the model's field or None when it has none by that name, recorded value) per
    changed field: [before, after], or a dict for a many-to-many change."""
    changes = entry.changes if isinstance(entry.changes, dict) else {}
    for name, value in changes.items():
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:  # a field removed since the entry was written
            field = None
        if field is not None and not (field.concrete or field.many_to_many):
            field = None  # a reverse relation's name, not a field of this model
        if (isinstance(value, list) and len(value) == 2) or isinstance(value, dict):
            yield name, field, value


def _row(entry: LogEntry, objects: _Objects) -> TrailRow:
    model = entry.content_type.model_class()
    changes: list[Change] = []
    if model is not None:
        for name, field, value in _field_changes(model, entry):
            change = _change(name, field, value, objects)
            if change is not None and not _noise(entry, field, change):
                changes.append(change)
    fallback = f"{entry.content_type.app_label}.{entry.content_type.model}"
    return TrailRow(
        entry=entry,
        actor=_actor(entry),
        verb=ACTION_VERBS.get(entry.action, str(entry.action)),
        object_type=type_label(model, fallback),
        object_label=entry.object_repr,
        object_url=None if model is None else _url_of(objects.get(model, entry.object_pk)),
        changes=tuple(changes),
    )


def _noise(entry: LogEntry, field: models.Field | None, change: Change) -> bool:
    """A created object's id and empty fields say nothing a reader needs."""
    if entry.action != LogEntry.Action.CREATE:
        return False
    return not change.after or (field is not None and field.primary_key)


def _actor(entry: LogEntry) -> str:
    user = entry.actor
    if user is not None:
        full = user.get_full_name()
        return f"{full} ({user.get_username()})" if full else user.get_username()
    return actor_name(entry) or "system"


def _change(name: str, field: Any, value: Any, objects: _Objects) -> Change | None:
    label = capfirst(str(getattr(field, "verbose_name", None) or name.replace("_", " ")))
    if isinstance(value, dict):  # many-to-many: {"type": "m2m", "operation", "objects"}
        names = ", ".join(str(item) for item in value.get("objects", []))
        verb = {"add": "added", "delete": "removed"}.get(str(value.get("operation")), "set to")
        return Change(label, "", f"{verb} {names}".strip())
    if field is None:
        return None  # a field the model no longer has: nothing readable to say about it
    before, after = (_shown(field, item, objects) for item in value)
    return None if before == after else Change(label, before, after)


def _shown(field: Any, value: Any, objects: _Objects) -> str:
    if value in (None, "None", ""):
        return ""
    text = str(value)
    if _is_fk(field):
        found = objects.get(field.related_model, text)
        if found is not None:
            return str(found)
        return f"deleted {field.related_model._meta.verbose_name} #{text}"
    if field.choices:
        return str(dict(field.flatchoices).get(text, text))
    if isinstance(field, models.BooleanField):
        return {"True": "yes", "False": "no"}.get(text, text)
    if isinstance(field, models.DateTimeField):
        return _moment(text)
    if isinstance(field, models.JSONField):
        text = _listed(text)
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def _listed(text: str) -> str:
    """A recorded JSON list (`["acme/api", "acme/ledger"]`) as `acme/api, acme/ledger`; a list
    of messages (a policy version's publish warnings, `[{"message": …, …}]`) as its messages."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if not isinstance(value, list):
        return text
    if value and all(isinstance(item, dict) and "message" in item for item in value):
        return "; ".join(str(item["message"]) for item in value)
    return ", ".join(map(str, value))


def _moment(text: str) -> str:
    """`2026-11-27 07:09:38.305634` (or ISO with an offset) as `2026-11-27 07:09 UTC`."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _is_fk(field: Any) -> bool:
    return field is not None and bool(field.many_to_one or field.one_to_one)
