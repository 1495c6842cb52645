"""Orphaned agents: still in service, but their owner left (account deactivated).

Nobody answers for such an agent until security gives it a new owner
(registry.services.agents.agent_reassign). The rule is written twice, as an ORM `Q` for
lists, counts and AGC-08, and as a predicate for an agent already loaded; tests hold them to
the same answers.
"""

from django.db.models import Q

from registry.models import Agent, AgentStatus


def orphaned_q() -> Q:
    """Agents whose owner is deactivated and which are not retired (a retired agent needs
    no owner)."""
    return Q(owner__is_active=False) & ~Q(status=AgentStatus.RETIRED)


def is_orphaned(agent: Agent) -> bool:
    """`orphaned_q` for one agent (reads `agent.owner`: load it with the agent)."""
    return agent.status != AgentStatus.RETIRED and not agent.owner.is_active
