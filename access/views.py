"""Access request pages: file one, follow mine, and security's approval queue."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from access import permissions, selectors, services
from access.forms import AccessRequestForm
from kernel.errors import ApplicationError
from kernel.http import redirect_back
from kernel.permissions import Action, can
from registry.selectors.policy import policy_latest_published, policy_rules
from registry.views.agents import form_error


def _require(request: HttpRequest, action: Action, message: str) -> None:
    if not can(request.user, action):
        raise PermissionDenied(message)


@require_safe
@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    _require(request, Action.VIEW_PORTAL, "Your role does not work with access requests.")
    show_all = request.GET.get("all") == "1"
    requests = selectors.requests_visible_to(request.user)
    if not show_all:
        requests = requests.filter(requested_by=request.user)
    if request.GET.get("status"):
        requests = requests.filter(status=request.GET["status"])
    page = Paginator(requests, 25).get_page(request.GET.get("page"))
    now = timezone.now()
    for access_request in page:
        grant = getattr(access_request, "grant", None)
        access_request.grant_state = selectors.grant_state(grant, now) if grant else ""
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "access/list.html",
        {
            "page": page,
            "show_all": show_all,
            "query": query.urlencode(),
            "can_request": can(request.user, Action.REQUEST_ACCESS),
        },
    )


def _rules_for_form() -> dict[str, dict[str, dict]]:
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
@login_required
def request_create(request: HttpRequest) -> HttpResponse:
    _require(request, Action.REQUEST_ACCESS, "Only engineers and security request access.")
    initial = {"agent": request.GET.get("agent"), "capability": request.GET.get("capability")}
    form = AccessRequestForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            access_request = services.access_request_submit(actor=request.user, **form.cleaned_data)
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
    agent_tiers = {agent.slug: agent.tier for agent in form.fields["agent"].queryset}
    return render(
        request,
        "access/form.html",
        {"form": form, "policy_data": {**_rules_for_form(), "tiers": agent_tiers}},
    )


@require_safe
@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.VIEW_PORTAL, "Your role does not work with access requests.")
    access_request = selectors.access_request_get_for_user(request.user, pk)
    refusal = permissions.approval_refusal(request.user, access_request)
    grant = getattr(access_request, "grant", None)
    return render(
        request,
        "access/detail.html",
        {
            "req": access_request,
            "grant": grant,
            "grant_active": grant is not None and selectors.grant_is_active(grant),
            "can_decide": access_request.status == "pending"
            and permissions.can_approve(request.user, access_request),
            "decide_refusal": refusal,
            "can_cancel": access_request.status == "pending"
            and access_request.requested_by_id == request.user.pk,
            "can_revoke": grant is not None
            and can(request.user, Action.APPROVE)
            and selectors.grant_is_active(grant),
            "can_review_break_glass": access_request.break_glass
            and access_request.break_glass_reviewed_at is None
            and can(request.user, Action.APPROVE)
            and access_request.requested_by_id != request.user.pk,
        },
    )


@login_required
@require_POST
def request_approve(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.APPROVE, "Only security approves access requests.")
    target = selectors.access_request_get_for_user(request.user, pk)
    done = services.access_request_approve(
        actor=request.user, access_request=target, comment=request.POST.get("comment", "")
    )
    if done.status == "approved":
        messages.success(request, f"Request #{pk} approved: grant issued.")
    else:
        messages.success(
            request, f"Approval recorded on request #{pk}; another approval is needed."
        )
    return redirect_back(request, done)


@login_required
@require_POST
def request_deny(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.APPROVE, "Only security denies access requests.")
    target = selectors.access_request_get_for_user(request.user, pk)
    services.access_request_deny(
        actor=request.user, access_request=target, comment=request.POST.get("comment", "")
    )
    messages.success(request, f"Request #{pk} denied.")
    return redirect_back(request, target)


@login_required
@require_POST
def request_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.REQUEST_ACCESS, "Only the person who filed a request cancels it.")
    target = selectors.access_request_get_for_user(request.user, pk)
    services.access_request_cancel(actor=request.user, access_request=target)
    messages.success(request, f"Request #{pk} cancelled.")
    return redirect(target)


@login_required
@require_POST
def request_review_break_glass(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.APPROVE, "Only security reviews break-glass access.")
    target = selectors.access_request_get_for_user(request.user, pk)
    services.break_glass_review(
        actor=request.user, access_request=target, note=request.POST.get("note", "")
    )
    messages.success(request, f"Break-glass request #{pk} reviewed.")
    return redirect_back(request, target)


@login_required
@require_POST
def grant_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.APPROVE, "Only security revokes grants.")
    grant = selectors.grant_get_for_user(request.user, pk)
    services.grant_revoke(actor=request.user, grant=grant, reason=request.POST.get("reason", ""))
    messages.success(request, f"Grant #{pk} revoked: decisions deny it from now on.")
    return redirect_back(request, grant.agent)
