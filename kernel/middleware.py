"""Maps domain errors raised under HTML views to a page that says what went wrong."""

from auditlog.middleware import AuditlogMiddleware
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kernel.errors import ApplicationError


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


class AuditContextMiddleware(AuditlogMiddleware):
    """django-auditlog's actor context, except on the decision API: every request there
    writes only its own decision record (the log of decisions, not a change to audit), and
    it sits in every agent action's path."""

    exempt_prefixes = ("/api/v1/decisions/",)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path.startswith(self.exempt_prefixes):
            return self.get_response(request)
        return super().__call__(request)
