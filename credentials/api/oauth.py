"""The OAuth side: token endpoint (RFC 8693 exchange), introspection (RFC 7662), the
authorization server metadata (RFC 8414) and the portal's JWKS.

Plain Django views: these speak OAuth's wire format (form-encoded requests, RFC 6749 §5.2
error bodies), not the portal's JSON API. Never a 500: a database that is down is a 503
`temporarily_unavailable`, like an unreachable JWKS.
"""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from rest_framework.exceptions import AuthenticationFailed

from credentials import keys
from credentials.services.exchange import (
    GRANT_TYPE,
    JWT_TOKEN_TYPE,
    ExchangeError,
    exchange,
)
from credentials.services.introspection import introspect
from kernel.api.authentication import TokenWithRolesAuthentication
from kernel.permissions import Action, can, refusal

logger = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
EXCHANGE_PARAMETERS = frozenset(
    {
        "grant_type",
        "subject_token",
        "subject_token_type",
        "scope",
        "resource",
        "requested_token_type",
        "client_id",
    }
)
ACCESS_TOKEN_TYPE_URN = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 (a name)
DATABASE_DOWN = "The portal's database is unavailable; nothing was issued. Try again shortly."


def _oauth_json(body: dict, status: int = 200, **headers: str) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _error(error: ExchangeError) -> JsonResponse:
    extra = {"Retry_After": "5"} if error.status == 503 else {}
    return _oauth_json(error.as_dict(), status=error.status, **extra)


def refused_request(message: str, status: int) -> HttpResponse:
    """A request kernel.middleware refuses before the view (a NUL, a body too big), in
    these endpoints' RFC 6749 shape."""
    return _error(ExchangeError("invalid_request", message, status=status))


def _form(request: HttpRequest) -> dict[str, list[str]]:
    if request.method != "POST":
        raise ExchangeError("invalid_request", "Use POST.", status=405)
    if request.content_type != FORM:
        raise ExchangeError("invalid_request", f"Send the request form-encoded ({FORM}).")
    return {name: request.POST.getlist(name) for name in request.POST}


def _single(form: dict[str, list[str]], name: str, required: bool = True) -> str:
    values = form.get(name, [])
    if len(values) > 1:
        raise ExchangeError("invalid_request", f"'{name}' is given more than once.")
    if required and (not values or not values[0]):
        raise ExchangeError("invalid_request", f"'{name}' is required.")
    return values[0] if values else ""


def _exchange_request(request: HttpRequest) -> dict[str, object]:
    if request.META.get("HTTP_AUTHORIZATION"):
        # The subject token is the credential; this endpoint knows no client secrets.
        raise ExchangeError(
            "invalid_client",
            "This token endpoint authenticates no clients: send no Authorization header; "
            "the subject token proves who you are.",
            status=401,
        )
    form = _form(request)
    unknown = sorted(set(form) - EXCHANGE_PARAMETERS)
    if unknown:
        raise ExchangeError("invalid_request", f"Unknown parameter '{unknown[0][:40]}'.")
    if _single(form, "grant_type") != GRANT_TYPE:
        raise ExchangeError("unsupported_grant_type", f"grant_type must be {GRANT_TYPE}.")
    if _single(form, "subject_token_type") != JWT_TOKEN_TYPE:
        raise ExchangeError("invalid_request", f"subject_token_type must be {JWT_TOKEN_TYPE}.")
    requested = _single(form, "requested_token_type", required=False)
    if requested not in ("", JWT_TOKEN_TYPE, ACCESS_TOKEN_TYPE_URN):
        raise ExchangeError("invalid_request", f"requested_token_type must be {JWT_TOKEN_TYPE}.")
    return {
        "subject_token": _single(form, "subject_token"),
        "scope": _single(form, "scope", required=False),
        "resource": form.get("resource", []),
    }


@csrf_exempt
def token_endpoint(request: HttpRequest) -> HttpResponse:
    """POST, form-encoded: grant_type=…token-exchange, subject_token, subject_token_type,
    scope (capabilities), resource (optional). An access token, or an RFC 6749 error."""
    try:
        issued = exchange(**_exchange_request(request))  # type: ignore[arg-type]
    except ExchangeError as error:
        if error.status == 401:
            return _oauth_json(error.as_dict(), status=401, WWW_Authenticate="Bearer")
        return _error(error)
    except (OperationalError, InterfaceError):
        logger.exception("Database unavailable during a token exchange")
        return _error(ExchangeError("temporarily_unavailable", DATABASE_DOWN, status=503))
    return _oauth_json(issued.as_response())


def _introspecting_user(request: HttpRequest):
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, key = header.partition(" ")
    if scheme not in ("Token", "Bearer") or not key.strip():
        raise ExchangeError(
            "invalid_client", "Authenticate with the gateway's API token.", status=401
        )
    try:
        user, _ = TokenWithRolesAuthentication().authenticate_credentials(key.strip())
    except AuthenticationFailed as exc:
        raise ExchangeError("invalid_client", str(exc.detail), status=401) from None
    if not can(user, Action.INTROSPECT_TOKENS):
        raise ExchangeError("access_denied", refusal(Action.INTROSPECT_TOKENS), status=403)
    return user


@csrf_exempt
def introspection_endpoint(request: HttpRequest) -> HttpResponse:
    """POST, form-encoded `token` (RFC 7662), as a gateway: `active` and, if so, its claims."""
    try:
        _introspecting_user(request)
        form = _form(request)
        token = _single(form, "token")
        return _oauth_json(introspect(token))
    except ExchangeError as error:
        if error.status == 401:
            return _oauth_json(
                error.as_dict(), status=401, WWW_Authenticate='Bearer realm="portal"'
            )
        return _error(error)
    except (OperationalError, InterfaceError):
        logger.exception("Database unavailable during introspection")
        return _error(ExchangeError("temporarily_unavailable", DATABASE_DOWN, status=503))


def _absolute(name: str) -> str:
    return settings.PORTAL_ISSUER + reverse(name)


@require_GET
def metadata(request: HttpRequest) -> HttpResponse:
    """RFC 8414 authorization server metadata."""
    return JsonResponse(
        {
            "issuer": settings.PORTAL_ISSUER,
            "token_endpoint": _absolute("oauth-token"),
            "jwks_uri": _absolute("oauth-jwks"),
            "introspection_endpoint": _absolute("oauth-introspect"),
            "grant_types_supported": [GRANT_TYPE],
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": ["none"],
            "introspection_endpoint_auth_methods_supported": ["bearer"],
            "scopes_supported": [],
        }
    )


@require_GET
def jwks(request: HttpRequest) -> HttpResponse:
    """The portal's public signing keys: the active one and those still inside their tokens'
    lifetime. Never a private part."""
    keys.active_key()  # a fresh installation publishes its first key before the first exchange
    response = JsonResponse(keys.jwks())
    response["Cache-Control"] = "public, max-age=60"
    return response
