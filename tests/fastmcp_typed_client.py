"""Run by tests/results/test_output_schemas.py in the FastMCP 2 environment: call two tools of an rtk-mcp
started with --output-schemas and print what FastMCP's typed result (``result.data``) holds."""

import asyncio
import json
import sys

from fastmcp import Client
from fastmcp.client.transports import StdioTransport


def fields(value):
    return sorted(vars(value)) if hasattr(value, "__dict__") else None


async def main() -> None:
    python, server_args = sys.argv[1], sys.argv[2:]
    async with Client(StdioTransport(command=python, args=server_args)) as client:
        listed = await client.call_tool("list_meetings", {})
        first = listed.data.data[0]
        meeting = await client.call_tool("get_meeting", {"meeting_id": first.id})
        print(json.dumps({
            "list_class": type(listed.data).__name__,
            "list_fields": fields(listed.data),
            "item_class": type(first).__name__,
            "item_fields": fields(first),
            "meeting_fields": fields(meeting.data),
            "meeting_title": meeting.data.title,
            "meeting_id_matches": meeting.data.id == first.id,
        }))


asyncio.run(main())
