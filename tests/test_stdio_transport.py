"""Serving over stdio (``rtk_mcp/stdio.py``), driven as a client drives it: a real subprocess.

stdout carries only JSON-RPC even when something prints; input of any shape never stops serving;
requests read before the end of input are answered (within a bounded grace) before the process exits;
a client that goes away ends the process quietly; descriptors are left blocking.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import anyio
import pytest

from tests.stdio_session import (
    INITIALIZE,
    INITIALIZED,
    ROOT,
    JsonHandler,
    clean_env,
    jsonrpc_lines,
    loopback_api,
    stdio_session,
    tool_call,
)

#: A server whose one tool prints to stdout three ways; after serving it prints once more.
NOISY_SERVER = """
import os, subprocess, sys, anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from rtk_mcp.stdio import stdio_transport

async def list_tools(ctx, params):
    return types.ListToolsResult(tools=[types.Tool(name="noisy", input_schema={"type": "object"})])

async def call_tool(ctx, params):
    print("stray print")
    sys.stdout.flush()
    os.write(1, b"stray write\\n")
    subprocess.run([sys.executable, "-c", "print('stray child')"], check=True)
    return types.CallToolResult(content=[types.TextContent(type="text", text="done")])

async def main():
    server = Server("noisy", on_list_tools=list_tools, on_call_tool=call_tool)
    async with stdio_transport() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
    print("after serving")

