"""Security's approval queue: every workflow's section on one page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from approvals.context import attach_agent_context
from approvals.queue import queue_for
from kernel.http import requires
from kernel.permissions import Action


@require_safe
@requires(Action.APPROVE)
def approvals(request: HttpRequest) -> HttpResponse:
    sections = queue_for(request.user)
    # The agents' grants and drift flags, read once for the subjects of every section.
    attach_agent_context(
        (item for section in sections if section.get("with_context") for item in section["items"]),
        request.user,
    )
    return render(request, "approvals/queue.html", {"sections": sections})
