"""Security's review queue for flagged activity (drift)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from decisions.limits import REVIEW_DONE_SHOWN, REVIEW_PENDING_SHOWN
from decisions.models import Activity, ReviewStatus
from decisions.services.activity import activity_review
from kernel.errors import NotFound
from kernel.http import AuthenticatedHttpRequest, requires
from kernel.permissions import Action


@require_safe
@requires(Action.REVIEW_ACTIVITY)
def review_queue(request: HttpRequest) -> HttpResponse:
    flagged = Activity.objects.filter(flagged=True).select_related("reviewed_by")
    pending = flagged.filter(review_status=ReviewStatus.PENDING).order_by("occurred_at", "id")
    reviewed = flagged.exclude(review_status=ReviewStatus.PENDING).order_by("-reviewed_at")
    return render(
        request,
        "decisions/review.html",
        {
            "pending": pending[:REVIEW_PENDING_SHOWN],
            "pending_count": pending.count(),
            "reviewed": reviewed[:REVIEW_DONE_SHOWN],
        },
    )


@requires(Action.REVIEW_ACTIVITY)
@require_POST
def review_submit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    try:
        activity = Activity.objects.get(pk=pk)
    except Activity.DoesNotExist:
        raise NotFound(f"No activity #{pk}.") from None
    activity = activity_review(
        actor=request.user,
        activity=activity,
        verdict=request.POST.get("verdict", ""),
        note=request.POST.get("note", ""),
    )
    messages.success(
        request, f"Activity #{activity.pk} reviewed as {activity.get_review_status_display()}."
    )
    return redirect("decisions:review")
