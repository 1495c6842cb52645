"""HTTP helpers shared by the HTML views."""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from kernel.errors import ApplicationError
from kernel.permissions import Action, require

ViewFunc = Callable[..., HttpResponseBase]
T = TypeVar("T")


class AuthenticatedHttpRequest(HttpRequest):
    """The request a view behind `requires` or `login_required` receives (for type checking):
    its user is signed in, never AnonymousUser."""

    user: User


def safe_next(request: HttpRequest, target: str) -> str:
    """`target` (a form's `next`: the page it came from) when it is a path on this site; else
    "". Only a path: a bare word ("NaN", "-1") is no page, and `redirect` would take it for a
    URL name and fail to reverse it (a 500)."""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target.startswith("/") and allowed else ""


def redirect_back(request: HttpRequest, fallback) -> HttpResponse:
    """Back to the page the form came from (`next`), when it is on this site; else `fallback`."""
    return redirect(safe_next(request, request.POST.get("next", "")) or fallback)


def refused_step(request: HttpRequest, refusal: ApplicationError, target: Any) -> HttpResponse:
    """The error page of a refused step (the middleware's, with its status), with a way back:
    to the page the button or link was on (`next`), else to the object's own page."""
    source = request.POST if request.method == "POST" else request.GET
    back, label = safe_next(request, source.get("next", "")), "the page you were on"
    if not back and hasattr(target, "get_absolute_url"):
        back, label = target.get_absolute_url(), f"the {target._meta.verbose_name}"
    context = {
        "message": refusal.message,
        "code": refusal.code,
        "status": refusal.status_code,
        "back": back,
        "back_label": label,
    }
    return render(request, "error.html", context, status=refusal.status_code)


def paginate(request: HttpRequest, rows: Any, per_page: int) -> tuple[Page, str]:
    """The requested page of a list, and the list's other query parameters (its filters) as a
    query string, for the pagination links to carry."""
    page = Paginator(rows, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def form_error(form: forms.Form, exc: ApplicationError | ValidationError) -> None:
    """Show a service's refusal on the form: on its field when it names one."""
    if isinstance(exc, ValidationError):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def submit(
    request: HttpRequest, form: forms.Form, service: Callable[..., T], **objects: Any
) -> T | None:
    """A posted form run through its service, `service(actor=request.user, **objects,
    **form.cleaned_data)`: what the service returned, or None when the form was not posted, is
    not valid, or the service refused (the refusal then stands on the form, on the field it
    names, and the view renders the form again, with `form_status`: a 400)."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        return service(actor=request.user, **objects, **form.cleaned_data)
    except (ApplicationError, ValidationError) as exc:
        form_error(form, exc)
        return None


def form_status(*forms: forms.BaseForm | None, refused: bool = False) -> int:
    """The status of a page that shows forms again: 400 when one of them was posted and refused
    (bound, with errors: the page shows them beside what was typed, and nothing changed), or
    when the view says so (`refused`: a refusal it shows outside a form); else 200."""
    posted_wrong = any(form is not None and form.is_bound and form.errors for form in forms)
    return 400 if refused or posted_wrong else 200


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


Step = Callable[[Any, Any], tuple[str, Any]]


def post_step(*actions: Action, load: Callable[[User, int], Any]) -> Callable[[Step], ViewFunc]:
    """A button that POSTs one workflow step on an object (approve, deny, revoke, ...).

    The view behind it: the role gate (`requires`), POST only, the object loaded for this user
    (`load(user, pk)`, so a forged id is a 404, never a leak), then the decorated
    `step(request, obj)` calls the service and returns (success message, fallback page); the user
    goes back to the page the button was on (`next`), else to the fallback. A refused step (an
    ApplicationError) is the error page, with a link back (`refused_step`).
    """

    def decorator(step: Step) -> ViewFunc:
        @requires(*actions)
        @require_POST
        @wraps(step)
        def view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
            target = load(request.user, pk)
            try:
                message, fallback = step(request, target)
            except ApplicationError as refusal:
                return refused_step(request, refusal, target)
            messages.success(request, message)
            return redirect_back(request, fallback)

        return view

    return decorator
