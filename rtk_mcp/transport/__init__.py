"""How MCP reaches the server: stdio (the default) and Streamable HTTP, each on the SDK's public API."""
