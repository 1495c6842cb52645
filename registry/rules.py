"""Rules about agents that lists, counts, pages and controls share: orphaned (the owner left)
and stale (not attested within ATTESTATION_MAX_AGE).

Orphaned agents: still in service, but their owner left (account deactivated).

Nobody answers for such an agent until security gives it a new owner
(registry.services.agents.agent_reassign). The rule is written twice, as an ORM `Q` for
lists, counts and AGC-08, and as a predicate for an agent already loaded; tests hold them to
the same answers.
"""

from datetime import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from registry.models import Agent, AgentStatus


def orphaned_q() -> Q:
    """Agents whose owner is deactivated and which are not retired (a retired agent needs
    no owner)."""
    return Q(owner__is_active=False) & ~Q(status=AgentStatus.RETIRED)


def is_orphaned(agent: Agent) -> bool:
    """`orphaned_q` for one agent (reads `agent.owner`: load it with the agent)."""
    return agent.status != AgentStatus.RETIRED and not agent.owner.is_active


def stale_before(now: datetime | None = None) -> datetime:
    """Agents last attested before this moment are stale (ATTESTATION_MAX_AGE: 90 days by
    default)."""
    return (now or timezone.now()) - settings.ATTESTATION_MAX_AGE


def stale_q(now: datetime | None = None) -> Q:
    """Agents whose attestation is missing or older than ATTESTATION_MAX_AGE."""
    return Q(last_attested_at__isnull=True) | Q(last_attested_at__lt=stale_before(now))


def attestation_overdue_q() -> Q:
    """Agents whose owner must re-attest: stale and not retired (a retired agent needs none).
    The dashboard counts them; the agents list's `stale` filter lists them."""
    return ~Q(status=AgentStatus.RETIRED) & stale_q()


def is_stale(agent: Agent, now: datetime | None = None) -> bool:
    """`stale_q`, for an agent already loaded."""
    return agent.last_attested_at is None or agent.last_attested_at < stale_before(now)
