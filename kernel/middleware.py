"""Maps domain errors raised under HTML views to a page that says what went wrong."""

import logging

from auditlog.middleware import AuditlogMiddleware
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from kernel.errors import ApplicationError
from kernel.permissions import roles_of
from kernel.roles import API_ONLY_MESSAGE, API_ONLY_ROLES

logger = logging.getLogger(__name__)


class ApplicationErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ApplicationError) or request.path.startswith("/api/"):
            return None
        return render(
            request,
            "error.html",
            {"message": exception.message, "code": exception.code},
            status=exception.status_code,
        )


class ApiOnlySessionMiddleware:
    """A service account (the gateway) uses the API only: its session, however it got one,
    opens no HTML page (the login form refuses it too, in kernel.login)."""

    open_paths = ("/api/", "/accounts/logout/", "/static/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and not request.path.startswith(self.open_paths)
            and user.is_authenticated
            and roles_of(user) & API_ONLY_ROLES
        ):
            return render(
                request, "error.html", {"message": API_ONLY_MESSAGE, "code": "api_only"}, status=403
            )
        return self.get_response(request)


class AuditContextMiddleware(AuditlogMiddleware):
    """django-auditlog's actor context, except on the decision API: every request there
    writes only its own decision record (the log of decisions, not a change to audit), and
    it sits in every agent action's path."""

    exempt_prefixes = ("/api/v1/decisions/",)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path.startswith(self.exempt_prefixes):
            return self.get_response(request)
        return super().__call__(request)


NUL_REFUSAL = "The request contains a NUL (\\0) character; remove it and try again."


def _holds_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    if any("\x00" in value for key, value in request.META.items() if key.startswith("HTTP_")):
        return True
    if any("\x00" in key or "\x00" in "".join(values) for key, values in request.GET.lists()):
        return True
    if request.method == "POST" and request.content_type in _FORM_TYPES:
        return any("\x00" in key or "\x00" in "".join(vs) for key, vs in request.POST.lists())
    return False


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RefuseNulMiddleware:
    """A NUL in the path, a header, the query string or a form body is a 400, before any
    view sees it: PostgreSQL refuses NUL in text, so it would otherwise surface as a 500
    from whichever lookup, filter or insert met it first. (JSON bodies are checked by
    kernel.api.parsers.) Early in the chain, so the session and user are not loaded yet."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _holds_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": NUL_REFUSAL, "code": "nul_character"}, status=400)
            return render(
                request, "error.html", {"message": NUL_REFUSAL, "code": "invalid"}, status=400
            )
        return self.get_response(request)


DATABASE_DOWN = "The database is unavailable right now; try again in a few seconds."


class DatabaseUnavailableMiddleware:
    """A lost database connection is a 503 that says so (JSON under /api/, so a gateway
    reads it), not an HTML 500: callers should retry, not report a bug."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error("Database unavailable on %s", request.path, exc_info=exception)
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse(
                {"detail": DATABASE_DOWN, "code": "database_unavailable"}, status=503
            )
        else:
            response = HttpResponse(DATABASE_DOWN, status=503, content_type="text/plain")
        response["Retry-After"] = "5"
        return response
