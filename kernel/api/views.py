from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from kernel.permissions import allowed_actions, roles_of


class TokenView(ObtainAuthToken):
    """POST username and password, get `{"token": ...}` for `Authorization: Token <token>`."""

    @extend_schema(
        request=inline_serializer(
            "TokenRequest",
            {"username": serializers.CharField(), "password": serializers.CharField()},
        ),
        responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        return super().post(request, *args, **kwargs)


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


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([AllowAny])
def api_not_found(request: Request) -> Response:
    return Response(
        {"detail": f"No API endpoint at {request.path}. See /api/docs/.", "code": "not_found"},
        status=404,
    )
