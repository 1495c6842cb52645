"""One small world for the MCP server's tests, committed (transactional_db) so that a server in
another thread or process reads it: Eve runs agent `coder` (production), Oscar runs
`other-bot`; one pending request for github:merge, one just-in-time grant for jira:write.
`workload`: a CI platform the portal trusts (real keys, a real JWKS server, the credentials
tests' own), whose pipeline is bound to `coder`: its subject tokens make coder act as itself."""

import socket
import threading
import time
from types import SimpleNamespace
from typing import Any

import anyio
import pytest
import uvicorn
from asgiref.sync import SyncToAsync
from django.db import connections
from mcp import Client, MCPError
from rest_framework.authtoken.models import Token

from access.services import access_request_submit
from credentials.models import TrustProvider
from kernel.roles import Role
from registry.models import Capability
from tests.credentials.conftest import bind, jwks_server, platform  # noqa: F401 (fixtures)
from tests.credentials.workload import GITHUB_CLAIMS, GITHUB_SUBJECT
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory, publish_policy

POLICY = {
    "production": {
        "github:read": ("allow", None),
        "github:merge": ("approval", 4),
        "jira:write": ("jit", 8),
        "deploy:release": ("deny", None),
    }
}
TOOLS = {
    "check_access",
    "my_access",
    "explain_policy",
    "request_status",
    "request_access",
    "get_credential",
}


@pytest.fixture
def world(transactional_db):
    eve = make_user("eve", Role.ENGINEER)
    oscar = make_user("oscar", Role.ENGINEER)
    security = make_user("sec1", Role.SECURITY)
    auditor = make_user("aud", Role.AUDITOR)
    publish_policy(POLICY, security)
    coder = AgentFactory(slug="coder", owner=eve, tier="production")
    other = AgentFactory(slug="other-bot", owner=oscar, tier="production")

    def submit(actor, agent, key, hours):
        return access_request_submit(
            actor=actor,
            agent=agent,
            capability=Capability.objects.get(key=key),
            justification="the task at hand",
            duration_hours=hours,
        )

    return SimpleNamespace(
        eve=eve,
        oscar=oscar,
        security=security,
        coder=coder,
        other=other,
        pending=submit(eve, coder, "github:merge", 2),
        jit=submit(eve, coder, "jira:write", 3),
        theirs=submit(oscar, other, "github:merge", 2),
        tokens={
            u.username: Token.objects.create(user=u).key for u in (eve, oscar, security, auditor)
        },
    )


@pytest.fixture
def workload(world, platform, jwks_server):  # noqa: F811 (the fixtures imported above)
    """`token()`: a fresh subject token of the pipeline bound to coder; `platform` mints
    others, `jwks_server` serves (or fails to serve) the platform's keys."""
    provider = TrustProvider.objects.create(
        slug="github-actions",
        name="GitHub Actions",
        issuer=platform.issuer,
        jwks_uri=jwks_server.url,
        audience=platform.audience,
    )
    binding = bind(world.coder, provider, GITHUB_SUBJECT, GITHUB_CLAIMS)
    return SimpleNamespace(
        token=lambda: platform.token(GITHUB_SUBJECT, **GITHUB_CLAIMS),
        identity=f"github-actions: {GITHUB_SUBJECT}",
        platform=platform,
        jwks_server=jwks_server,
        binding=binding,
    )


@pytest.fixture(scope="session")
def portal(django_db_setup):
    """The portal's ASGI application (its MCP server at /mcp) under uvicorn, in a thread, on
    the test database. One per session: the MCP session manager runs once per application."""
    from portal.asgi import application

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    # The server's ORM calls ran on asgiref's one sync thread: close its connections there
    # (PostgreSQL refuses to drop a test database someone is still connected to).
    SyncToAsync.single_thread_executor.submit(connections.close_all).result()
    server.should_exit = True
    thread.join(timeout=10)


def run_calls(server: Any, calls: list[tuple[str, dict]]) -> list[Any]:
    """Open one session to `server` (anything `mcp.Client` takes) and make the calls in it: a
    tool's name calls it; "tools/list", "resources/templates/list", "resources/read" {uri} and
    "prompts/get" {name, arguments} do what they say. A protocol error is returned, not raised."""

    async def one(client: Client, name: str, arguments: dict) -> Any:
        if name == "tools/list":
            return await client.list_tools()
        if name == "resources/templates/list":
            return await client.list_resource_templates()
        if name == "resources/read":
            return await client.read_resource(arguments["uri"])
        if name == "prompts/get":
            return await client.get_prompt(arguments["name"], arguments["arguments"])
        return await client.call_tool(name, arguments)

    async def session() -> list[Any]:
        results = []
        async with Client(server) as client:
            for name, arguments in calls:
                try:
                    results.append(await one(client, name, arguments))
                except MCPError as error:
                    results.append(error)
        return results

    return anyio.run(session)


def text_of(result: Any) -> str:
    return " ".join(block.text for block in result.content)


def refused(result: Any) -> str:
    """The message of a tool error (the call itself must not have been answered)."""
    assert result.is_error, result.structured_content
    return text_of(result)
