"""Agent inventory pages: list, register, detail, edit, status transitions, reassignment."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from kernel.errors import ApplicationError, Forbidden
from kernel.filtering import InvalidFilters
from kernel.http import AuthenticatedHttpRequest, paginate, requires, valid_data
from kernel.permissions import Action, can, require
from registry import permissions
from registry.agent_sections import sections_for
from registry.forms import AgentFilterForm, AgentForm, AgentReassignForm
from registry.models import Agent
from registry.rules import is_orphaned
from registry.selectors import agents as selectors
from registry.services import agents as services

PAGE_SIZE = 25


def form_error(form, exc: ApplicationError | ValidationError) -> None:
    """Show a service's refusal on the form: on its field when it names one."""
    if isinstance(exc, ValidationError):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@require_safe
@requires(Action.VIEW_INVENTORY)
def agent_list(request: HttpRequest) -> HttpResponse:
    filters = AgentFilterForm(request.GET or None)
    try:
        agents = selectors.agent_list(filters=request.GET)
    except InvalidFilters as exc:
        exc.show_on(filters)
        agents = Agent.objects.none()
    page, query = paginate(request, agents, PAGE_SIZE)
    stale_before = selectors.stale_before()
    return render(
        request,
        "registry/agent_list.html",
        {
            "filters": filters,
            "page": page,
            "query": query,
            "stale_before": stale_before,
            # Owners come with the rows (select_related): no query per row.
            "orphaned": {agent.pk for agent in page if is_orphaned(agent)},
        },
    )


@requires(Action.REGISTER_AGENT)
def agent_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _agent_form_page(request, None, AgentForm(request.POST or None, user=request.user))


def _agent_form_page(
    request: AuthenticatedHttpRequest, agent: Agent | None, form: AgentForm
) -> HttpResponse:
    """The agent form: registers an agent (`agent` None) or edits it; a refusal shows on it."""
    if request.method == "POST" and form.is_valid():
        try:
            if agent is None:
                saved = services.agent_register(actor=request.user, **form.cleaned_data)
                done = f"Agent {saved.slug} registered. You own it."
            else:
                saved = services.agent_update(actor=request.user, agent=agent, **form.cleaned_data)
                done = f"Agent {saved.slug} updated."
        except (ApplicationError, ValidationError) as exc:
            form_error(form, exc)
        else:
            messages.success(request, done)
            return redirect(saved)
    return render(request, "registry/agent_form.html", {"form": form, "agent": agent})


@require_safe
@requires(Action.VIEW_INVENTORY)
def agent_detail(request: HttpRequest, slug: str) -> HttpResponse:
    agent = selectors.agent_get(slug)
    user = request.user
    context = {
        "agent": agent,
        "stale": selectors.is_stale(agent),
        "can_edit": permissions.can_edit_agent(user, agent),
        "can_attest": permissions.can_attest_agent(user, agent),
        "sections": sections_for(agent, user),
        "orphaned": is_orphaned(agent),
        "reassign_form": (
            AgentReassignForm(agent=agent) if can(user, Action.REASSIGN_AGENT) else None
        ),
    }
    return render(request, "registry/agent_detail.html", context)


@requires(Action.REGISTER_AGENT)
def agent_edit(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    agent = selectors.agent_get(slug)
    if refusal := permissions.edit_refusal(request.user, agent):
        raise Forbidden(refusal)
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
    return _agent_form_page(request, agent, form)


# transition -> (service, message, the role it needs; who exactly may, the service decides)
TRANSITIONS = {
    "attest": (
        services.agent_attest,
        "Attested: {slug} is still needed and still yours.",
        Action.REGISTER_AGENT,
    ),
    "suspend": (
        services.agent_suspend,
        "Agent {slug} suspended: every decision is now deny.",
        Action.SUSPEND_AGENT,
    ),
    "reactivate": (services.agent_reactivate, "Agent {slug} reactivated.", Action.SUSPEND_AGENT),
    "retire": (services.agent_retire, "Agent {slug} retired.", Action.REGISTER_AGENT),
}


@requires(Action.VIEW_INVENTORY)
@require_POST
def agent_transition(request: AuthenticatedHttpRequest, slug: str, transition: str) -> HttpResponse:
    if transition not in TRANSITIONS:
        raise ApplicationError(f"Unknown action '{transition}'.", code="not_found")
    service, message, action = TRANSITIONS[transition]
    require(request.user, action)  # the transition's own role gate, before the agent is read
    agent = service(actor=request.user, agent=selectors.agent_get(slug))
    messages.success(request, message.format(slug=agent.slug))
    return redirect(agent)


@requires(Action.REASSIGN_AGENT)
@require_POST
def agent_reassign(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    agent = selectors.agent_get(slug)
    data = valid_data(
        AgentReassignForm(request.POST, agent=agent), f"Agent {agent.slug} was not reassigned"
    )
    agent = services.agent_reassign(actor=request.user, agent=agent, **data)
    messages.success(request, f"Agent {agent.slug} now belongs to {agent.owner.username}.")
    return redirect(agent)
