"""The portal's MCP server: coding agents ask, through the Model Context Protocol, what they may
do, why, and where their access requests stand. Tools call the same services as the API."""
