"""Maps domain errors raised under HTML views to a page that says what went wrong."""

import logging
from collections.abc import Callable
from functools import cache
from urllib.parse import urlsplit

from auditlog.middleware import AuditlogMiddleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware, PolicyParts
from csp.utils import build_policy
from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig, TooManyFieldsSent
from django.core.signals import setting_changed
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render

from kernel.errors import ApplicationError
from kernel.permissions import roles_of
from kernel.roles import API_ONLY_MESSAGE, API_ONLY_ROLES

logger = logging.getLogger(__name__)


def wants_json(request: HttpRequest) -> bool:
    """The API answers in JSON, error pages included; everything else is a page."""
    return request.path.startswith("/api/")


def error_response(request: HttpRequest, *, code: str, message: str, status: int) -> HttpResponse:
    """An error as the caller reads it: JSON `{detail, code}` under /api/, else the error page
    (with a link back to the page the browser came from, when that is on this site)."""
    if wants_json(request):
        return JsonResponse({"detail": message, "code": code}, status=status)
    context = {"message": message, "code": code, "status": status, **came_from(request)}
    return render(request, "error.html", context, status=status)


def came_from(request: HttpRequest) -> dict[str, str]:
    """`back` (and its label): the page the browser came from, by its Referer, when that is
    a page of this site other than this one; else nothing."""
    referer = urlsplit(request.META.get("HTTP_REFERER", ""))
    try:
        host = request.get_host()
    except DisallowedHost:  # the very reason for this 400: no way back to offer
        return {}
    if not referer.netloc or referer.netloc != host:
        return {}
    path = referer.path + (f"?{referer.query}" if referer.query else "")
    if not path.startswith("/") or path == request.get_full_path():
        return {}
    return {"back": path, "back_label": "the page you were on"}


class ApplicationErrorMiddleware:
    """Domain errors raised under HTML views become the error page; so does a bare 405, which
    Django's `require_POST` and friends answer with an empty body (a blank browser page)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and not getattr(response, "content", b"x"):
            return _method_not_allowed(request, response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, ApplicationError) or request.path.startswith("/api/"):
            return None
        return error_response(
            request, code=exception.code, message=exception.message, status=exception.status_code
        )


def _method_not_allowed(request: HttpRequest, bare: HttpResponse) -> HttpResponse:
    allowed = bare.get("Allow", "")
    message = f"This address does not take a {request.method} request"
    message += f" (it takes {allowed})." if allowed else "."
    response = error_response(request, code="method_not_allowed", message=message, status=405)
    if allowed:
        response["Allow"] = allowed
    return response


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
                request,
                "error.html",
                {"message": API_ONLY_MESSAGE, "code": "api_only", "status": 403},
                status=403,
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
TOO_BIG = "The request body is larger than {limit} bytes."
TOO_MANY_FIELDS = "The request has more than {limit} fields."

# Paths that answer errors in their own wire format (the OAuth endpoints' RFC 6749 JSON),
# registered from their app's AppConfig.ready(): prefix -> respond(message, status).
RequestRefusal = Callable[[str, int], HttpResponse]
_own_refusals: dict[str, RequestRefusal] = {}


def register_request_refusal(prefix: str, respond: RequestRefusal) -> None:
    """Under `prefix`, a request refused before its view (a NUL, a body too big) is answered
    by `respond(message, status)` instead of the portal's JSON or error page."""
    _own_refusals[prefix] = respond


def _own_refusal(request: HttpRequest) -> RequestRefusal | None:
    return next((r for p, r in _own_refusals.items() if request.path.startswith(p)), None)


