"""Who may use the MCP server for which agent, and for what: the rules every tool and resource
checks, in one place. They build on the API's rules (kernel.permissions, registry and access
permissions); an agent acting as itself (a workload token) only ever speaks for itself."""

from access.permissions import can_request_for
from agent_mcp.identity import Caller, Person, Workload
from kernel.permissions import Action, can
from registry.models import Agent
from registry.permissions import AGENT_RECORDS_REFUSAL, may_read_agent_records

CREDENTIAL_FOR_WORKLOADS = (
    "get_credential is for an agent acting as itself: call the MCP server with the workload's "
    "subject token (e.g. its GitHub Actions or Kubernetes token) as the bearer token. A "
    "person's API token gets no agent credential."
)


def act_for_refusal(caller: Caller, agent: Agent) -> str | None:
    """Why this caller may not speak for `agent`, or None.

    A workload speaks only for the agent its identity is bound to. A person speaks for the
    agents they run (owner, team: who also request their access), or for any agent when they
    may ask for any agent's decisions (security, gateways)."""
    if isinstance(caller, Workload):
        if agent.pk == caller.agent_id:
            return None
        return (
            f"This token is the workload identity of agent '{caller.agent_slug}': it acts as "
            f"that agent only, and may not see or request anything for agent '{agent.slug}'."
        )
    if can(caller.user, Action.CALL_DECISION_API) or can_request_for(caller.user, agent):
        return None
    return (
        f"Only the owner of agent '{agent.slug}', its team's members, security and gateways "
        "use the MCP server for it."
    )


def records_refusal(caller: Caller, agent: Agent) -> str | None:
    """Why this caller may not read what the agent holds (grants, exceptions, effective
    access), or None: the agent itself may; a person as the API says."""
    if isinstance(caller, Workload):
        return act_for_refusal(caller, agent)
    return None if may_read_agent_records(caller.user, agent) else AGENT_RECORDS_REFUSAL


def credential_refusal(caller: Caller) -> str | None:
    """Only an agent acting as itself gets a credential, for itself (the token exchange)."""
    return CREDENTIAL_FOR_WORKLOADS if isinstance(caller, Person) else None
