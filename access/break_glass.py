"""Break-glass: a production agent's owner takes emergency access at once.

The grant is issued without waiting for approval, security is alerted on commit, and a
security member reviews it after the fact (access.services.break_glass_review). It passes the
same filing checks as any request (access.filing.filing_checks), and stricter ones.
"""

from typing import Unpack

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone

from access import notifications
from access.filing import Asked, filing_checks
from access.limits import INCIDENT_NEEDED, TICKET_MAX_LENGTH
from access.models import AccessRequest, Grant, RequestStatus
from access.rules import grant_active_q
from access.services import grant_issue
from kernel.audit import audit_actor
from kernel.errors import ApplicationError, Forbidden
from kernel.notifications import queue_notice
from kernel.validation import required_text
from registry.models import Agent, Capability, Effect, Tier


@transaction.atomic
def break_glass_request(*, actor: User, incident: str, **asked: Unpack[Asked]) -> AccessRequest:
    """Emergency access for a production agent's owner: issued now, reviewed after the fact."""
    access_request, rule = filing_checks(actor, asked)
    agent, capability, duration_hours = asked["agent"], asked["capability"], asked["duration_hours"]
    if agent.tier != Tier.PRODUCTION or rule.effect != Effect.APPROVAL:
        raise ApplicationError(
            "Break-glass is for capabilities that need approval on production agents.",
            code="break_glass_not_applicable",
        )
    if agent.owner_id != actor.pk:
        raise Forbidden("Only the agent's owner may break glass.")
    _refuse_second(agent, capability)
    incident = required_text(incident, "incident", INCIDENT_NEEDED, limit=TICKET_MAX_LENGTH)
    ceiling = settings.BREAK_GLASS_MAX_HOURS
    if duration_hours > ceiling:
        raise ApplicationError(
            f"Break-glass access lasts at most {ceiling} hour{pluralize(ceiling)}.",
            code="duration_too_long",
            field="duration_hours",
            max_duration_hours=ceiling,
        )
    now = timezone.now()
    access_request.break_glass = True
    access_request.incident = incident
    access_request.status = RequestStatus.APPROVED
    access_request.required_approvals = 0
    access_request.decided_at = now
    with audit_actor(actor):
        access_request.save()
        grant_issue(access_request, now)
    queue_notice(notifications.break_glass_alert, access_request.pk)
    return access_request


def _refuse_second(agent: Agent, capability: Capability) -> None:
    """At most one emergency grant per agent and capability at a time, and none while an
    earlier one awaits security's review. The agent's row lock serialises two owners' clicks."""
    Agent.objects.select_for_update().filter(pk=agent.pk).first()
    earlier = (
        AccessRequest.objects.filter(agent=agent, capability=capability, break_glass=True)
        .filter(break_glass_reviewed_at__isnull=True)
        .values_list("pk", flat=True)
        .first()
    )
    if earlier is not None:
        raise ApplicationError(
            f"Break-glass request #{earlier} for {capability.key} on '{agent.slug}' still awaits "
            "security's review: ask security to review it before breaking glass again.",
            code="break_glass_unreviewed",
        )
    active = (
        Grant.objects.filter(grant_active_q(), agent=agent, capability=capability)
        .filter(request__break_glass=True)
        .values_list("pk", flat=True)
        .first()
    )
    if active is not None:
        raise ApplicationError(
            f"Break-glass grant #{active} for {capability.key} on '{agent.slug}' is still "
            "active: use it, or ask security to revoke it first.",
            code="break_glass_active",
        )
