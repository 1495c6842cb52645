"""What credentials add to other pages: the agent page section (bindings and recent
credentials), the approval queue section (bindings awaiting security) and dashboard panels
(bindings waiting for my approval, an old signing key, refused exchanges)."""

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from approvals.queue import awaiting_approval_section, waiting_in_queue
from credentials import permissions
from credentials.forms import BindingForm
from credentials.keys import key_age_days
from credentials.limits import REFUSED_EXCHANGES_SHOWN_DAYS
from credentials.models import BindingStatus, RefusedExchange, SigningKey
from credentials.rules import required_approvals_for
from credentials.selectors import (
    bindings_awaiting,
    bindings_of,
    credentials_of,
    overlapping_binding,
)
from kernel.permissions import Action, AnyUser, can
from registry.models import Agent, AgentStatus
from registry.permissions import reads_records_of

AGENT_PAGE_CREDENTIALS = 10
HELD_BY = "held_by"  # on a binding of the agent page: the other agent's binding it overlaps


def agent_identities_section(agent: Agent, user: AnyUser) -> dict | None:
    """Who may present itself as this agent, and what the portal issued to it lately."""
    if not can(user, Action.VIEW_PORTAL):
        return None
    visible = reads_records_of(user, agent)
    can_bind = permissions.bind_refusal(user, agent) is None
    bindings = list(bindings_of(agent)) if visible else []
    needs_approval = required_approvals_for(agent) > 0
    for binding in bindings:
        # Below production a pending binding waits for no approval: it was left pending because
        # it overlaps another agent's (credentials.services.bindings.bindings_release).
        held = binding.status == BindingStatus.PENDING and not needs_approval
        setattr(binding, HELD_BY, overlapping_binding(binding) if held else None)
    return {
        "key": "identities",
        "title": "Workload identities and credentials",
        "template": "credentials/_agent_section.html",
        "agent": agent,
        "visible": visible,
        "bindings": bindings,
        "needs_approval": needs_approval,
        "waiting": sum(b.status == BindingStatus.PENDING for b in bindings)
        if needs_approval
        else 0,
        "credentials": credentials_of(agent, AGENT_PAGE_CREDENTIALS) if visible else [],
        "can_bind": can_bind,
        "form": BindingForm() if can_bind and agent.status != AgentStatus.RETIRED else None,
        "now": timezone.now(),
    }


def approval_queue_section(user: AnyUser) -> dict | None:
    if not can(user, Action.APPROVE):
        return None
    return awaiting_approval_section(
        key="identity-bindings",
        title="Workload identity bindings awaiting approval",
        items=list(bindings_awaiting(user)),
        noun="binding",
        columns=["Agent", "Provider", "Subject and claims", "Requested"],
        cells_template="credentials/_queue_cells.html",
        approve_url="credentials:binding-approve",
        refuse_url="credentials:binding-reject",
        refuse_label="Reject",
        empty="No binding waits for you.",
    )


def credential_panels(user: AnyUser) -> list[dict]:
    """Security: bindings waiting for my approval, the active signing key when it is older
    than allowed, refused exchanges."""
    panels: list[dict] = []
    if can(user, Action.APPROVE):
        panels.append(
            waiting_in_queue(
                "bindings-awaiting-me",
                "Identity bindings waiting for my approval",
                bindings_awaiting(user).count(),
                "identity-bindings",
                rank=13,
            )
        )
    if not can(user, Action.MANAGE_TRUST):
        return panels
    key = SigningKey.objects.filter(retired_at__isnull=True).first()
    if key is not None and key_age_days(key) > settings.SIGNING_KEY_MAX_AGE_DAYS:
        panels.append(
            {
                "key": "signing-key-age",
                "title": f"Signing key older than {settings.SIGNING_KEY_MAX_AGE_DAYS} days",
                "value": f"{key.kid}: {key_age_days(key)} days",
                "link": reverse("credentials:providers"),
                "link_label": "Rotate it: manage.py rotate_signing_key --as <you>",
            }
        )
    since = timezone.now() - timedelta(days=REFUSED_EXCHANGES_SHOWN_DAYS)
    refused = RefusedExchange.objects.filter(at__gte=since).count()
    if refused:
        panels.append(
            {
                "key": "refused-exchanges",
                "title": f"Token exchanges refused (last {REFUSED_EXCHANGES_SHOWN_DAYS} days)",
                "value": refused,
                "link": reverse("credentials:providers") + "#refused",
                "link_label": "See who tried",
            }
        )
    return panels
