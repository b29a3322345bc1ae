"""Helpers for testing your own agent code or scripts against the offline sandbox.

``sandbox_client()`` gives an MCP client connected, in memory, to an rtk-mcp server backed by the
built-in RealtimeKit emulator: no account, no network, no subprocess. ``call()`` calls one tool and
returns its structured result, raising :class:`ToolError` (an ``AssertionError``, so pytest shows it
as a test failure) with the error text the agent would read when the result is an error::

    from rtk_mcp.testing import SEED, call, sandbox_client

    async def test_my_flow():
        async with sandbox_client() as client:
            meeting = await call(client, "create_meeting", {"title": "Standup"})
            host = await call(client, "add_participant", {"meeting_id": meeting["id"], "name": "Ada",
                                                          "preset_name": "group_call_host",
                                                          "custom_participant_id": "ada"})
            assert host["token"]

Use ``sandbox_client`` as an ``async with`` block inside the test itself, not in an async yield
fixture: the MCP client's task group must be entered and exited in the same task.

Each ``sandbox_client()`` starts from the seeded data (ids in :data:`SEED`) unless ``state_path``
names a state file, which is then shared by every client and process opened on it (like
``--sandbox-state``): each call is one transaction on the file, so none of their writes is lost.

People joining, speaking, chatting and leaving happen outside the REST API (in RealtimeKit's
client SDKs), so they are not tools: a :class:`Sandbox` does them, next to a client on its state::

    sandbox = Sandbox(clock=ManualClock())
    async with sandbox_client(sandbox=sandbox) as client:
        meeting = await call(client, "create_meeting", {"title": "Standup", "record_on_start": True})
        await call(client, "add_participant", {"meeting_id": meeting["id"], "name": "Ada",
                                                "preset_name": "group_call_host", "custom_participant_id": "ada"})
        await sandbox.join(meeting["id"], "ada")     # a new LIVE session; a recording starts
        await sandbox.say(meeting["id"], "ada", "Hello all")
        await sandbox.leave(meeting["id"], "ada")
        await sandbox.advance(120)                   # the keep-alive passes: the session ends
        await sandbox.deliver()                      # webhook deliveries due so far, signed
        print(sandbox.deliveries())

Failures on demand: :class:`Faults` makes every sandbox on a state file answer 401, 403, 429 or a
5xx, or end a recording ``ERRORED`` (which sends its ``recording.statusUpdate`` webhook)::

    Faults(state_path).fail(429, operation="create_meeting", times=1)

Lifecycles take time in the sandbox as in the service (a recording is ``INVOKED`` for a few
seconds, uploads after it stops, an empty live session ends after its keep-alive time). Pass a
:class:`ManualClock` to drive that time from the test instead of waiting::

    clock = ManualClock()
    async with sandbox_client(clock=clock) as client:
        started = await call(client, "start_recording", {"meeting_id": SEED.meeting_live})
        clock.advance(seconds=5)
        assert (await call(client, "get_recording", {"recording_id": started["id"]}))["status"] == "RECORDING"
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from os import PathLike
from typing import Any

from mcp import Client

from rtk_mcp.catalog.selection import select
from rtk_mcp.sandbox import (
    SANDBOX_APP_ID,
    SEED,
    Clock,
    ControlError,
    ManualClock,
    Sandbox,
    sandbox_settings,
)
from rtk_mcp.sandbox.faults import (
    Faults,  # failures on demand in a state file, re-exported for tests
)
from rtk_mcp.server import text_of

__all__ = [
    "SANDBOX_APP_ID", "SEED", "ControlError", "Faults", "ManualClock", "Sandbox", "ToolError", "call", "call_error",
    "sandbox_client", "text_of",
]


class ToolError(AssertionError):
    """A tool call returned ``isError``; ``message`` is the text the agent would have read."""

    def __init__(self, tool: str, arguments: dict[str, Any], message: str) -> None:
        super().__init__(f"{tool} failed: {message}")
        self.tool = tool
        self.arguments = arguments
        self.message = message


@asynccontextmanager
async def sandbox_client(
    state_path: str | PathLike[str] | None = None,
    *,
    toolsets: Iterable[str] = (),
    tools: Iterable[str] = (),
    exclude_tools: Iterable[str] = (),
    read_only: bool = False,
    clock: Clock | None = None,
    sandbox: Sandbox | None = None,
) -> AsyncIterator[Client]:
    """An MCP ``Client`` connected in memory to a sandboxed rtk-mcp server.

    The selection arguments mean what ``--toolsets``, ``--tools``, ``--exclude-tools`` and
    ``--read-only`` mean on the command line (all tools by default). The sandbox's app is the
    default ``app_id``, so tools can be called without one. *clock* (e.g. a :class:`ManualClock`)
    is the sandbox's time; real time by default. Pass a :class:`Sandbox` instead (which has its
    own state and clock) to make its people join, speak and leave while the client calls tools.
    """
    from rtk_mcp.server import build_server

    if sandbox is not None and (state_path is not None or clock is not None):
        raise TypeError("give either sandbox= or state_path/clock (a Sandbox has its own)")
    endpoints = select(toolsets=toolsets, tools=tools, exclude=exclude_tools, read_only=read_only)
    transport = (sandbox or Sandbox(state_path, clock=clock)).transport()
    server = build_server(sandbox_settings(), endpoints=endpoints, transport=transport)
    async with Client(server) as client:
        yield client


async def call(client: Client, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call ``tool`` and return its structured result; raise :class:`ToolError` on an error result."""
    arguments = arguments or {}
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        raise ToolError(tool, arguments, text_of(result))
    return result.structured_content or {}


async def call_error(client: Client, tool: str, arguments: dict[str, Any] | None = None) -> str:
    """Call ``tool`` expecting an error result; return its text, or raise ``AssertionError`` if it succeeded."""
    arguments = arguments or {}
    result = await client.call_tool(tool, arguments)
    if not result.is_error:
        raise AssertionError(f"{tool} was expected to fail but returned: {text_of(result)}")
    return text_of(result)
