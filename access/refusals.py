"""Refusals of the request form that point elsewhere, shown as links: the policy denies (the
way on is an exception, its form prefilled) and the same access is pending already (that one)."""

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.html import format_html

from access.limits import DEVIATION_HINT
from kernel.errors import ApplicationError
from registry.deviations import deviation_form_url


def refusal_on_form(form: forms.Form, exc: ApplicationError, data: dict[str, Any]) -> None:
    """Show a service's refusal on the form: on its field when it names one, with a link when
    it points elsewhere."""
    message: str = exc.message
    deviation = ""
    if exc.code == "policy_deny" and data.get("agent") and data.get("capability"):
        deviation = deviation_form_url(data["agent"], data["capability"])
    if deviation:
        message = format_html(
            '{} To ask for a deviation, <a href="{}">request a policy exception</a> for {} on {}.',
            exc.message.removesuffix(f" {DEVIATION_HINT}"),
            deviation,
            data["capability"].key,
            data["agent"].slug,
        )
    elif exc.code == "duplicate_request" and "request_id" in exc.extra:
        pk = exc.extra["request_id"]
        message = format_html(
            '{} <a href="{}">Open request #{}</a>.',
            exc.message,
            reverse("access:request-detail", kwargs={"pk": pk}),
            pk,
        )
    form.add_error(exc.field if exc.field in form.fields else None, message)
