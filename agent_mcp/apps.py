from django.apps import AppConfig


class AgentMcpConfig(AppConfig):
    name = "agent_mcp"
    verbose_name = "The portal's MCP server"
