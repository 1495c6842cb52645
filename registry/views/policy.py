"""The policy page: the published matrix, history, diffs, and security's draft editor."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from kernel.http import AuthenticatedHttpRequest, requires, valid_data
from kernel.permissions import Action, can
from registry.forms import PolicyRuleForm
from registry.models import Effect, Tier
from registry.selectors import policy as selectors
from registry.selectors.catalogue import capability_get
from registry.services import policy as services


@require_safe
@requires(Action.VIEW_INVENTORY)
def policy_overview(request: HttpRequest) -> HttpResponse:
    versions = list(selectors.policy_versions())
    published = selectors.policy_latest_published()
    shown = published
    if request.GET.get("version"):
        shown = selectors.policy_version_get(request.GET["version"])
    draft = selectors.policy_draft()
    diff = None
    if request.GET.get("diff") and request.GET.get("against"):
        new = selectors.policy_version_get(request.GET["diff"])
        old = selectors.policy_version_get(request.GET["against"])
        diff = {"new": new, "old": old, "changes": selectors.policy_diff(new, old)}
    drafting = draft is not None and can(request.user, Action.MANAGE_POLICY)
    return render(
        request,
        "registry/policy.html",
        {
            "tiers": Tier.choices,
            "effects": Effect.choices,
            "published": published,
            "shown": shown,
            "matrix": selectors.policy_matrix(shown),
            "draft": draft,
            "draft_matrix": selectors.policy_matrix(draft) if drafting else None,
            "versions": versions,
            "diff": diff,
        },
    )


@requires(Action.MANAGE_POLICY)
@require_POST
def policy_draft_open(request: AuthenticatedHttpRequest) -> HttpResponse:
    draft = services.policy_draft_create(actor=request.user, notes=request.POST.get("notes", ""))
    messages.success(request, f"Draft v{draft.number} opened from the published rules.")
    return redirect(reverse("registry:policy") + "#draft")


@requires(Action.MANAGE_POLICY)
@require_POST
def policy_draft_rule(request: AuthenticatedHttpRequest, number: int) -> HttpResponse:
    version = selectors.policy_version_get(number)
    data = valid_data(PolicyRuleForm(request.POST), "The rule was not saved")
    capability = capability_get(data["capability"])
    if data["effect"]:
        services.policy_rule_set(
            actor=request.user,
            version=version,
            tier=data["tier"],
            capability=capability,
            effect=data["effect"],
            max_duration_hours=data["max_duration_hours"],
        )
        messages.success(request, f"Draft v{number}: {data['tier']} {capability.key} saved.")
    else:
        services.policy_rule_remove(
            actor=request.user, version=version, tier=data["tier"], capability=capability
        )
        messages.success(request, f"Draft v{number}: {data['tier']} {capability.key} removed.")
    return redirect(reverse("registry:policy") + "#draft")


@requires(Action.MANAGE_POLICY)
@require_POST
def policy_draft_publish(request: AuthenticatedHttpRequest, number: int) -> HttpResponse:
    version = services.policy_publish(
        actor=request.user, version=selectors.policy_version_get(number)
    )
    messages.success(request, f"Policy v{version.number} published: decisions use it from now on.")
    return redirect("registry:policy")


@requires(Action.MANAGE_POLICY)
@require_POST
def policy_draft_discard(request: AuthenticatedHttpRequest, number: int) -> HttpResponse:
    services.policy_draft_discard(actor=request.user, version=selectors.policy_version_get(number))
    messages.success(request, f"Draft v{number} discarded.")
    return redirect("registry:policy")
