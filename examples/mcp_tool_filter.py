"""An MCP gateway's filter: show an agent only the tools the portal allows it, asking once.

A gateway between a coding agent and a downstream MCP server answers the agent's `tools/list`
with the downstream list narrowed to what the portal allows now: one `POST
/api/v1/decisions/batch/` for the whole list (not one decision per tool), each answer in the
order asked. A tool the portal does not know, or any refusal, hides the tool; if the portal
cannot be reached the gateway shows nothing (fail closed).

Standard library only, so it drops into any gateway:

    tools = downstream_result["tools"]          # the downstream server's tools/list result
    shown = allowed_tools(tools, agent="payments-fixer",
                          portal="https://portal.example.com", token=GATEWAY_TOKEN)

Each MCP tool maps to a portal capability `tool:action`; by default a tool named
`github__merge` (or `github.merge`) is the capability `github:merge`. Pass `capability_of` for
another naming, and `scope` (e.g. the repository) when the agent works on one.
"""

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

BATCH_PATH = "/api/v1/decisions/batch/"
BATCH_MAX = 1000  # the portal's limit per batch


def capability_of_name(tool: dict[str, Any]) -> str:
    """`github__merge` or `github.merge` -> `github:merge`."""
    name = str(tool.get("name", ""))
    for separator in ("__", "."):
        if separator in name:
            service, action = name.split(separator, 1)
            return f"{service}:{action}"
    return name


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _decide(asks: list[dict[str, str]], *, portal: str, token: str, timeout: float) -> list[str]:
    body = json.dumps({"requests": asks}).encode()
    request = urllib.request.Request(  # noqa: S310 (the portal's own https URL, configured)
        portal.rstrip("/") + BATCH_PATH,
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        results = json.load(response)["results"]
    return [result["decision"] for result in results]


def allowed_tools(
    tools: list[dict[str, Any]],
    *,
    agent: str,
    portal: str,
    token: str,
    scope: str = "",
    capability_of: Callable[[dict[str, Any]], str] = capability_of_name,
    timeout: float = 5.0,
) -> list[dict[str, Any]]:
    """The tools the portal allows `agent` now, in their order: one batch per 1,000 tools."""
    asks = [
        {"agent": agent, "capability": capability_of(tool), **({"scope": scope} if scope else {})}
        for tool in tools
    ]
    decisions: list[str] = []
    try:
        for chunk in _chunks(asks, BATCH_MAX):
            decisions.extend(_decide(chunk, portal=portal, token=token, timeout=timeout))
    except (urllib.error.URLError, TimeoutError, KeyError, ValueError):
        return []  # fail closed: no answer from the portal, no tools
    return [tool for tool, decision in zip(tools, decisions, strict=True) if decision == "allow"]
