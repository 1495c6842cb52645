from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, viewsets

from kernel.api.filters import SelectorFilters
from kernel.api.permissions import ActionPermission
from kernel.audit_trail import (
    ACTION_NAMES,
    AuditEventFilter,
    TrailRow,
    actor_name,
    audit_events,
    present,
)
from kernel.permissions import Action


class ChangeOut(serializers.Serializer):
    field = serializers.CharField(help_text="The field's name as the pages show it")
    before = serializers.CharField(help_text="Readable value before; empty when none")
    after = serializers.CharField()


class AuditEventOut(serializers.Serializer):
    """One entry: raw (`object_type`, `changes` as recorded) and readable (`*_display`,
    `object_url`: ids resolved to names, choices to labels, times without microseconds)."""

    id = serializers.IntegerField()
    timestamp = serializers.DateTimeField()
    actor = serializers.SerializerMethodField()
    action = serializers.SerializerMethodField()
    object_type = serializers.SerializerMethodField()
    object_id = serializers.CharField(source="object_pk")
    object_repr = serializers.CharField()
    changes = serializers.JSONField()
    remote_addr = serializers.IPAddressField(allow_null=True)
    actor_display = serializers.SerializerMethodField()
    action_display = serializers.SerializerMethodField()
    object_type_display = serializers.SerializerMethodField()
    object_url = serializers.SerializerMethodField()
    changes_display = serializers.SerializerMethodField()

    def _row(self, entry) -> TrailRow:
        return self.context["rows"][entry.pk]

    def get_actor_display(self, entry) -> str:
        return self._row(entry).actor

    def get_action_display(self, entry) -> str:
        return self._row(entry).verb

    def get_object_type_display(self, entry) -> str:
        return self._row(entry).object_type

    def get_object_url(self, entry) -> str | None:
        url = self._row(entry).object_url
        return self.context["request"].build_absolute_uri(url) if url else None

    @extend_schema_field(ChangeOut(many=True))
    def get_changes_display(self, entry) -> list[dict[str, str]]:
        return [vars(change) for change in self._row(entry).changes]

    def get_actor(self, entry) -> str | None:
        return actor_name(entry)

    def get_action(self, entry) -> str:
        return ACTION_NAMES.get(entry.action, str(entry.action))

    def get_object_type(self, entry) -> str:
        return f"{entry.content_type.app_label}.{entry.content_type.model}"


@extend_schema(
    parameters=[
        OpenApiParameter("object_type", str, description="app_label.model, e.g. registry.agent"),
        OpenApiParameter("object_id", str),
        OpenApiParameter("actor", str, description="username"),
        OpenApiParameter("action", str, enum=list(ACTION_NAMES.values())),
        OpenApiParameter("from", str, description="first day, YYYY-MM-DD"),
        OpenApiParameter("to", str, description="last day, YYYY-MM-DD"),
    ]
)
class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit trail: every change to domain objects, with actor and time. Read-only."""

    serializer_class = AuditEventOut
    permission_classes = [ActionPermission]
    action_permissions = {"read": Action.VIEW_AUDIT_TRAIL}
    filter_backends = [SelectorFilters]
    filterset_class = AuditEventFilter

    def get_queryset(self):
        return audit_events(filters=self.request.query_params)

    def get_serializer(self, *args: Any, **kwargs: Any) -> serializers.BaseSerializer:
        # The page's entries are presented together: one query per model, not per entry.
        if args:
            entries = list(args[0]) if kwargs.get("many") else [args[0]]
            context = kwargs.setdefault("context", self.get_serializer_context())
            context["rows"] = {row.entry.pk: row for row in present(entries)}
        return super().get_serializer(*args, **kwargs)
