import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django_application = get_asgi_application()

# After Django is set up: the MCP server's modules import models.
from agent_mcp.http import with_mcp  # noqa: E402

# /mcp is the portal's MCP server (streamable HTTP); everything else is Django.
application = with_mcp(django_application)