def _holds_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    if any("\x00" in value for key, value in request.META.items() if key.startswith("HTTP_")):
        return True
    # A NUL in a parsed query arrives as %00 (or raw): only then parse it (QueryDict costs
    # more than the check, on every request, the decision API's included).
    query = request.META.get("QUERY_STRING", "")
    if ("%00" in query or "\x00" in query) and any(
        "\x00" in key or "\x00" in "".join(values) for key, values in request.GET.lists()
    ):
        return True
    if request.method == "POST" and request.content_type in _FORM_TYPES:
        return any("\x00" in key or "\x00" in "".join(vs) for key, vs in request.POST.lists())
    return False


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RefuseNulMiddleware:
    """A NUL in the path, a header, the query string or a form body is a 400, before any
    view sees it: PostgreSQL refuses NUL in text, so it would otherwise surface as a 500
    from whichever lookup, filter or insert met it first. (JSON bodies are checked by
    kernel.api.parsers.) Early in the chain, so the session and user are not loaded yet.
    Paths with their own error format (`register_request_refusal`) get it, for a form body
    too big or with too many fields as well (Django would answer its HTML 400 page)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        own = _own_refusal(request)
        try:
            holds_nul = _holds_nul(request)
        except (RequestDataTooBig, TooManyFieldsSent) as exc:
            if own is None:
                raise
            return own(*_unreadable(exc))
        if holds_nul:
            if own is not None:
                return own(NUL_REFUSAL, 400)
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": NUL_REFUSAL, "code": "nul_character"}, status=400)
            return render(
                request, "error.html", {"message": NUL_REFUSAL, "code": "invalid"}, status=400
            )
        return self.get_response(request)


def _unreadable(exc: Exception) -> tuple[str, int]:
    """Why Django would not read a form body, and the status that says so."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return TOO_BIG.format(limit=limit), 413
    return TOO_MANY_FIELDS.format(limit=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS), 400


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


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware (4.0), with each distinct policy built once per process.

    django-csp rebuilds the header from the settings on every response: a deep copy of the
    policy parts, then the policy string, for the policy and the report-only one. That was a
    tenth of a decision request's CPU (bench/decisions.py). The parts (settings, a
    view's csp_* decorator, a subclass's `get_policy_parts`) are few and fixed, so the string
    is kept per parts; a nonce makes each policy unique, so it is built as before. The rest
    is django-csp's `process_response`, step for step."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if response.status_code in (500, 404) and settings.DEBUG:  # Django's debug pages
            return response
        for report_only, header, exempt, excluded in _policy_headers():
            parts = self.get_policy_parts(
                request=request, response=response, report_only=report_only
            )
            policy = _policy(parts, report_only)
            if (
                policy
                and header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(excluded)
            ):
                response[header] = policy
        # As django-csp: a nonce asked for after the header is written is an error.
        if getattr(request, "_csp_nonce", None) is None:
            request.csp_nonce = CheckableLazyObject(  # type: ignore[attr-defined]
                self._csp_nonce_post_response
            )
        return response


@cache
def _policy_headers() -> tuple[tuple[bool, str, str, tuple[str, ...]], ...]:
    """Per header: report-only or not, its name, the response attribute that exempts a
    response from it, and the URL prefixes that its setting excludes."""
    return tuple(
        (
            report_only,
            header,
            exempt,
            tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()),
        )
        for report_only, header, exempt, setting in (
            (False, HEADER, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
            (True, HEADER_REPORT_ONLY, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
        )
    )


_POLICIES: dict[tuple, str] = {}


def _policy(parts: PolicyParts, report_only: bool) -> str:
    if parts.nonce is not None:
        return build_policy(parts.config, parts.update, parts.replace, parts.nonce, report_only)
    key = (report_only, _frozen(parts.config), _frozen(parts.update), _frozen(parts.replace))
    policy = _POLICIES.get(key)
    if policy is None:
        if len(_POLICIES) > 256:  # bounded, whatever a subclass varies the parts by
            _POLICIES.clear()
        policy = _POLICIES[key] = build_policy(
            parts.config, parts.update, parts.replace, None, report_only
        )
    return policy


def _frozen(value: object) -> object:
    """A hashable stand-in for a policy part (dicts of lists, sets, strings, booleans)."""
    if value is None:
        return None
    if isinstance(value, dict):
        return ("dict", tuple((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, list | tuple | set | frozenset):
        return (type(value).__name__, tuple(_frozen(item) for item in value))
    return (type(value), value)  # True and 1 are equal keys, but not equal policies


@receiver(setting_changed)
def _forget_policies(*, setting: str, **kwargs: object) -> None:
    # A part left at None means "the settings' policy": tests change it with override_settings.
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _POLICIES.clear()
        _policy_headers.cache_clear()
