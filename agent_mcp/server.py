"""The portal's MCP server: its tools, each a thin async shell around `agent_mcp.tools`.

A tool call speaks for one agent. Over HTTP the caller is the bearer token's (set in the ASGI
scope by `agent_mcp.http`): a person, who names the agent in the `agent` argument, or the
agent acting as itself (a workload's subject token), which speaks only for itself. Over stdio
both are fixed when the process starts (`manage.py mcp --agent <slug>` with PORTAL_TOKEN).
Every refusal is a tool error (`isError`) whose text says what to do, never a protocol error."""

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import GetPromptResult, InputRequiredResult, ToolAnnotations
from pydantic import AfterValidator, Field

from access.limits import DURATION_HOURS_INPUT_MAX, SCOPE_MAX_LENGTH, TICKET_MAX_LENGTH
from agent_mcp import answers, resources, stdio, tools
from agent_mcp.identity import StdioSpeaker
from agent_mcp.speaking import speak
from credentials.limits import CAPABILITIES_PER_TOKEN_MAX, RESOURCE_MAX_LENGTH
from kernel.validation import TEXT_MAX_LENGTH

NAME = "agent-governance-portal"
INSTRUCTIONS = (
    "The Agent Governance Portal decides what this coding agent may do. Before an action that "
    "may be refused, call check_access; on a refusal, explain_policy says how to get access "
    "and request_access asks for it; my_access lists everything the agent may do now; "
    "request_status follows an access request. An agent acting as itself (workload token) "
    "gets its short-lived credential with get_credential."
)


def _without_nul(value: str | None) -> str | None:
    """PostgreSQL stores no NUL character: an argument with one is refused by name, as the
    pages and the API refuse it (kernel.middleware), instead of failing in the database."""
    if value is not None and "\x00" in value:
        raise ValueError("contains a NUL (\\0) character; remove it")
    return value


NoNul = AfterValidator(_without_nul)
AgentArg = Annotated[
    str | None,
    Field(
        description="The slug of the agent you speak for. Required over HTTP with a person's "
        "token; with the agent's own workload token, or over stdio, the server already knows "
        "it."
    ),
    NoNul,
]
CapabilityArg = Annotated[
    str, Field(description="The capability, written tool:action (e.g. github:read)."), NoNul
]
ScopeArg = Annotated[
    str,
    Field(
        description="Optional scope, e.g. a repository (org/repo); empty for none.",
        max_length=SCOPE_MAX_LENGTH,
    ),
    NoNul,
]
RequestIdArg = Annotated[int, Field(description="The access request's number.", ge=1)]
JustificationArg = Annotated[
    str,
    Field(
        description="Why the agent needs this access: the task, in a sentence or two.",
        min_length=1,
        max_length=TEXT_MAX_LENGTH,
    ),
    NoNul,
]
DurationArg = Annotated[
    int,
    Field(
        description="For how many hours (at most what the policy allows: see explain_policy).",
        ge=1,
        le=DURATION_HOURS_INPUT_MAX,
    ),
]
TicketArg = Annotated[
    str,
    Field(description="Optional ticket, e.g. JIRA-1234.", max_length=TICKET_MAX_LENGTH),
    NoNul,
]
CapabilitiesArg = Annotated[
    list[Annotated[str, NoNul]],
    Field(
        description="The capabilities the token is for, each tool:action (e.g. github:read).",
        min_length=1,
        max_length=CAPABILITIES_PER_TOKEN_MAX,
    ),
]
ResourceArg = Annotated[
    str,
    Field(
        description="Optional scope the token is limited to, e.g. a repository (org/repo).",
        max_length=RESOURCE_MAX_LENGTH,
    ),
    NoNul,
]


class PortalMCPServer(MCPServer):
    def __init__(self, *, stdio: StdioSpeaker | None = None) -> None:
        super().__init__(NAME, title="Agent Governance Portal", instructions=INSTRUCTIONS)
        self.stdio = stdio

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None, context: Context | None = None
    ) -> GetPromptResult | InputRequiredResult:
        """The SDK's, with a bad name or arguments an invalid-params error that says what."""
        refusal = resources.prompt_refusal(await self.list_prompts(), name, arguments or {})
        if refusal is not None:
            raise refusal
        return await super().get_prompt(name, arguments, context)

    async def run_stdio_async(self) -> None:
        """The SDK's stdio loop, answering a line it cannot read (see `agent_mcp.stdio`)."""
        await stdio.serve(self._lowlevel_server)


def build_server(*, stdio: StdioSpeaker | None = None) -> PortalMCPServer:
    server = PortalMCPServer(stdio=stdio)
    reads = ToolAnnotations(read_only_hint=True)
    server.add_tool(check_access, title="May the agent do this now?")
    server.add_tool(my_access, title="Everything the agent may do now", annotations=reads)
    server.add_tool(
        explain_policy, title="The policy rule and how to get access", annotations=reads
    )
    server.add_tool(request_status, title="Where an access request stands", annotations=reads)
    server.add_tool(request_access, title="Ask for access")
    server.add_tool(get_credential, title="A short-lived credential for the agent itself")
    resources.register(server)
    return server


async def check_access(
    capability: CapabilityArg, ctx: Context, scope: ScopeArg = "", agent: AgentArg = None
) -> answers.AccessCheck:
    """Whether the agent may use a capability now (the decision a gateway would get), and why.
    The decision is recorded in the portal's decision log."""
    return await speak(
        ctx, agent, lambda caller, a: tools.check_access(caller, a, capability, scope)
    )


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
    return await speak(ctx, agent, lambda caller, a: tools.request_status(caller, a, request_id))


async def request_access(
    capability: CapabilityArg,
    justification: JustificationArg,
    duration_hours: DurationArg,
    ctx: Context,
    scope: ScopeArg = "",
    ticket: TicketArg = "",
    agent: AgentArg = None,
) -> answers.RequestStatusAnswer:
    """Ask for access, under the published policy (explain_policy says what it allows).
    With a person's token it is filed as that person: just-in-time access is granted at once,
    the rest waits for security. With the agent's own workload token it is filed "by the agent
    for its owner" and waits for the owner (or the agent's team) to confirm it before security
    sees it. Follow it with request_status."""

    def file(caller, a):
        return tools.request_access(
            caller,
            a,
            capability=capability,
            justification=justification,
            duration_hours=duration_hours,
            scope=scope,
            ticket=ticket,
        )

    return await speak(ctx, agent, file)


async def get_credential(
    capabilities: CapabilitiesArg, ctx: Context, scope: ResourceArg = "", agent: AgentArg = None
) -> answers.CredentialAnswer:
    """For an agent acting as itself (called with its workload token): a short-lived access
    token for the capabilities, through the portal's token exchange. Every capability must be
    allowed now; a refusal names each denied one and why. The token verifies against the
    portal's published keys (/.well-known/jwks.json)."""
    return await speak(
        ctx, agent, lambda caller, a: tools.get_credential(caller, a, capabilities, scope)
    )
