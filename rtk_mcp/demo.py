"""``rtk-mcp demo``: a scripted walkthrough against the sandbox, through the MCP protocol.

Each step prints the tool called, its arguments and the trimmed result an agent would read.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from mcp import Client
from mcp.server.lowlevel import Server

from rtk_mcp.sandbox import SEED
from rtk_mcp.server import text_of

_MAX_SHOWN = 600  # characters of each result printed, so the walkthrough stays readable


async def run_demo(server: Server[Any]) -> int:
    async with Client(server) as client:

        async def step(title: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
            print(f"\n== {title}\n-> {tool} {json.dumps(arguments)}")
            result = await client.call_tool(tool, arguments)
            text = text_of(result)
            shown = text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + f"... ({len(text)} characters)"
            print(("<- ERROR " if result.is_error else "<- ") + shown)
            if result.is_error:
                raise SystemExit(f"demo step failed: {tool}")
            return result.structured_content or {}

        listed = await client.list_tools()
        print(f"rtk-mcp demo: {len(listed.tools)} tools, served by the offline sandbox (no account, no network)")
        await step("Which apps does the account have?", "list_apps", {})
        meeting = await step("Create a meeting", "create_meeting",
                             {"title": "Demo standup", "record_on_start": False, "persist_chat": True})
        meeting_id = meeting["id"]
        host = await step("Add a host", "add_participant", {"meeting_id": meeting_id, "name": "Ada",
                                                           "preset_name": "group_call_host",
                                                           "custom_participant_id": "ada@example.com"})
        await step("Add a guest", "add_participant", {"meeting_id": meeting_id, "name": "Grace",
                                                     "preset_name": "group_call_participant",
                                                     "custom_participant_id": "grace@example.com"})
        await step("Refresh the host's join token", "refresh_participant_token",
                   {"meeting_id": meeting_id, "participant_id": host["id"]})
        await step("Who is in the meeting?", "list_meeting_participants", {"meeting_id": meeting_id})
        # Recording needs people in the meeting: the sandbox's live standup has four.
        live = SEED.meeting_live
        await step("Who is in the live standup right now?", "get_active_session", {"meeting_id": live})
        recording = await step("Start recording it", "start_recording", {"meeting_id": live})
        await step("The meeting's active recording", "get_active_recording", {"meeting_id": live})
        await step("Stop the recording", "update_recording", {"recording_id": recording["id"], "action": "stop"})
        await step("Past sessions of the app", "list_sessions", {"status": "ENDED", "per_page": 2})
        session_id = SEED.session_ended
        await step("Who attended that session?", "list_session_participants", {"session_id": session_id})
        await step("What was said first? (a window of its transcript)", "get_session_transcript",
                   {"session_id": session_id, "limit": 3})
        bad = await client.call_tool("get_meeting", {"meeting_id": "no-such-meeting"})
        print("\n== A mistake, as an agent sees it\n-> get_meeting {\"meeting_id\": \"no-such-meeting\"}")
        print("<- ERROR " + text_of(bad))
        summary = await step("What are the action items from that meeting?", "get_session_summary",
                             {"session_id": session_id, "include_content": True})
        print("\n" + _section(summary["content"]["text"], "Action items"))
    print("\nDone. Try `rtk-mcp tools`, or `rtk-mcp call list_meetings --sandbox`.", file=sys.stderr)
    return 0


def _section(markdown: str, title: str) -> str:
    """The Markdown section headed ``title`` (heading included), or the whole text if there is none."""
    lines = markdown.splitlines()
    starts = [i for i, line in enumerate(lines) if line.lstrip("#* ").rstrip("*: ").lower() == title.lower()]
    if not starts:
        return markdown
    end = next((i for i in range(starts[0] + 1, len(lines)) if lines[i].startswith("#")), len(lines))
    return "\n".join(lines[starts[0]:end]).strip()
