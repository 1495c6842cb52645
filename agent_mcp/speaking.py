"""Speaking for one agent: who the caller is (a person or the agent itself; HTTP or stdio),
which agent, and the one place where the portal's refusals become MCP errors (tool errors for
tools, resource errors for resources), never crashes."""

from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import MCPServerError, ToolError
from rest_framework.exceptions import AuthenticationFailed

from agent_mcp import tools
from agent_mcp.identity import (
    SCOPE_CALLER,
    Caller,
    Person,
    StdioSpeaker,
    Workload,
    failure_text,
    token_user,
)
from kernel.errors import ApplicationError
from registry.models import Agent

T = TypeVar("T")


async def speak(
    ctx: Context,
    agent: str | None,
    call: Callable[[Caller, Agent], T],
    refused: type[MCPServerError] = ToolError,
) -> T:
    """Run `call` for the caller and agent of this request, off the event loop; a refusal
    raises `refused` (ToolError: an isError result the model reads) with its message."""
    request = ctx.request_context.request
    http_caller = getattr(request, "scope", {}).get(SCOPE_CALLER) if request is not None else None
    stdio = getattr(ctx.mcp_server, "stdio", None)
    answer = sync_to_async(_answer, thread_sensitive=True)
    return await answer(http_caller, stdio, agent, call, refused)


def _answer(
    http_caller: Caller | None,
    stdio: StdioSpeaker | None,
    agent: str | None,
    call: Callable[..., Any],
    refused: type[MCPServerError],
) -> Any:
    # A long-lived server outlives many calls: drop connections past CONN_MAX_AGE or broken,
    # as Django does around each request.
    close_old_connections()
    try:
        caller, slug = _speaker(http_caller, stdio, agent)
        return call(caller, tools.agent_for(caller, slug))
    except ApplicationError as error:
        raise refused(error.message) from None
    except _Refusal as error:
        raise refused(str(error)) from None
    finally:
        close_old_connections()


class _Refusal(Exception):
    pass


def _speaker(
    http_caller: Caller | None, stdio: StdioSpeaker | None, agent: str | None
) -> tuple[Caller, str]:
    if isinstance(http_caller, Workload):
        # The agent acting as itself: named or not, the agent is its own (agent_for refuses
        # any other).
        return http_caller, agent or http_caller.agent_slug
    if http_caller is not None:
        if not agent:
            raise _Refusal(
                "Say which agent you speak for: the `agent` argument (its slug) is required "
                "with a person's token."
            )
        return http_caller, agent
    if stdio is None:
        raise _Refusal("Not authenticated.")
    if agent and agent != stdio.agent:
        raise _Refusal(
            f"This server speaks for agent '{stdio.agent}' (manage.py mcp --agent "
            f"{stdio.agent}); it cannot answer for '{agent}'."
        )
    try:
        return Person(token_user(stdio.token)), stdio.agent
    except AuthenticationFailed as error:
        raise _Refusal(f"PORTAL_TOKEN was refused: {failure_text(error)}") from None
