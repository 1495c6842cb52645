"""Confirmation of the steps that take access away or withdraw what was asked (revoke a grant
or an exception, cancel a request): asked once, the same way with or without JavaScript.

Each such step has one `Confirmation`: the question, its consequence, the button, and the
reason the step takes (if any). Its URL answers GET with a confirmation page (a form that works
without JavaScript) and POST with the step itself (`confirmed_step`). Pages that offer the step
include approvals/_confirm.html with `confirmation.offer(target)`: a link to that page, which
static/js/confirm-dialog.js turns into a native <dialog> holding the same form.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from kernel.errors import ApplicationError
from kernel.http import (
    AuthenticatedHttpRequest,
    Step,
    ViewFunc,
    redirect_back,
    refused_step,
    requires,
    safe_next,
)
from kernel.permissions import Action


@dataclass(frozen=True)
class Confirmation:
    """What a step asks before it runs. `title` and `consequence` are format strings over the
    target (`{t.pk}`, `{t.agent.slug}`); `reason` labels the reason field ("" when the step
    takes none); `keep` is the way back ("Keep the grant")."""

    url_name: str
    label: str
    title: str
    consequence: str
    submit: str
    keep: str
    reason: str = ""
    reason_field: str = "reason"

    def offer(
        self, target: Any, *, next_url: str = "", value: str = "", error: str = ""
    ) -> dict[str, Any]:
        """What approvals/_confirm.html renders for `target` (the link and the dialog's form);
        `next_url` is where the user returns once it is done."""
        url = reverse(self.url_name, kwargs={"pk": target.pk})
        return {
            "id": f"confirm-{self.url_name.replace(':', '-')}-{target.pk}",
            "url": url,
            "page_url": f"{url}?{urlencode({'next': next_url})}" if next_url else url,
            "next": next_url,
            "cancel_url": next_url or target.get_absolute_url(),
            "label": self.label,
            "title": self.title.format(t=target),
            "consequence": self.consequence.format(t=target),
            "submit": self.submit,
            "keep": self.keep,
            "reason": self.reason,
            "reason_field": self.reason_field,
            "value": value,
            "error": error,
        }


def _page(
    request: HttpRequest, confirmation: Confirmation, target: Any, *, status: int = 200, **kw: Any
) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    offer = confirmation.offer(target, next_url=safe_next(request, source.get("next", "")), **kw)
    return render(request, "approvals/confirm.html", {"offer": offer}, status=status)


def confirmed_step(
    *actions: Action,
    load: Callable[[Any, int], Any],
    confirmation: Confirmation,
    check: Callable[[Any, Any], None] | None = None,
) -> Callable[[Step], ViewFunc]:
    """A step behind a confirmation. The role gate (`requires`) first and the object loaded for
    this user (`load(user, pk)`: a forged id is a 404); GET shows the confirmation page, after
    `check(user, target)` (raises what the step would refuse, so nobody confirms in vain);
    POST runs `step(request, target)`, which calls the service and returns (message, fallback
    page). A refusal of the reason (an ApplicationError on `reason_field`) shows the page again
    with the error beside the field (400); other refusals are the error page, with a link back
    (`refused_step`)."""

    def decorator(step: Step) -> ViewFunc:
        @requires(*actions)
        @require_http_methods(["GET", "HEAD", "POST"])
        @wraps(step)
        def view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
            target = load(request.user, pk)
            if request.method != "POST":
                try:
                    if check is not None:
                        check(request.user, target)
                except ApplicationError as refusal:
                    return refused_step(request, refusal, target)
                return _page(request, confirmation, target)
            try:
                message, fallback = step(request, target)
            except ApplicationError as exc:
                if not confirmation.reason or exc.field != confirmation.reason_field:
                    return refused_step(request, exc, target)
                value = request.POST.get(confirmation.reason_field, "")
                return _page(
                    request, confirmation, target, status=400, value=value, error=exc.message
                )
            messages.success(request, message)
            return redirect_back(request, fallback)

        return view

    return decorator
