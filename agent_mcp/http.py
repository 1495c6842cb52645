"""The MCP server over streamable HTTP, at /mcp in the portal's ASGI application.

Every request carries a bearer token: a person's API token, checked as the API checks it
(expiry and roles included), or a workload's subject token, verified as the token exchange
verifies it (agent_mcp.identity). Without one, or with one that is refused, the answer is the
MCP authorization specification's 401, whose WWW-Authenticate header points at the
protected-resource metadata document; a workload's trust provider whose keys cannot be read
now is a 503 that says so (nothing is decided on an unverified token)."""

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.http.request import split_domain_port, validate_host
from mcp.server.transport_security import TransportSecuritySettings

from agent_mcp.identity import SCOPE_CALLER, Unauthenticated, authenticate
from agent_mcp.server import build_server
from agent_mcp.views import MCP_PATH, metadata_url

Scope = MutableMapping[str, Any]
# Django's handler and the SDK's Starlette app spell their ASGI signatures differently.
ASGIApp = Callable[..., Awaitable[None]]

# What a caller must send (a description, not a secret).
NO_TOKEN = (
    "Send your portal API token, or the agent's workload subject token: "  # noqa: S105
    "Authorization: Bearer <token>."
)
LOCAL_HOSTS = [".localhost", "127.0.0.1", "[::1]"]


def mcp_asgi_app() -> ASGIApp:
    """The SDK's streamable HTTP app behind the bearer-token gate. Stateless, with JSON
    answers: any worker answers any call, nothing is kept between calls."""
    starlette = build_server().streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        json_response=True,
        # The gate checks the Host against ALLOWED_HOSTS, as Django does for every page; DNS
        # rebinding gains nothing anyway without the bearer token, which no browser sends.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    return _BearerTokenGate(starlette)


def with_mcp(django_app: ASGIApp) -> ASGIApp:
    """The portal's ASGI application: /mcp to the MCP server, everything else to Django.
    Lifespan events go to the MCP server (its session manager runs for the app's life);
    Django's ASGI handler has none."""
    mcp_app = mcp_asgi_app()

    async def application(scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan" or scope.get("path") == MCP_PATH:
            await mcp_app(scope, receive, send)
        else:
            await django_app(scope, receive, send)

    return application


class _BearerTokenGate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.lower(): value.decode("latin-1") for name, value in scope["headers"]}
        if not _host_allowed(headers.get(b"host", "")):
            await _respond(
                send, 400, {"error": "invalid_request", "error_description": "Bad host."}
            )
            return
        kind, _, key = headers.get(b"authorization", "").partition(" ")
        if kind.lower() != "bearer" or not key.strip():
            await _unauthorized(send, None)
            return
        try:
            caller = await sync_to_async(_authenticate, thread_sensitive=True)(key.strip())
        except Unauthenticated as error:
            if error.status == 503:
                await _unavailable(send, error.message)
            else:
                await _unauthorized(send, error.message)
            return
        await self.app({**scope, SCOPE_CALLER: caller}, receive, send)


def _authenticate(key: str) -> Any:
    close_old_connections()
    try:
        return authenticate(key)
    finally:
        close_old_connections()


def _host_allowed(host: str) -> bool:
    domain, _port = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS or (LOCAL_HOSTS if settings.DEBUG else [])
    return bool(domain) and validate_host(domain, allowed)


async def _unauthorized(send: Callable, invalid: str | None) -> None:
    challenge = f'Bearer resource_metadata="{metadata_url()}"'
    body = {"error": "unauthorized", "error_description": NO_TOKEN}
    if invalid is not None:
        challenge += f', error="invalid_token", error_description="{_header_safe(invalid)}"'
        body = {"error": "invalid_token", "error_description": invalid}
    await _respond(send, 401, body, [(b"www-authenticate", challenge.encode("latin-1"))])


def _header_safe(text: str) -> str:
    """`text` as RFC 6750 allows an error_description (printable ASCII, no quote nor
    backslash): the reason may echo what the token claims (its issuer, its key id), and a
    character outside that set, a line break above all, would break the header (a 500) or
    forge another. The JSON body keeps the reason as it is."""
    return "".join(
        "'" if ch == '"' else ch if " " <= ch <= "~" and ch != "\\" else "?" for ch in text
    )


async def _unavailable(send: Callable, reason: str) -> None:
    body = {"error": "temporarily_unavailable", "error_description": reason}
    await _respond(send, 503, body, [(b"retry-after", b"5")])


async def _respond(
    send: Callable, status: int, body: dict, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    content = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
    ]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": content})
