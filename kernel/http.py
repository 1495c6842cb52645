"""HTTP helpers shared by the HTML views."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from kernel.permissions import Action, require

ViewFunc = Callable[..., HttpResponse]


def redirect_back(request: HttpRequest, fallback) -> HttpResponse:
    """Back to the page the form came from (`next`), when it is on this site; else `fallback`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


def requires(*actions: Action) -> Callable[[ViewFunc], ViewFunc]:
    """The HTML views' one role gate: sign-in first, then a 403 with the action's refusal text
    (before any object is looked up) unless the user may take one of `actions`."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            require(request.user, *actions)
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator
