"""Agent inventory pages: list, register, detail, edit, status transitions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from kernel.errors import ApplicationError
from registry import permissions
from registry.agent_sections import sections_for
from registry.forms import AgentFilterForm, AgentForm
from registry.selectors import agents as selectors
from registry.services import agents as services

PAGE_SIZE = 25


def _require_inventory_reader(request: HttpRequest) -> None:
    if not permissions.can_view_inventory(request.user):
        raise PermissionDenied("Your role may not read the agent inventory.")


def form_error(form, exc: ApplicationError | ValidationError) -> None:
    """Show a service's refusal on the form: on its field when it names one."""
    if isinstance(exc, ValidationError):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@require_safe
@login_required
def agent_list(request: HttpRequest) -> HttpResponse:
    _require_inventory_reader(request)
    filters = AgentFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_valid() else {}
    agents = selectors.agent_list(
        tier=criteria.get("tier") or None,
        team=criteria["team"].slug if criteria.get("team") else None,
        owner=criteria["owner"].username if criteria.get("owner") else None,
        status=criteria.get("status") or None,
        search=criteria.get("search") or None,
    )
    page = Paginator(agents, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    stale_before = selectors.stale_before()
    return render(
        request,
        "registry/agent_list.html",
        {
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
            "stale_before": stale_before,
            "can_register": permissions.can_register_agent(request.user),
        },
    )


@login_required
def agent_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can_register_agent(request.user):
        raise PermissionDenied("Only engineers and security register agents.")
    form = AgentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            agent = services.agent_register(actor=request.user, **form.cleaned_data)
        except (ApplicationError, ValidationError) as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Agent {agent.slug} registered. You own it.")
            return redirect(agent)
    return render(request, "registry/agent_form.html", {"form": form, "agent": None})


@require_safe
@login_required
def agent_detail(request: HttpRequest, slug: str) -> HttpResponse:
    _require_inventory_reader(request)
    agent = selectors.agent_get(slug)
    user = request.user
    context = {
        "agent": agent,
        "stale": selectors.is_stale(agent),
        "can_edit": permissions.can_edit_agent(user, agent),
        "can_attest": permissions.can_attest_agent(user, agent),
        "can_suspend": permissions.can_suspend_agent(user),
        "sections": sections_for(agent, user),
    }
    return render(request, "registry/agent_detail.html", context)


@login_required
def agent_edit(request: HttpRequest, slug: str) -> HttpResponse:
    agent = selectors.agent_get(slug)
    if not permissions.can_edit_agent(request.user, agent):
        raise PermissionDenied("Only the agent's owner, its team's members and security edit it.")
    initial = {
        "name": agent.name,
        "team": agent.team,
        "tier": agent.tier,
        "workload_identity": agent.workload_identity,
        "vendor": agent.vendor,
        "description": agent.description,
        "repositories": agent.repositories,
    }
    form = AgentForm(request.POST or None, user=request.user, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.agent_update(actor=request.user, agent=agent, **form.cleaned_data)
        except (ApplicationError, ValidationError) as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"Agent {agent.slug} updated.")
            return redirect(agent)
    return render(request, "registry/agent_form.html", {"form": form, "agent": agent})


TRANSITIONS = {
    "attest": (services.agent_attest, "Attested: {slug} is still needed and still yours."),
    "suspend": (services.agent_suspend, "Agent {slug} suspended: every decision is now deny."),
    "reactivate": (services.agent_reactivate, "Agent {slug} reactivated."),
    "retire": (services.agent_retire, "Agent {slug} retired."),
}


@login_required
@require_POST
def agent_transition(request: HttpRequest, slug: str, transition: str) -> HttpResponse:
    if transition not in TRANSITIONS:
        raise ApplicationError(f"Unknown action '{transition}'.", code="not_found")
    service, message = TRANSITIONS[transition]
    agent = service(actor=request.user, agent=selectors.agent_get(slug))
    messages.success(request, message.format(slug=agent.slug))
    return redirect(agent)
