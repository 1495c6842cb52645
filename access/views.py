"""Access request pages: file one, follow mine, and security's approval queue."""

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from access import permissions, rules, selectors, services
from access.break_glass import break_glass_request
from access.forms import AccessRequestForm
from access.limits import PAGE_SIZE
from access.models import AccessRequest, Grant
from kernel.errors import ApplicationError
from kernel.filtering import InvalidFilters
from kernel.http import AuthenticatedHttpRequest, paginate, post_step, requires
from kernel.permissions import Action
from registry.selectors.policy import policy_latest_published, policy_rules
from registry.views.agents import form_error


@require_safe
@requires(Action.VIEW_PORTAL)
def request_list(request: HttpRequest) -> HttpResponse:
    show_all = request.GET.get("all") == "1"
    filters = {"status": request.GET.get("status", ""), "mine": "false" if show_all else "true"}
    filter_errors: list[str] = []
    try:
        requests = selectors.access_request_list(request.user, filters=filters)
    except InvalidFilters as exc:
        filter_errors, requests = [exc.message], AccessRequest.objects.none()
    page, query = paginate(request, requests, PAGE_SIZE)
    now = timezone.now()
    for access_request in page:
        grant = getattr(access_request, "grant", None)
        setattr(  # noqa: B010 (a display value for the row, not a model field)
            access_request, "grant_state", rules.grant_state(grant, now) if grant else ""
        )
    return render(
        request,
        "access/list.html",
        {
            "page": page,
            "show_all": show_all,
            "filter_errors": filter_errors,
            "query": query,
        },
    )


def _rules_for_form() -> dict[str, Any]:
    """tier -> capability -> rule, for the hint the form shows before submitting."""
    version = policy_latest_published()
    rules: dict[str, dict[str, dict]] = {}
    if version is not None:
        for rule in policy_rules(version):
            rules.setdefault(rule.tier, {})[rule.capability.key] = {
                "effect": rule.effect,
                "max": rule.max_duration_hours,
            }
    return {"version": version.number if version else None, "rules": rules}


@require_http_methods(["GET", "HEAD", "POST"])
@requires(Action.REQUEST_ACCESS)
def request_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    initial = {"agent": request.GET.get("agent"), "capability": request.GET.get("capability")}
    form = AccessRequestForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            access_request = _file(request.user, form.cleaned_data)
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            if access_request.status == "approved":
                messages.success(request, f"Request #{access_request.pk} approved: grant issued.")
            else:
                messages.success(
                    request,
                    f"Request #{access_request.pk} filed: it needs "
                    f"{access_request.required_approvals} security approval(s).",
                )
            return redirect(access_request)
    agents = cast(forms.ModelChoiceField, form.fields["agent"]).queryset
    agent_tiers = {agent.slug: agent.tier for agent in agents or []}
    return render(
        request,
        "access/form.html",
        {"form": form, "policy_data": {**_rules_for_form(), "tiers": agent_tiers}},
    )


def _file(actor: User, data: dict[str, Any]) -> AccessRequest:
    """The form's break-glass box picks the service: an emergency grant, or a request."""
    data = dict(data)
    if data.pop("break_glass"):
        return break_glass_request(actor=actor, **data)
    data.pop("incident")
    return services.access_request_submit(actor=actor, **data)


@require_safe
@requires(Action.VIEW_PORTAL)
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access_request = selectors.access_request_get_for_user(request.user, pk)
    user = request.user
    pending = access_request.status == "pending"
    grant = getattr(access_request, "grant", None)
    return render(
        request,
        "access/detail.html",
        {
            "req": access_request,
            "grant": grant,
            "grant_active": grant is not None and rules.grant_is_active(grant),
            "can_decide": pending and permissions.can_approve(user, access_request),
            "decide_refusal": permissions.approval_refusal(user, access_request),
            "can_cancel": pending and permissions.can_cancel(user, access_request),
            "can_review_break_glass": access_request.break_glass
            and access_request.break_glass_reviewed_at is None
            and permissions.can_review_break_glass(user, access_request),
        },
    )


@post_step(Action.APPROVE, load=selectors.access_request_get_for_user)
def request_approve(request: AuthenticatedHttpRequest, target: AccessRequest) -> tuple[str, Any]:
    comment = request.POST.get("comment", "")
    done = services.access_request_approve(
        actor=request.user, access_request=target, comment=comment
    )
    # decision_comment carries what the re-check of the present found (access.recheck).
    note = f" {done.decision_comment}" if done.decision_comment else ""
    if done.status == "approved":
        return f"Request #{done.pk} approved: grant issued.{note}", done
    return f"Approval recorded on request #{done.pk}; another approval is needed.{note}", done


@post_step(Action.APPROVE, load=selectors.access_request_get_for_user)
def request_deny(request: AuthenticatedHttpRequest, target: AccessRequest) -> tuple[str, Any]:
    comment = request.POST.get("comment", "")
    services.access_request_deny(actor=request.user, access_request=target, comment=comment)
    return f"Request #{target.pk} denied.", target


@requires(Action.REQUEST_ACCESS)
@require_POST
def request_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    target = selectors.access_request_get_for_user(request.user, pk)
    services.access_request_cancel(actor=request.user, access_request=target)
    messages.success(request, f"Request #{pk} cancelled.")
    return redirect(target)


@post_step(Action.APPROVE, load=selectors.access_request_get_for_user)
def request_review_break_glass(
    request: AuthenticatedHttpRequest, target: AccessRequest
) -> tuple[str, Any]:
    note = request.POST.get("note", "")
    services.break_glass_review(actor=request.user, access_request=target, note=note)
    return f"Break-glass request #{target.pk} reviewed.", target


@post_step(Action.APPROVE, load=selectors.grant_get_for_user)
def grant_revoke(request: AuthenticatedHttpRequest, grant: Grant) -> tuple[str, Any]:
    services.grant_revoke(actor=request.user, grant=grant, reason=request.POST.get("reason", ""))
    return f"Grant #{grant.pk} revoked: decisions deny it from now on.", grant.agent
