"""The decision log (security and auditors) and security's review queue for flagged activity
(drift), each filterable, so the dashboard's counts link to exactly what they count."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from decisions.filters import ActivityFilter, DecisionFilter
from decisions.limits import (
    DECISION_LOG_PAGE_SIZE,
    REVIEW_DONE_SHOWN,
    REVIEW_PENDING_SHOWN,
)
from decisions.models import Activity, ReviewStatus
from decisions.selectors import activity_get, activity_list, decision_list
from decisions.services.activity import activity_review
from kernel.errors import ApplicationError
from kernel.filtering import filter_form, page_rows
from kernel.http import AuthenticatedHttpRequest, form_status, paginate, requires
from kernel.permissions import Action

# The review page's filters: `flagged` is implied (only flagged activity is reviewed).
REVIEW_FILTERS = ("review_status", "agent", "capability", "since", "until")


@require_safe
@requires(Action.VIEW_AUDIT_TRAIL)
def decision_log(request: HttpRequest) -> HttpResponse:
    """Every answer of the decision API, newest first, narrowed by the API's own filters."""
    form = filter_form(DecisionFilter, request.GET)
    decisions = page_rows(form, decision_list, filters=request.GET)
    page, query = paginate(request, decisions, DECISION_LOG_PAGE_SIZE)
    return render(
        request,
        "decisions/log.html",
        {"filters": form, "page": page, "query": query, "filtered": _any(request, form)},
    )


@require_safe
@requires(Action.VIEW_AUDIT_TRAIL)  # auditors read the flags and verdicts; security reviews
def review_queue(request: HttpRequest) -> HttpResponse:
    return _review_page(request)


def _review_page(
    request: HttpRequest, refused: Activity | None = None, error: str = "", note: str = ""
) -> HttpResponse:
    """The review queue; after a refused review (`refused`), its row shows `error` beside the
    note the user typed (400)."""
    form = filter_form(ActivityFilter, request.GET)
    flagged = page_rows(form, activity_list, filters=request.GET).filter(flagged=True)
    pending = flagged.filter(review_status=ReviewStatus.PENDING).order_by("occurred_at", "id")
    reviewed = flagged.exclude(review_status=ReviewStatus.PENDING).order_by("-reviewed_at")
    return render(
        request,
        "decisions/review.html",
        {
            "filters": [form[name] for name in REVIEW_FILTERS],
            "filter_errors": form.non_field_errors(),
            "filtered": _any(request, form),
            "pending": pending[:REVIEW_PENDING_SHOWN],
            "pending_count": pending.count(),
            "reviewed": reviewed[:REVIEW_DONE_SHOWN],
            "reviewed_count": reviewed.count(),
            "refused": {"pk": refused.pk, "error": error, "note": note} if refused else None,
        },
        status=form_status(refused=refused is not None),
    )


def _any(request: HttpRequest, form) -> bool:
    """Whether the page is narrowed by one of its filters (the page says so)."""
    return any(request.GET.get(name) for name in form.fields)


@requires(Action.REVIEW_ACTIVITY)
@require_POST
def review_submit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    activity = activity_get(pk)
    note, verdict = request.POST.get("note", ""), request.POST.get("verdict", "")
    try:
        activity = activity_review(
            actor=request.user, activity=activity, verdict=verdict, note=note
        )
    except ApplicationError as exc:
        if exc.field not in ("note", "verdict"):
            raise
        return _review_page(request, activity, exc.message, note)
    messages.success(request, f"Activity #{activity.pk} reviewed: {activity.review_status}.")
    return redirect("decisions:review")
