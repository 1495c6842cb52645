"""Access request pages: file one, follow them, decide, cancel (grants: access.grant_views)."""

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from access import agent_requests, permissions, rules, selectors, services
from access.break_glass import break_glass_request
from access.confirmations import CANCEL_REQUEST, DECLINE_REQUEST, REVOKE_GRANT
from access.context import with_approver_rules
from access.filters import REQUEST_SORT
from access.forms import AccessRequestForm, RequestFilterForm
from access.limits import PAGE_SIZE
from access.models import AccessRequest, RequestStatus
from access.refusals import refusal_on_form
from approvals import permissions as approvals_permissions
from approvals.confirm import confirmed_step
from approvals.context import attach_agent_context
from approvals.rules import security_approvals
from approvals.steps import decision_steps
from kernel.errors import ApplicationError, Forbidden
from kernel.filtering import page_rows
from kernel.http import AuthenticatedHttpRequest, form_status, paginate, post_step, requires
from kernel.permissions import Action, AnyUser, can
from kernel.sorting import sort_rows
from registry.deviations import deviation_form_url
from registry.selectors.policy import policy_latest_published, policy_rules


@require_safe
@requires(Action.VIEW_PORTAL)
def request_list(request: HttpRequest) -> HttpResponse:
    # What agents filed for me to confirm is requested in my name or my teammate's: not "mine".
    show_all = request.GET.get("all") == "1" or request.GET.get("to_confirm") == "true"
    form = RequestFilterForm(request.GET, **selectors.filter_choices(request.user))
    form.is_valid()  # a value not on offer is shown on its field
    asked = {
        name: request.GET.get(name, "") for name in ("status", "agent", "capability", "to_confirm")
    }
    requests = page_rows(
        form,
        selectors.access_request_list,
        user=request.user,
        filters={**asked, "mine": "false" if show_all else "true"},
    )
    requests, sort = sort_rows(requests, REQUEST_SORT, request.GET)
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
            "filters": form,
            "filtered": any(asked.values()),
            "sort": sort,
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
            refusal_on_form(form, exc, form.cleaned_data)
        else:
            if access_request.status == "approved":
                messages.success(request, f"Request #{access_request.pk} approved: grant issued.")
            else:
                needs = security_approvals(access_request.required_approvals)
                messages.success(request, f"Request #{access_request.pk} filed: it needs {needs}.")
            return redirect(access_request)
    agents = cast(forms.ModelChoiceField, form.fields["agent"]).queryset
    agent_tiers = {agent.slug: agent.tier for agent in agents or []}
    return render(
        request,
        "access/form.html",
        {"form": form, "policy_data": {**_rules_for_form(), "tiers": agent_tiers}},
        status=form_status(form),
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
    with_approver_rules([access_request])
    attach_agent_context([access_request], user)
    return render(
        request,
        "access/detail.html",
        {
            "req": access_request,
            "grant": grant,
            "grant_active": grant is not None and rules.grant_is_active(grant),
            "revoke": REVOKE_GRANT.offer(grant, next_url=access_request.get_absolute_url())
            if grant is not None and permissions.can_revoke_grant(user, grant)
            else None,
            "can_decide": pending and permissions.can_approve(user, access_request),
            "decide_refusal": permissions.approval_refusal(user, access_request),
            "i_approved": pending and approvals_permissions.has_approved(user, access_request),
            "cancel": CANCEL_REQUEST.offer(access_request)
            if pending and permissions.can_cancel(user, access_request)
            else None,
            "exception_url": deviation_form_url(access_request.agent, access_request.capability)
            if access_request.status == "denied" and can(user, Action.REQUEST_EXCEPTION)
            else "",
            "can_review_break_glass": access_request.break_glass
            and access_request.break_glass_reviewed_at is None
            and permissions.can_review_break_glass(user, access_request),
            "review_refusal": permissions.break_glass_review_refusal(user, access_request),
            **_confirmation(user, access_request),
        },
    )


def _confirmation(user: AnyUser, access_request: AccessRequest) -> dict[str, Any]:
    """What its agent filed: whether this person confirms it here, and the decline offer."""
    if not permissions.can_confirm(user, access_request):
        return {"can_confirm": False, "decline": None}
    return {"can_confirm": True, "decline": DECLINE_REQUEST.offer(access_request)}


request_approve, request_deny = decision_steps(
    noun="request",
    subject="access_request",
    load=selectors.access_request_get_for_user,
    approve=services.access_request_approve,
    refuse=services.access_request_deny,
    approved=RequestStatus.APPROVED,
    outcome="grant issued",
    refused="denied",
    # decision_comment carries what the re-check of the present found (access.recheck).
    note=lambda done: f" {done.decision_comment}" if done.decision_comment else "",
)


@post_step(Action.REQUEST_ACCESS, load=selectors.access_request_get_for_user)
def request_confirm(request: AuthenticatedHttpRequest, target: AccessRequest) -> tuple[str, Any]:
    done = agent_requests.agent_request_confirm(actor=request.user, access_request=target)
    if done.status == RequestStatus.APPROVED:
        return f"Request #{done.pk} confirmed and approved (just-in-time): grant issued.", done
    needs = security_approvals(done.required_approvals)
    return f"Request #{done.pk} confirmed: it now waits for {needs}.", done


@confirmed_step(
    Action.REQUEST_ACCESS,
    load=selectors.access_request_get_for_user,
    confirmation=DECLINE_REQUEST,
    check=agent_requests.check_awaiting_owner,
)
def request_decline(request: AuthenticatedHttpRequest, target: AccessRequest) -> tuple[str, Any]:
    reason = request.POST.get("reason", "")
    agent_requests.agent_request_decline(actor=request.user, access_request=target, reason=reason)
    return f"Request #{target.pk} declined: agent {target.agent.slug} does not get it.", target


def _cancellable(user: User, target: AccessRequest) -> None:
    """What cancelling would refuse, said on the confirmation page before anyone confirms."""
    if not permissions.can_cancel(user, target):
        raise Forbidden("Only the person who filed the request can cancel it.")
    services.PIPELINE.check(target, RequestStatus.CANCELLED)


@confirmed_step(
    Action.REQUEST_ACCESS,
    load=selectors.access_request_get_for_user,
    confirmation=CANCEL_REQUEST,
    check=_cancellable,
)
def request_cancel(request: AuthenticatedHttpRequest, target: AccessRequest) -> tuple[str, Any]:
    services.access_request_cancel(actor=request.user, access_request=target)
    return f"Request #{target.pk} cancelled.", target


@post_step(Action.APPROVE, load=selectors.access_request_get_for_user)
def request_review_break_glass(
    request: AuthenticatedHttpRequest, target: AccessRequest
) -> tuple[str, Any]:
    note = request.POST.get("note", "")
    services.break_glass_review(actor=request.user, access_request=target, note=note)
    return f"Break-glass request #{target.pk} reviewed.", target
