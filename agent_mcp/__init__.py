"""The portal's MCP server: coding agents ask, through the Model Context Protocol, what they may
do and why, ask for access, follow their requests and, acting as themselves, fetch their
short-lived credential. Tools call the same services as the API."""
