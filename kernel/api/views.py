from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import api_view, permission_classes
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from kernel.api.authentication import token_expired
from kernel.api.inputs import InputSerializer
from kernel.api.parsers import JSONParser
from kernel.login import password_login_refusal
from kernel.throttle import (
    client_address,
    login_failed,
    login_retry_after,
    login_succeeded,
    throttled_message,
)


class TokenIn(InputSerializer, AuthTokenSerializer):
    """username and password, and nothing else."""


class TokenView(ObtainAuthToken):
    """POST username and password, get `{"token": ...}` for `Authorization: Token <token>`."""

    serializer_class = TokenIn
    parser_classes = (JSONParser, FormParser, MultiPartParser)  # ObtainAuthToken: DRF's own

    @extend_schema(
        request=inline_serializer(
            "TokenRequest",
            {"username": serializers.CharField(), "password": serializers.CharField()},
        ),
        responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        """The token, a fresh one if the last expired. Failed attempts are throttled per
        username and address (kernel.throttle) before the password is even checked."""
        username = str(request.data.get("username", "")) if hasattr(request.data, "get") else ""
        address = client_address(request)
        wait = login_retry_after(username=username, address=address)
        if wait is not None:
            raise exceptions.Throttled(wait=wait, detail=throttled_message(wait))
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            login_failed(username=username, address=address)
            raise exceptions.ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        refusal = password_login_refusal(user)
        if refusal:
            raise exceptions.PermissionDenied(refusal)
        login_succeeded(username=username)
        token, _ = Token.objects.get_or_create(user=user)
        if token_expired(token):
            token.delete()
            token = Token.objects.create(user=user)
        return Response({"token": token.key})


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([AllowAny])
def api_not_found(request: Request) -> Response:
    return Response(
        {"detail": f"No API endpoint at {request.path}. See /api/docs/.", "code": "not_found"},
        status=404,
    )
