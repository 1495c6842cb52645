"""The token fast path: the calls a gateway makes all the time (a decision on every agent
action, an agent's effective access when it lists its tools) answered without DRF's request
machinery, which costs more than the answer (measured: bench/decisions.py, bench/scale_http.py).

Only a `Token` caller takes it; anyone else (a session, a browser, another method) goes through
the DRF view, which checks the same rules with the same refusals. Errors read as the DRF
view's would: 401 for a bad token, an ApplicationError's own status and body.
"""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import AuthenticationFailed

from kernel.api.authentication import TokenWithRolesAuthentication
from kernel.errors import ApplicationError, Forbidden
from kernel.permissions import Action, can, refusal


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an `Authorization: Token <key>` header, else None."""
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    return authorization.split(" ", 1)[1].strip() if authorization.startswith("Token ") else None


def token_caller(token: str, action: Action) -> User:
    """Who holds this token (AuthenticationFailed if nobody, or not any more), refused with the
    action's own text (Forbidden) unless one of their roles allows `action`."""
    user, _ = TokenWithRolesAuthentication().authenticate_credentials(token)
    if not can(user, action):
        raise Forbidden(refusal(action))
    return user


def answered(answer: Callable[[], HttpResponse]) -> HttpResponse:
    """`answer()`, with a refusal on the way turned into the JSON the DRF view would send."""
    try:
        return answer()
    except AuthenticationFailed as exc:
        return JsonResponse(
            {"detail": str(exc.detail), "code": "authentication_failed"},
            status=401,
            headers={"WWW-Authenticate": "Token"},
        )
    except ApplicationError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status_code)


Fast = Callable[..., HttpResponse]


def with_fast_path(drf_view: Any, method: str, fast: Fast) -> Callable[..., HttpResponse]:
    """`drf_view` (an `as_view()`), except that a Token caller of `method` is answered by
    `fast(request, token, **url_kwargs)`. It keeps the DRF view's `cls`, `initkwargs` and
    `actions`, so the OpenAPI schema documents the endpoint as the DRF view says."""

    @csrf_exempt
    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = bearer_token(request)
        if request.method != method or token is None:
            return drf_view(request, *args, **kwargs)
        return answered(lambda: fast(request, token, *args, **kwargs))

    for name in ("cls", "initkwargs", "actions"):
        if hasattr(drf_view, name):
            setattr(view, name, getattr(drf_view, name))
    return view
