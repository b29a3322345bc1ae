"""rtk-mcp: the Cloudflare RealtimeKit REST API as MCP tools for AI agents."""

__version__ = "0.1.0"
