"""HTTP helpers shared by the HTML views."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from kernel.permissions import Action, require

ViewFunc = Callable[..., HttpResponseBase]


class AuthenticatedHttpRequest(HttpRequest):
    """The request a view behind `requires` or `login_required` receives (for type checking):
    its user is signed in, never AnonymousUser."""

    user: User


def redirect_back(request: HttpRequest, fallback) -> HttpResponse:
    """Back to the page the form came from (`next`), when it is on this site; else `fallback`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def requires(
    *actions: Action, write: Action | tuple[Action, ...] = ()
) -> Callable[[ViewFunc], ViewFunc]:
    """The HTML views' one role gate: sign-in first, then a 403 with the action's refusal text
    (before any object is looked up) unless the user may take one of `actions`.

    `write`, when given, replaces `actions` for unsafe methods (a page that everyone reads and
    only some post to), like the API's `"read"`/`"write"` entries.
    """
    written = write if isinstance(write, tuple) else (write,)

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            unsafe = request.method not in SAFE_METHODS
            require(request.user, *(written if written and unsafe else actions))
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator
