"""Trust pages: providers (everyone reads, security manages), the portal's signing keys and
refused exchanges, issued credentials, and identity bindings on the agent page; thin over the
services."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from access.models import Grant
from approvals.steps import decision_steps
from credentials import permissions, selectors
from credentials.forms import BindingForm, CredentialFilterForm, ProviderDeleteForm, ProviderForm
from credentials.keys import key_age_days
from credentials.models import (
    BindingStatus,
    IdentityBinding,
    IssuedCredential,
    SigningKey,
    TrustProvider,
)
from credentials.services import bindings as binding_services
from credentials.services import providers as provider_services
from kernel.errors import ApplicationError, Forbidden, NotFound
from kernel.filtering import page_rows
from kernel.http import (
    AuthenticatedHttpRequest,
    form_status,
    paginate,
    requires,
    submit,
)
from kernel.permissions import Action, AnyUser, can
from registry.models import Agent
from registry.selectors.agents import agent_get

PAGE_SIZE = 50
REFUSED_SHOWN = 50
KEYS_SHOWN = 10


def _signing_keys() -> list[dict[str, Any]]:
    """The latest keys (never their private part), with their age and whether it is too old."""
    now = timezone.now()
    keys = SigningKey.objects.only(
        "kid", "algorithm", "created_at", "retired_at", "publish_until"
    ).order_by("-created_at", "-id")[:KEYS_SHOWN]
    rows = []
    for key in keys:
        active, age = key.retired_at is None, key_age_days(key, now)
        published = active or (key.publish_until is not None and key.publish_until > now)
        too_old = active and age > settings.SIGNING_KEY_MAX_AGE_DAYS
        rows.append(
            {
                "key": key,
                "age_days": age,
                "active": active,
                "published": published,
                "too_old": too_old,
            }
        )
    return rows


def _providers_context(user: AnyUser) -> dict[str, Any]:
    live = Q(bindings__status__in=selectors.LIVE_BINDING_STATUSES)
    context: dict[str, Any] = {
        "providers": selectors.provider_list().annotate(live_bindings=Count("bindings", live)),
        "max_key_age": settings.SIGNING_KEY_MAX_AGE_DAYS,
    }
    if can(user, Action.MANAGE_TRUST):
        context["form"] = ProviderForm()
    if can(user, Action.VIEW_CREDENTIALS):
        context["keys"] = _signing_keys()
        context["refused"] = selectors.refused_exchanges(REFUSED_SHOWN)
    return context


@require_safe
@requires(Action.VIEW_PORTAL)
def providers(request: HttpRequest) -> HttpResponse:
    return render(request, "credentials/providers.html", _providers_context(request.user))


@requires(Action.MANAGE_TRUST)
def provider_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ProviderForm(request.POST or None)
    if provider := submit(request, form, provider_services.provider_create):
        messages.success(request, f"Trust provider {provider.slug} added.")
        return redirect("credentials:providers")
    return _provider_form_page(request, form, provider=None)


@requires(Action.MANAGE_TRUST)
def provider_edit(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    provider = selectors.provider_get(slug)
    initial = {name: getattr(provider, name) for name in provider_services.EDITABLE}
    form = ProviderForm(request.POST or None, initial=initial, editing=True)
    if submit(request, form, provider_services.provider_update, provider=provider):
        messages.success(request, f"Trust provider {provider.slug} updated.")
        return redirect("credentials:providers")
    return _provider_form_page(request, form, provider=provider)


def _provider_form_page(
    request: HttpRequest, form: ProviderForm, *, provider: TrustProvider | None
) -> HttpResponse:
    """The add and edit form (`provider` None when adding), with its errors' status."""
    return render(
        request,
        "credentials/provider_form.html",
        {"form": form, "provider": provider},
        status=form_status(form),
    )


@requires(Action.MANAGE_TRUST)
def provider_delete(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    provider = selectors.provider_get(slug)
    form = ProviderDeleteForm(request.POST or None, slug=provider.slug)
    if submit(request, form, _delete_confirmed, provider=provider):
        messages.success(request, f"Trust provider {slug} deleted.")
        return redirect("credentials:providers")
    return render(
        request,
        "credentials/provider_confirm_delete.html",
        {"form": form, "provider": provider},
        status=form_status(form),
    )


def _delete_confirmed(*, actor: User, provider: TrustProvider, confirm: str) -> TrustProvider:
    """The delete form's typed slug has done its job (the form checked it)."""
    return provider_services.provider_delete(actor=actor, provider=provider)


def _allowed_by(credentials: list[IssuedCredential]) -> dict[int, list[tuple[str, str]]]:
    """What allowed each credential, as (label, link) pairs: its grants (linked to their
    access request) and exceptions; none means the policy allows it outright."""
    grant_ids = {pk for credential in credentials for pk in credential.grant_ids}
    requests = dict(Grant.objects.filter(pk__in=grant_ids).values_list("pk", "request_id"))
    allowed = {}
    for credential in credentials:
        reasons = [
            (
                f"grant #{pk}",
                reverse("access:request-detail", args=[requests[pk]]) if requests.get(pk) else "",
            )
            for pk in credential.grant_ids
        ]
        reasons += [
            (f"exception #{pk}", reverse("exceptions:detail", args=[pk]))
            for pk in credential.exception_ids
        ]
        allowed[credential.pk] = reasons
    return allowed


@require_safe
@requires(Action.VIEW_CREDENTIALS)
def credential_list(request: HttpRequest) -> HttpResponse:
    filters = CredentialFilterForm(request.GET or None)
    credentials = page_rows(filters, selectors.credential_list, filters=request.GET)
    page, query = paginate(request, credentials, PAGE_SIZE)
    allowed = _allowed_by(list(page))
    now = timezone.now()
    rows = [
        {"credential": c, "allowed_by": allowed[c.pk], "live": c.expires_at > now} for c in page
    ]
    return render(
        request,
        "credentials/credential_list.html",
        {"filters": filters, "page": page, "rows": rows, "query": query},
    )


def _check_may_bind(user: AnyUser, agent: Agent) -> None:
    if reason := permissions.bind_refusal(user, agent):
        raise Forbidden(reason)


@requires(Action.REGISTER_AGENT)
def binding_add(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    """The agent page's form posts here; a refused binding comes back on this form page."""
    agent = agent_get(slug)
    _check_may_bind(request.user, agent)
    form = BindingForm(request.POST or None)
    if binding := submit(request, form, binding_services.binding_add, agent=agent):
        if binding.status == BindingStatus.PENDING:
            message = f"Binding #{binding.pk} added: awaiting security approval."
        else:
            message = f"Binding #{binding.pk} added: active."
        messages.success(request, message)
        return redirect(binding)
    return render(
        request,
        "credentials/binding_form.html",
        {"form": form, "agent": agent},
        status=form_status(form),
    )


@requires(Action.REGISTER_AGENT)
def binding_remove(request: AuthenticatedHttpRequest, slug: str, pk: int) -> HttpResponse:
    """A confirmation page (GET) and the removal (POST)."""
    agent = agent_get(slug)
    binding = selectors.binding_get_for_user(request.user, agent, pk)
    _check_may_bind(request.user, agent)
    error = ""
    if request.method == "POST":
        try:
            binding_services.binding_remove(actor=request.user, binding=binding)
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, f"Binding #{binding.pk} removed: it issues nothing more.")
            return redirect(agent)
    return render(
        request,
        "credentials/binding_confirm_remove.html",
        {"binding": binding, "agent": agent, "error": error},
        status=form_status(refused=bool(error)),
    )


def _binding_get_for_user(user: AnyUser, pk: int) -> IdentityBinding:
    try:
        return (
            permissions.bindings_visible_to(user)
            .select_related("agent", "agent__team", "provider")
            .get(pk=pk)
        )
    except IdentityBinding.DoesNotExist:
        raise NotFound(f"No identity binding #{pk}.") from None


binding_approve, binding_reject = decision_steps(
    noun="binding",
    subject="binding",
    load=_binding_get_for_user,
    approve=binding_services.binding_approve,
    refuse=binding_services.binding_reject,
    approved=BindingStatus.ACTIVE,
    outcome="it is active",
)
