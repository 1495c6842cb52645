from auditlog.models import LogEntry
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

from kernel.audit_trail import ACTION_NAMES, audit_events, object_types
from kernel.dashboard import dashboard_context
from kernel.filtering import InvalidFilters
from kernel.health import broker_status
from kernel.http import paginate, requires
from kernel.outbox import backlog
from kernel.permissions import Action


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
    return render(request, "error.html", {"message": message, "code": "forbidden"}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(
        request,
        "error.html",
        {"message": "There is nothing at this address.", "code": "not_found"},
        status=404,
    )


@require_safe
@requires(Action.VIEW_AUDIT_TRAIL)
def audit_trail(request: HttpRequest) -> HttpResponse:
    """Every change to domain objects, newest first; security and auditors only."""
    filters = {name: request.GET.get(name, "") for name in ("object_type", "actor", "from", "to")}
    filter_errors: list[str] = []
    try:
        entries = audit_events(filters=filters)
    except InvalidFilters as exc:
        filter_errors, entries = [exc.message], LogEntry.objects.none()
    page, query = paginate(request, entries, 50)
    return render(
        request,
        "audit/trail.html",
        {
            "page": page,
            "filters": filters,
            "filter_errors": filter_errors,
            "object_types": object_types(),
            "action_names": ACTION_NAMES,
            "query": query,
        },
    )
