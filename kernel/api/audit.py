from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets

from kernel.api.filters import SelectorFilters
from kernel.api.permissions import ActionPermission
from kernel.audit_trail import ACTION_NAMES, AuditEventFilter, actor_name, audit_events
from kernel.permissions import Action


class AuditEventOut(serializers.Serializer):
    id = serializers.IntegerField()
    timestamp = serializers.DateTimeField()
    actor = serializers.SerializerMethodField()
    action = serializers.SerializerMethodField()
    object_type = serializers.SerializerMethodField()
    object_id = serializers.CharField(source="object_pk")
    object_repr = serializers.CharField()
    changes = serializers.JSONField()
    remote_addr = serializers.IPAddressField(allow_null=True)

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
