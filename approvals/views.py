"""Security's approval queue: every workflow's section on one page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from approvals.queue import queue_for
from kernel.http import requires
from kernel.permissions import Action


@require_safe
@requires(Action.APPROVE)
def approvals(request: HttpRequest) -> HttpResponse:
    return render(request, "approvals/queue.html", {"sections": queue_for(request.user)})
