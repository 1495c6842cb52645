"""Security's review queue for flagged activity (drift)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from decisions.models import Activity, ReviewStatus
from decisions.services.activity import activity_review
from kernel.errors import NotFound
from kernel.permissions import Action, can


@require_safe
@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Action.REVIEW_ACTIVITY):
        raise PermissionDenied("Only security reviews flagged activity.")
    flagged = Activity.objects.filter(flagged=True).select_related("reviewed_by")
    pending = flagged.filter(review_status=ReviewStatus.PENDING).order_by("occurred_at", "id")
    reviewed = flagged.exclude(review_status=ReviewStatus.PENDING).order_by("-reviewed_at")
    return render(
        request,
        "decisions/review.html",
        {"pending": pending[:200], "pending_count": pending.count(), "reviewed": reviewed[:50]},
    )


@login_required
@require_POST
def review_submit(request: HttpRequest, pk: int) -> HttpResponse:
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