anyio.run(main)
"""


def _text(answer: dict) -> str:
    return answer["result"]["content"][0]["text"]


def _cancel(request_id: object) -> dict:
    return {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": request_id}}


async def test_stray_output_goes_to_stderr_and_stdout_carries_only_json_rpc() -> None:
    async with stdio_session(argv=(sys.executable, "-c", NOISY_SERVER)) as server:
        await server.initialize()
        assert _text(await server.request("tools/call", {"name": "noisy", "arguments": {}})) == "done"
        assert await server.end_input() == 0
    *wire, after = server.stdout_lines
    assert [json.loads(line)["id"] for line in wire] == [1, 2]
    for stray in ("stray print", "stray write", "stray child"):
        assert stray in server.stderr
    assert after == b"after serving\n"  # stdout is the wire again once serving is over


async def test_garbage_and_a_70_mib_line_do_not_stop_serving() -> None:
    async with stdio_session("--sandbox") as server:
        await server.initialize()
        await server.write(b"not json at all\n\n")
        huge = await server.call("list_apps", {"fields": ["x" * (70 << 20)]})
        after = await server.call("list_apps")
    # The garbage line is answered as JSON-RPC requires (the blank one is nothing to answer).
    assert [a["error"]["code"] for a in server.answers.get(None, [])] == [-32700]
    # The huge call is answered (refused by the string limit, naming the field), and serving goes on.
    assert huge["isError"] and "'fields'" in huge["content"][0]["text"]
    assert "Sandbox App" in after["content"][0]["text"]


async def test_requests_piped_before_input_ends_are_all_answered() -> None:
    """``printf '...' | rtk-mcp``: the end of input comes right after the last request."""
    async with stdio_session("--sandbox") as server:
        await server.write(jsonrpc_lines(INITIALIZE, INITIALIZED, *(tool_call(n, "list_apps") for n in range(1, 6))))
        assert await server.end_input() == 0
    assert sorted(server.answers) == [0, 1, 2, 3, 4, 5]
    assert all("Sandbox App" in _text(server.answers[n][0]) for n in range(1, 6))


class GatedMeetings(JsonHandler):
    """Meetings are answered once the test opens ``gate`` (``search=fast``: at once); ``arrived`` is set
    when such a request reaches the API. Anything else is answered at once."""

    gate = threading.Event()
    arrived = threading.Event()
    url = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if "/meetings" in self.path and "fast" not in self.path:
            self.arrived.set()
            self.gate.wait(60)
        self.answer({"success": True, "data": [{"id": "m1"}]})


@pytest.fixture
def gated_api() -> Iterator[type[GatedMeetings]]:
    class Gated(GatedMeetings):
        gate = threading.Event()
        arrived = threading.Event()

    with loopback_api(Gated) as Gated.url:
        yield Gated
        Gated.gate.set()  # no handler thread outlives the test


def _live(url: str) -> dict[str, str]:
    return clean_env(CLOUDFLARE_API_TOKEN="t", CLOUDFLARE_ACCOUNT_ID="a", RTK_APP_ID="app", RTK_API_BASE_URL=url)


async def _until_arrived(api: type[GatedMeetings]) -> None:
    assert await anyio.to_thread.run_sync(api.arrived.wait, 30), "the call never reached the API"


async def test_a_call_still_waiting_on_the_api_when_input_ends_is_answered(gated_api) -> None:
    async with stdio_session(env=_live(gated_api.url)) as server:
        # The same id twice (one slow, one fast): a client may reuse an id, and both are answered.
        await server.write(jsonrpc_lines(INITIALIZE, INITIALIZED, tool_call(7, "list_meetings"),
                                         tool_call(7, "list_meetings", {"search": "fast"})))
        await _until_arrived(gated_api)
        await server.process.stdin.aclose()
        gated_api.gate.set()
        assert await server.end_input() == 0
    assert len(server.answers[7]) == 2 and all('"m1"' in _text(answer) for answer in server.answers[7])


async def test_a_call_that_outlasts_the_grace_is_answered_as_cancelled_and_the_process_exits(gated_api) -> None:
    async with stdio_session(env=_live(gated_api.url)) as server:
        await server.write(jsonrpc_lines(INITIALIZE, INITIALIZED, tool_call(9, "list_meetings")))
        await _until_arrived(gated_api)
        assert await server.end_input() == 0  # the gate stays shut: only the grace ends the call
    (answer,) = server.answers[9]
    assert "error" in answer or answer["result"].get("isError")


@pytest.mark.parametrize("request_id", [9, "9"], ids=["same id", "id as a string, correlated as the SDK does"])
async def test_a_call_the_client_cancelled_does_not_hold_the_process_at_end_of_input(gated_api, request_id) -> None:
    async with stdio_session(env=_live(gated_api.url)) as server:
        await server.write(jsonrpc_lines(INITIALIZE, INITIALIZED, tool_call(9, "list_meetings")))
        await _until_arrived(gated_api)
        await server.write(jsonrpc_lines(_cancel(request_id), _cancel(True)))  # a bool is no id: ignored
        await server.process.stdin.aclose()
        with anyio.fail_after(5):  # well inside the grace: nothing was left to wait for
            assert await server.process.wait() == 0
    assert 9 not in server.answers  # a cancelled request gets no answer


async def test_invalid_utf8_and_bare_carriage_returns_still_get_answers() -> None:
    latin1 = json.dumps(tool_call(2, "list_meetings", {"search": "caf\u00e9"})).replace("\\u00e9", "\u00e9")
    async with stdio_session("--sandbox") as server:
        await server.write(jsonrpc_lines(INITIALIZE, INITIALIZED) + latin1.encode("latin-1") + b"\n"
                           + jsonrpc_lines(tool_call(3, "list_apps"))[:-1] + b"\r" + jsonrpc_lines(tool_call(4, "list_apps")))
        assert await server.end_input() == 0
    assert sorted(server.answers) == [0, 2, 3, 4]
    assert "result" in server.answers[2][0]  # the replacement character is just part of the search text


def _sandbox(stdin: int = subprocess.PIPE) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "rtk_mcp", "--sandbox"], stdin=stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT, env=clean_env())


def test_a_client_that_goes_away_mid_session_ends_the_process_quietly() -> None:
    with _sandbox() as session:
        assert session.stdin and session.stdout and session.stderr
        session.stdin.write(jsonrpc_lines(INITIALIZE))
        session.stdin.flush()
        assert json.loads(session.stdout.readline())["id"] == 0
        session.stdout.close()  # the client is gone: nobody reads the answers below
        session.stdin.write(jsonrpc_lines(INITIALIZED, tool_call(2, "list_apps")))
        session.stdin.close()
        assert session.wait(30) == 0
        stderr = session.stderr.read().decode()
    assert "Traceback" not in stderr and "Error" not in stderr


def test_descriptors_are_left_blocking() -> None:
    """A pipe end we share with the server (as a terminal is shared) must not come back non-blocking."""
    read_end, write_end = os.pipe()
    try:
        with _sandbox(stdin=read_end) as session:
            os.write(write_end, jsonrpc_lines(INITIALIZE))
            assert session.stdout and json.loads(session.stdout.readline())["id"] == 0
            assert os.get_blocking(read_end)
            os.close(write_end)
            write_end = -1
            assert session.wait(30) == 0
        assert os.get_blocking(read_end)
    finally:
        os.close(read_end)
        if write_end != -1:
            os.close(write_end)
