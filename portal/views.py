from auditlog.models import LogEntry
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.template import loader
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST, require_safe

from kernel import csv as safe_csv
from kernel.audit_trail import (
    ACTION_NAMES,
    ACTION_VERBS,
    TRAIL_FILTERS,
    audit_events,
    object_types,
    present,
    trail_csv_rows,
)
from kernel.dashboard import dashboard_context
from kernel.filtering import InvalidFilters
from kernel.health import broker_status
from kernel.http import AuthenticatedHttpRequest, paginate, post_step, requires
from kernel.middleware import error_response, wants_json
from kernel.outbox import (
    MAX_ATTEMPTS,
    backlog,
    deliveries_for,
    delivery_get,
    retry,
    retry_failed,
)
from kernel.permissions import Action

AUDIT_TRAIL_PAGE_SIZE = 50
DELIVERIES_PAGE_SIZE = 50


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, broker and outbox backlog, for load balancers and monitoring.

    200 while the database answers (`degraded` when the broker does not: writes still work and
    what they queue waits in the outbox), 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        waiting = backlog()
    except DatabaseError as exc:
        return JsonResponse(
            {
                "status": "error",
                "database": "unavailable",
                "broker": broker_status(),
                "error": exc.__class__.__name__,
            },
            status=503,
        )
    broker = broker_status()
    return JsonResponse(
        {
            "status": "degraded" if broker == "unavailable" else "ok",
            "database": "ok",
            "vendor": connection.vendor,
            "broker": broker,
            "outbox_pending": waiting["pending"],
            "outbox_failed": waiting["failed"],
        }
    )


@require_safe
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard.html", dashboard_context(request.user))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = (
        str(exception) if exception and str(exception) else "Your role may not open this page."
    )
    return error_response(request, code="forbidden", message=message, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(
        request, code="not_found", message="There is nothing at this address.", status=404
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(
        request,
        code="invalid",
        message="The request could not be read (a bad header or a malformed body).",
        status=400,
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form posted without a valid CSRF token: usually a page left open too long."""
    return error_response(
        request,
        code="forbidden",
        message="This form has expired (or cookies are blocked): reload the page and try again. "
        "Nothing was changed.",
        status=403,
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """An unexpected failure: a page that says so, never the traceback (it goes to the log).
    Rendered without the request's context processors, which may be what failed."""
    message = "Something went wrong on our side; it has been logged. Try again in a minute."
    if wants_json(request):
        return JsonResponse({"detail": message, "code": "server_error"}, status=500)
    context = {"message": message, "code": "server_error", "status": 500}
    page = loader.render_to_string("error.html", context)
    return HttpResponse(page, status=500)


@require_safe
@requires(Action.VIEW_AUDIT_TRAIL)
def audit_trail(request: HttpRequest) -> HttpResponseBase:
    """Every change to domain objects, newest first, readable: who did what to which object,
    when. `?format=csv` downloads the filtered trail. Security and auditors only."""
    filters = {name: request.GET.get(name, "") for name in TRAIL_FILTERS}
    export = request.GET.get("format") == "csv"
    filter_errors: list[str] = []
    try:
        entries = audit_events(filters=filters)
    except InvalidFilters as exc:
        if export:
            raise  # a 400 page that names the bad filter, rather than a CSV of nothing
        filter_errors, entries = [exc.message], LogEntry.objects.none()
    if export:
        response = StreamingHttpResponse(
            safe_csv.lines(trail_csv_rows(entries, absolute=request.build_absolute_uri)),
            content_type="text/csv; charset=utf-8",
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="audit-trail-{stamp}.csv"'
        return response
    page, query = paginate(request, entries, AUDIT_TRAIL_PAGE_SIZE)
    return render(
        request,
        "audit/trail.html",
        {
            "page": page,
            "rows": present(list(page.object_list)),
            "filters": filters,
            "filter_errors": filter_errors,
            "object_types": object_types(),
            "action_verbs": {name: ACTION_VERBS[code] for code, name in ACTION_NAMES.items()},
            "query": query,
        },
    )


@require_safe
@requires(Action.MANAGE_DELIVERIES)
def deliveries(request: HttpRequest) -> HttpResponse:
    """Notices (email, Slack, webhooks) and background builds the portal has not delivered:
    those it gave up on first, each with its last error and a retry button."""
    page, query = paginate(request, deliveries_for(request.user), DELIVERIES_PAGE_SIZE)
    return render(
        request,
        "outbox/deliveries.html",
        {"page": page, "query": query, "backlog": backlog(), "max_attempts": MAX_ATTEMPTS},
    )


@post_step(Action.MANAGE_DELIVERIES, load=delivery_get)
def delivery_retry(request: AuthenticatedHttpRequest, message) -> tuple[str, str]:
    retry(actor=request.user, message=message)
    return f"Delivery #{message.pk} is being tried again.", "deliveries"


@requires(Action.MANAGE_DELIVERIES)
@require_POST
def deliveries_retry_failed(request: AuthenticatedHttpRequest) -> HttpResponse:
    """After a receiver's outage: every failed delivery round again at once."""
    count = retry_failed(actor=request.user)
    messages.success(request, f"{count} failed deliver{pluralize(count, 'y,ies')} tried again.")
    return redirect("deliveries")
