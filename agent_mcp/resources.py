"""The MCP server's resources (the agent's registry record, the published policy for its tier)
and its prompt ("request access for this task"). Resources are read for one agent, with the
same rule as the tools; a refusal is a resource error carrying the portal's message."""

import json
from collections.abc import Mapping
from typing import Any

from mcp import MCPError
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.types import INVALID_PARAMS, Prompt

from agent_mcp import records
from agent_mcp.speaking import speak

AGENT_URI = "portal://agents/{slug}"
POLICY_URI = "portal://agents/{slug}/policy"


def register(server: MCPServer) -> None:
    server.resource(
        AGENT_URI,
        name="agent",
        title="The agent's registry record",
        mime_type="application/json",
    )(agent_resource)
    server.resource(
        POLICY_URI,
        name="tier-policy",
        title="The published policy for the agent's tier",
        mime_type="application/json",
    )(policy_resource)
    server.prompt(name="request-access-for-task", title="Request access for this task")(
        request_access_for_task
    )


async def agent_resource(slug: str, ctx: Context) -> str:
    """The agent's record in the portal's registry: owner, team, tier, status, repositories."""
    record = await speak(
        ctx, slug, lambda _caller, agent: records.agent_record(agent), ResourceError
    )
    return json.dumps(record)


async def policy_resource(slug: str, ctx: Context) -> str:
    """The rules of the latest published policy for the agent's tier."""
    policy = await speak(
        ctx, slug, lambda _caller, agent: records.tier_policy(agent), ResourceError
    )
    return policy.model_dump_json()


def prompt_refusal(
    prompts: list[Prompt], name: str, arguments: Mapping[str, Any]
) -> MCPError | None:
    """What is wrong with a prompts/get (an unknown prompt, a required argument missing, an
    argument the prompt does not take), as the invalid-params error that says so; None if
    nothing. The SDK would answer each with "Internal server error" and log a traceback."""
    prompt = next((prompt for prompt in prompts if prompt.name == name), None)
    if prompt is None:
        known = ", ".join(repr(prompt.name) for prompt in prompts)
        return MCPError(INVALID_PARAMS, f"Unknown prompt {name!r}; this server has {known}")
    takes = {argument.name: argument.required for argument in prompt.arguments or []}
    if missing := sorted(
        arg for arg, required in takes.items() if required and arg not in arguments
    ):
        return MCPError(INVALID_PARAMS, f"Missing required arguments: {', '.join(missing)}")
    if unknown := sorted(repr(arg) for arg in arguments if arg not in takes):
        return MCPError(
            INVALID_PARAMS,
            f"Unknown arguments: {', '.join(unknown)}; {name!r} takes {', '.join(sorted(takes))}",
        )
    return None


def request_access_for_task(task: str) -> str:
    """Work out which capabilities a task needs and how to get the ones the agent lacks."""
    return (
        f"The task: {task}\n\n"
        "Before starting, find out whether this agent may do everything the task needs:\n"
        "1. Call my_access to see what the agent may do now.\n"
        "2. For each capability the task needs that is not allowed, call explain_policy: it "
        "says the rule for the agent's tier, its maximum duration and how to get access.\n"
        "3. For each missing capability that may be requested, call request_access (the "
        "capability, its scope, a justification drawn from the task, a duration within the "
        "maximum); say which ones only a policy exception allows.\n"
        "4. Tell me what you requested and who must act (the owner confirms what the agent "
        "filed itself; security approves); follow each with request_status. Do not start the "
        "parts of the task that would be refused."
    )
