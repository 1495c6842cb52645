"""Who may use the MCP server for which agent: the one rule every tool checks first."""

from access.permissions import can_request_for
from kernel.permissions import Action, AnyUser, can
from registry.models import Agent


def may_act_for(user: AnyUser, agent: Agent) -> bool:
    """An MCP client speaks for one agent on behalf of a person: the people who run the agent
    (its owner and team, who also request its access), and whoever may ask for any agent's
    decisions (security, gateways)."""
    return can(user, Action.CALL_DECISION_API) or can_request_for(user, agent)


def act_for_refusal(user: AnyUser, agent: Agent) -> str | None:
    if may_act_for(user, agent):
        return None
    return (
        f"Only the owner of agent '{agent.slug}', its team's members, security and gateways "
        "use the MCP server for it."
    )
