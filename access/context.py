"""What an approver reads beside a request: why it needs its approvers, who is still missing,
and (an approvals.context provider) the active grants of the agents being decided on."""

from collections import defaultdict
from collections.abc import Iterable, Sequence

from access.models import AccessRequest
from access.rules import grant_active_q
from access.selectors import grants_visible_to
from access.services import approver_rule_for
from approvals import rules
from kernel.permissions import AnyUser
from registry.models import Agent

# The grants listed per agent beside a subject; the agent page lists them all.
CONTEXT_GRANTS_SHOWN = 10


def with_approver_rules(requests: Iterable[AccessRequest]) -> None:
    """Why each request needs its approvers and who is still missing (approvals.rules)."""
    rules.with_approver_rules(requests, lambda r: approver_rule_for(r.agent, r.capability))


def agent_grants_context(agents: Sequence[Agent], user: AnyUser) -> dict:
    """approvals.context provider: the agents' active grants this person may read, soonest
    ending first (one query)."""
    grants = (
        grants_visible_to(user)
        .filter(grant_active_q(), agent__in=[agent.pk for agent in agents])
        .order_by("expires_at", "id")
    )
    by_agent: dict[int, list] = defaultdict(list)
    for grant in grants:
        if len(by_agent[grant.agent_id]) < CONTEXT_GRANTS_SHOWN:
            by_agent[grant.agent_id].append(grant)
    return {
        "key": "grants",
        "title": "Active grants",
        "template": "access/_context_grants.html",
        "empty": "No active grants.",
        "by_agent": by_agent,
    }
