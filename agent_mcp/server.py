"""The portal's MCP server: its tools, each a thin async shell around `agent_mcp.tools`.

A tool call speaks for one agent. Over HTTP the person is the bearer token's (set in the ASGI
scope by `agent_mcp.http`) and the agent is the `agent` argument; over stdio both are fixed
when the process starts (`manage.py mcp --agent <slug>` with PORTAL_TOKEN). Every refusal is
a tool error (`isError`) whose text says what to do, never a protocol error."""

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from access.limits import SCOPE_MAX_LENGTH
from agent_mcp import answers, resources, tools
from agent_mcp.identity import StdioSpeaker
from agent_mcp.speaking import speak

NAME = "agent-governance-portal"
INSTRUCTIONS = (
    "The Agent Governance Portal decides what this coding agent may do. Before an action that "
    "may be refused, call check_access; on a refusal, explain_policy says how to get access; "
    "my_access lists everything the agent may do now; request_status follows an access request."
)

AgentArg = Annotated[
    str | None,
    Field(
        description="The slug of the agent you speak for. Required over HTTP with a person's "
        "token; over stdio the server already knows it (manage.py mcp --agent)."
    ),
]
CapabilityArg = Annotated[
    str, Field(description="The capability, written tool:action (e.g. github:read).")
]
ScopeArg = Annotated[
    str,
    Field(
        description="Optional scope, e.g. a repository (org/repo); empty for none.",
        max_length=SCOPE_MAX_LENGTH,
    ),
]
RequestIdArg = Annotated[int, Field(description="The access request's number.", ge=1)]


class PortalMCPServer(MCPServer):
    def __init__(self, *, stdio: StdioSpeaker | None = None) -> None:
        super().__init__(NAME, title="Agent Governance Portal", instructions=INSTRUCTIONS)
        self.stdio = stdio


def build_server(*, stdio: StdioSpeaker | None = None) -> PortalMCPServer:
    server = PortalMCPServer(stdio=stdio)
    reads = ToolAnnotations(read_only_hint=True)
    server.add_tool(check_access, title="May the agent do this now?")
    server.add_tool(my_access, title="Everything the agent may do now", annotations=reads)
    server.add_tool(
        explain_policy, title="The policy rule and how to get access", annotations=reads
    )
    server.add_tool(request_status, title="Where an access request stands", annotations=reads)
    resources.register(server)
    return server


async def check_access(
    capability: CapabilityArg, ctx: Context, scope: ScopeArg = "", agent: AgentArg = None
) -> answers.AccessCheck:
    """Whether the agent may use a capability now (the decision a gateway would get), and why.
    The decision is recorded in the portal's decision log."""
    return await speak(ctx, agent, lambda user, a: tools.check_access(user, a, capability, scope))


async def my_access(ctx: Context, agent: AgentArg = None) -> answers.EffectiveAccess:
    """The agent's effective access: every capability, its decision, the reason, until when."""
    return await speak(ctx, agent, tools.my_access)


async def explain_policy(
    capability: CapabilityArg, ctx: Context, agent: AgentArg = None
) -> answers.PolicyExplanation:
    """The published policy rule for the agent's tier on a capability, its maximum duration,
    and how to get access (request it, wait for security, or ask for a policy exception)."""
    return await speak(ctx, agent, lambda _user, a: tools.explain_policy(a, capability))


async def request_status(
    request_id: RequestIdArg, ctx: Context, agent: AgentArg = None
) -> answers.RequestStatusAnswer:
    """Where an access request for the agent stands: its status, the approvals so far, and its
    grant with the time left."""
    return await speak(ctx, agent, lambda user, a: tools.request_status(user, a, request_id))
