"""Agent inventory pages: list, register, detail, edit, status transitions, reassignment."""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from kernel.errors import Forbidden, NotFound
from kernel.filtering import page_rows
from kernel.http import AuthenticatedHttpRequest, form_status, paginate, requires, submit
from kernel.permissions import Action, AnyUser, can, require
from kernel.sorting import sort_rows
from registry import permissions, rules
from registry.agent_sections import sections_for
from registry.filters import AGENT_SORT
from registry.forms import AgentFilterForm, AgentForm, AgentReassignForm, AgentStatusForm
from registry.models import Agent
from registry.rules import is_orphaned
from registry.selectors import agents as selectors
from registry.services import agents as services

PAGE_SIZE = 25


@require_safe
@requires(Action.VIEW_INVENTORY)
def agent_list(request: HttpRequest) -> HttpResponse:
    filters = AgentFilterForm(request.GET or None)
    agents = page_rows(filters, selectors.agent_list, filters=request.GET)
    agents, sort = sort_rows(agents, AGENT_SORT, request.GET)
    page, query = paginate(request, agents, PAGE_SIZE)
    stale_before = rules.stale_before()
    return render(
        request,
        "registry/agent_list.html",
        {
            "filters": filters,
            "page": page,
            "query": query,
            "stale_before": stale_before,
            "stale_days": settings.ATTESTATION_MAX_AGE.days,
            "sort": sort,
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
    if agent is None:
        saved = submit(request, form, services.agent_register)
        done = "Agent {slug} registered. You own it."
    else:
        saved = submit(request, form, services.agent_update, agent=agent)
        done = "Agent {slug} updated."
    if saved is not None:
        messages.success(request, done.format(slug=saved.slug))
        return redirect(saved)
    return render(
        request,
        "registry/agent_form.html",
        {"form": form, "agent": agent},
        status=form_status(form),
    )


@require_safe
@requires(Action.VIEW_INVENTORY)
def agent_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _agent_page(request, selectors.agent_get(slug))


def _agent_page(
    request: HttpRequest, agent: Agent, reassign_form: AgentReassignForm | None = None
) -> HttpResponse:
    """An agent's page; with a refused `reassign_form`, that form with its errors and what was
    typed (a 400)."""
    user = request.user
    if reassign_form is None and can(user, Action.REASSIGN_AGENT):
        reassign_form = AgentReassignForm(agent=agent)
    context = {
        "agent": agent,
        "stale": rules.is_stale(agent),
        "stale_days": settings.ATTESTATION_MAX_AGE.days,
        "can_edit": permissions.can_edit_agent(user, agent),
        "can_attest": permissions.can_attest_agent(user, agent),
        "sections": sections_for(agent, user),
        "orphaned": is_orphaned(agent),
        "reassign_form": reassign_form,
    }
    return render(request, "registry/agent_detail.html", context, status=form_status(reassign_form))


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


@dataclass(frozen=True)
class Transition:
    """A status step from the agent's page: its service, the role it needs (who exactly may,
    the service decides; `refusal(user, agent)` says it first, so nobody is shown a form they
    may not submit), what the confirmation says will happen, and the message after."""

    service: Callable[..., Agent]
    action: Action
    label: str
    consequence: str
    done: str
    reason_required: bool = True
    refusal: Callable[[AnyUser, Agent], str | None] | None = None


TRANSITIONS = {
    "suspend": Transition(
        services.agent_suspend,
        Action.SUSPEND_AGENT,
        "Suspend",
        "Every decision for {slug} becomes deny at once; its grants stay but cannot be used "
        "until it is reactivated. Its owner is told why.",
        "Agent {slug} suspended: every decision is now deny.",
    ),
    "reactivate": Transition(
        services.agent_reactivate,
        Action.SUSPEND_AGENT,
        "Reactivate",
        "Decisions for {slug} follow the policy again, with its grants and exceptions.",
        "Agent {slug} reactivated.",
    ),
    "retire": Transition(
        services.agent_retire,
        Action.REGISTER_AGENT,
        "Retire",
        "{slug} leaves service for good: every decision becomes deny and it cannot be "
        "reactivated or attested.",
        "Agent {slug} retired.",
        reason_required=False,
        refusal=permissions.edit_refusal,
    ),
}


@requires(Action.VIEW_INVENTORY)
@require_http_methods(["GET", "HEAD", "POST"])
def agent_transition(request: AuthenticatedHttpRequest, slug: str, transition: str) -> HttpResponse:
    """Attest (a POST from the agent's page), or suspend, reactivate, retire: a confirmation
    page that asks why (GET), then the step (POST)."""
    if transition == "attest":
        if request.method != "POST":
            return redirect("registry:agent-detail", slug=slug)
        require(request.user, Action.REGISTER_AGENT)
        agent = services.agent_attest(actor=request.user, agent=selectors.agent_get(slug))
        messages.success(request, f"Attested: {agent.slug} is still needed and still yours.")
        return redirect(agent)
    if transition not in TRANSITIONS:
        raise NotFound(f"Unknown action '{transition}': suspend, reactivate, retire or attest.")
    step = TRANSITIONS[transition]
    require(request.user, step.action)  # the step's own role gate, before the agent is read
    agent = selectors.agent_get(slug)
    if step.refusal is not None and (refused := step.refusal(request.user, agent)):
        raise Forbidden(refused)  # the service's own refusal, before the form is shown
    form = AgentStatusForm(request.POST or None, required=step.reason_required)
    if done := submit(request, form, step.service, agent=agent):
        messages.success(request, step.done.format(slug=done.slug))
        return redirect(done)
    context = {
        "heading": f"{step.label} {agent.name} ({agent.slug})?",
        "consequence": step.consequence.format(slug=agent.slug),
        "form": form,
        "submit": f"{step.label} {agent.slug}",
        "danger": transition != "reactivate",
        "cancel_url": agent.get_absolute_url(),
    }
    return render(request, "confirm.html", context, status=form_status(form))


@requires(Action.REASSIGN_AGENT)
@require_POST
def agent_reassign(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    agent = selectors.agent_get(slug)
    form = AgentReassignForm(request.POST, agent=agent)
    reassigned = submit(request, form, services.agent_reassign, agent=agent)
    if reassigned is None:
        return _agent_page(request, agent, form)
    agent = reassigned
    messages.success(request, f"Agent {agent.slug} now belongs to {agent.owner.username}.")
    return redirect(agent)
