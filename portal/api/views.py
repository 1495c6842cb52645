"""The API's entry point, which points at the shell's own addresses (token, schema, docs)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from kernel.permissions import allowed_actions, roles_of


@extend_schema(responses=inline_serializer("ApiRoot", {"me": serializers.DictField()}))
@api_view(["GET"])
@permission_classes([AllowAny])
def api_root(request: Request) -> Response:
    """The API's entry point: who you are and where to go next."""
    me = None
    if request.user.is_authenticated:
        me = {
            "username": request.user.get_username(),
            "roles": sorted(roles_of(request.user)),
            "actions": sorted(allowed_actions(request.user)),
        }
    return Response(
        {
            "me": me,
            "auth_token": reverse("api-token", request=request),
            "schema": reverse("api-schema", request=request),
            "docs": reverse("api-docs", request=request),
        }
    )
