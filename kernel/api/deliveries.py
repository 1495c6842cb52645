"""GET /api/v1/deliveries/: what the portal has not delivered (security), and the retries."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from kernel import outbox
from kernel.api.viewsets import ScopedViewSet, UserScope, step_action
from kernel.models import OutboxMessage
from kernel.permissions import Action


class DeliveryOut(serializers.ModelSerializer):
    """A delivery and how it stands; its payload (message bodies, addresses) is not shown."""

    event = serializers.CharField(
        source="payload.event", default=None, help_text="The notice's event, for notices"
    )

    class Meta:
        model = OutboxMessage
        fields = [
            "id",
            "handler",
            "event",
            "status",
            "attempts",
            "next_attempt_at",
            "last_error",
            "created_at",
        ]


class DeliveryViewSet(ScopedViewSet):
    """Notices and builds the portal has not delivered, those it gave up on (failed) first.
    `retry` sends a failed one round again; `retry-failed` every failed one (security only)."""

    serializer_class = DeliveryOut
    action_permissions = {"read": Action.MANAGE_DELIVERIES, "write": Action.MANAGE_DELIVERIES}
    queryset = OutboxMessage.objects.none()
    subject = "message"
    scope = UserScope(
        listed=outbox.deliveries_for, visible=outbox.deliveries_for, get=outbox.delivery_get
    )

    retry = step_action("retry", outbox.retry, None)

    @extend_schema(
        request=None,
        responses=inline_serializer("RetriedOut", {"retried": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"], url_path="retry-failed")
    def retry_failed(self, request):
        return Response({"retried": outbox.retry_failed(actor=request.user)})
