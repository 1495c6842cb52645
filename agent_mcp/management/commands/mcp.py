"""`manage.py mcp --agent <slug>`: the portal's MCP server over stdio, for an agent running on a
developer's machine (Claude Code, Cursor, VS Code start it as a subprocess)."""

import os

import anyio
from django.core.management.base import BaseCommand, CommandError
from rest_framework.exceptions import AuthenticationFailed

from agent_mcp import tools
from agent_mcp.identity import Person, StdioSpeaker, failure_text, token_user
from agent_mcp.server import build_server
from kernel.errors import ApplicationError

NO_TOKEN = (
    "Set PORTAL_TOKEN to your portal API token (POST /api/v1/auth/token/): the MCP server "  # noqa: S105
    "speaks for the agent on your behalf."
)


class Command(BaseCommand):
    help = (
        "Serve the portal's MCP server over stdio for one agent, on behalf of the person whose "
        "API token is in PORTAL_TOKEN."
    )
    # Clients start this process for every session: skip the system checks (`manage.py check`
    # and CI run them), which would double its start-up time.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--agent", required=True, help="the slug of the agent it speaks for")

    def handle(self, *args, **options):
        slug = options["agent"]
        token = os.environ.get("PORTAL_TOKEN", "").strip()
        if not token:
            raise CommandError(NO_TOKEN)
        # Refuse at start, not at the first tool call: the client shows this message.
        try:
            tools.agent_for(Person(token_user(token)), slug)
        except AuthenticationFailed as error:
            raise CommandError(f"PORTAL_TOKEN was refused: {failure_text(error)}") from None
        except ApplicationError as error:
            raise CommandError(error.message) from None
        server = build_server(stdio=StdioSpeaker(token=token, agent=slug))
        anyio.run(server.run_stdio_async)
