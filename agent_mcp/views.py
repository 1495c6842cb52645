"""The protected-resource metadata document (RFC 9728) that MCP clients read after a 401."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

MCP_PATH = "/mcp"
METADATA_PATH = "/.well-known/oauth-protected-resource"


def resource_url() -> str:
    return settings.PORTAL_ISSUER + MCP_PATH


def metadata_url() -> str:
    return settings.PORTAL_ISSUER + METADATA_PATH


@require_GET
def protected_resource_metadata(request: HttpRequest) -> HttpResponse:
    # No `authorization_servers`: the portal's authorization server only exchanges workload
    # tokens; people send their API token as the bearer token (clients configure the header).
    return JsonResponse(
        {
            "resource": resource_url(),
            "resource_name": "Agent Governance Portal MCP server",
            "bearer_methods_supported": ["header"],
            "resource_documentation": settings.PORTAL_ISSUER + "/api/docs/",
        }
    )
