"""Serving over stdio (``rtk_mcp/transport/stdio.py``), driven as a client drives it: a real subprocess.

stdout carries only JSON-RPC even when something prints; input of any shape never stops serving;
requests piped before the end of input are answered (within a bounded grace) before the process exits;
work in flight is bounded and reading pauses while it is full; a cancellation names one exact id; a
client that goes away ends the process quietly; descriptors are left blocking.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import anyio
import pytest

from rtk_mcp.transport.stdio import MAX_OPEN_REQUESTS
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
from rtk_mcp.transport.stdio import stdio_transport

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

#: A server whose one tool takes a moment, so requests are still running when input ends.
SLOW_SERVER = """
import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from rtk_mcp.transport.stdio import stdio_transport

async def call_tool(ctx, params):
    await anyio.sleep(0.2)
    return types.CallToolResult(content=[types.TextContent(type="text", text="done")])

async def main():
    server = Server("slow", on_call_tool=call_tool)
    async with stdio_transport() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())

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


async def test_garbage_and_a_long_line_do_not_stop_serving() -> None:
    async with stdio_session("--sandbox") as server:
        await server.initialize()
        await server.write(b"not json at all\n\n[]\n")
        # A long line is read whole, and the call refused by the string limit, naming the field.
        long_field = await server.call("list_apps", {"fields": ["x" * (1 << 20)]})
        after = await server.call("list_apps")
    # Each unreadable line is answered as JSON-RPC requires (the blank one is nothing to answer).
    assert [a["error"]["code"] for a in server.answers.get(None, [])] == [-32700, -32600]
    assert long_field["isError"] and "'fields'" in long_field["content"][0]["text"]
    assert "Sandbox App" in after["content"][0]["text"]


async def test_requests_piped_before_input_ends_are_all_answered_in_every_run() -> None:
    """``printf '...' | rtk-mcp``: the end of input comes right after the last request, while all of
    them are still being served. Twenty runs, four at a time, as the race is not the same each time;
    a server with one slow tool (lighter to start than rtk-mcp) stands in for it."""
    piped = jsonrpc_lines(INITIALIZE, INITIALIZED, *(tool_call(n, "slow") for n in range(1, 11)),
                          *({"jsonrpc": "2.0", "id": n, "method": "ping"} for n in range(11, 21)))
    outputs: list[bytes] = []
    at_a_time = anyio.CapacityLimiter(4)

    async def run_once() -> None:
        async with at_a_time:
            done = await anyio.run_process([sys.executable, "-c", SLOW_SERVER], input=piped, cwd=ROOT,
                                           env=clean_env(), check=False)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)

    with anyio.fail_after(120):
        async with anyio.create_task_group() as runs:
            for _ in range(20):
                runs.start_soon(run_once)
    for stdout in outputs:
        answers = [json.loads(line) for line in stdout.splitlines()]
        assert sorted(answer["id"] for answer in answers) == list(range(21))
        assert all("result" in answer for answer in answers)


class HeldMeetings(JsonHandler):
    """Holds each meetings request (``search=fast``: none) until the test lets it go, one at a time
    (``release``) or all (``release_all``); keeps each held request's ``search`` in arrival order
    (``arrived``) and the most it held at once (``peak``). Anything else is answered at once."""

    url = ""
    state = threading.Condition()
    arrived: list[str] = []
    held = peak = permits = 0
    released_all = False

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        api = type(self)
        search = parse_qs(urlsplit(self.path).query).get("search", [""])[0]
        if "/meetings" in self.path and search != "fast":
            with api.state:
                api.arrived.append(search)
                api.held += 1
                api.peak = max(api.peak, api.held)
                api.state.notify_all()
                api.state.wait_for(lambda: api.permits or api.released_all, timeout=60)
                api.permits -= bool(api.permits) and not api.released_all
                api.held -= 1  # before answering: the server may send the next request once it has the answer
        self.answer({"success": True, "data": [{"id": "m1"}]})

    @classmethod
    def release(cls, count: int = 1) -> None:
        with cls.state:
            cls.permits += count
            cls.state.notify_all()

    @classmethod
    def release_all(cls) -> None:
        with cls.state:
            cls.released_all = True
            cls.state.notify_all()

    @classmethod
    async def until_arrived(cls, count: int) -> None:
        def wait() -> bool:
            with cls.state:
                return cls.state.wait_for(lambda: len(cls.arrived) >= count, timeout=30)

        assert await anyio.to_thread.run_sync(wait), f"{len(cls.arrived)} of {count} calls reached the API"


@pytest.fixture
def held_api() -> Iterator[type[HeldMeetings]]:
    class Held(HeldMeetings):
        state = threading.Condition()
        arrived: list[str] = []

    with loopback_api(Held) as Held.url:
        yield Held
        Held.release_all()  # no handler thread outlives the test


def _live(url: str) -> dict[str, str]:
    return clean_env(CLOUDFLARE_API_TOKEN="t", CLOUDFLARE_ACCOUNT_ID="a", RTK_APP_ID="app", RTK_API_BASE_URL=url)


def _calls(first: int, count: int) -> list[dict]:
    """``count`` calls from id ``first`` on, each searching for ``call-<id>`` so the API sees which it is."""
    return [tool_call(n, "list_meetings", {"search": f"call-{n}"}) for n in range(first, first + count)]


async def test_a_call_still_waiting_on_the_api_when_input_ends_is_answered(held_api) -> None:
    async with stdio_session(env=_live(held_api.url)) as server:
        # The same id twice (one slow, one fast): a client may reuse an id, and both are answered.
        await server.write(jsonrpc_lines(INITIALIZE, INITIALIZED, tool_call(7, "list_meetings"),
                                         tool_call(7, "list_meetings", {"search": "fast"})))
        await held_api.until_arrived(1)
        await server.process.stdin.aclose()
        held_api.release_all()
        assert await server.end_input() == 0
    assert len(server.answers[7]) == 2 and all('"m1"' in _text(answer) for answer in server.answers[7])


async def test_calls_that_outlast_the_grace_are_answered_as_closed_and_the_process_exits(held_api) -> None:
    """The server is full, so reading has paused with requests still unread behind the calls (a call,
    and tools/list, which the server would answer without waiting on anything): the grace counts from
    the client closing stdin all the same, and nothing is dropped unanswered."""
    calls = _calls(1001, MAX_OPEN_REQUESTS + 2)
    listings = [{"jsonrpc": "2.0", "id": f"list-{n}", "method": "tools/list"} for n in range(3)]
    async with stdio_session("--stdin-grace", "1", env=_live(held_api.url)) as server:
        await server.write(jsonrpc_lines(INITIALIZE, INITIALIZED, *calls, *listings))
        await held_api.until_arrived(MAX_OPEN_REQUESTS)
        with anyio.fail_after(15):  # far below the API timeout (30 s): only the grace ends the calls
            assert await server.end_input() == 0
    for request in calls + listings:
        (answer,) = server.answers[request["id"]]
        assert answer["error"]["code"] == -32000, answer  # "Connection closed", as the SDK answers


async def test_a_call_the_client_cancelled_does_not_hold_the_process_at_end_of_input(held_api) -> None:
    async with stdio_session(env=_live(held_api.url)) as server:
        await server.write(jsonrpc_lines(INITIALIZE, INITIALIZED, tool_call(9, "list_meetings")))
        await held_api.until_arrived(1)
        await server.write(jsonrpc_lines(_cancel(9), _cancel(True)))  # a bool is no id: ignored
        await server.process.stdin.aclose()
        with anyio.fail_after(5):  # well inside the grace: nothing was left to wait for
            assert await server.process.wait() == 0
    assert 9 not in server.answers  # a cancelled request gets no answer


async def test_cancelling_id_string_7_leaves_request_7_alone(held_api) -> None:
    """``"7"`` and ``7`` are two ids in JSON-RPC, though the SDK correlates them as one."""
    async with stdio_session(env=_live(held_api.url)) as server:
        await server.initialize()
        await server.send(tool_call(7, "list_meetings"))
        await held_api.until_arrived(1)
        await server.send(_cancel("7"))
        await server.request("tools/list", {})  # answered after the cancellation was read
        held_api.release_all()
        assert '"m1"' in _text(await server.answer_to(7))


async def test_at_most_max_open_requests_reach_the_api_and_the_rest_are_answered_in_turn(held_api) -> None:
    calls = _calls(1001, MAX_OPEN_REQUESTS + 16)
    ids = {call["id"] for call in calls}
    async with stdio_session(env=_live(held_api.url)) as server:
        await server.initialize()
        await server.send(*calls)
        await held_api.until_arrived(MAX_OPEN_REQUESTS)
        assert not ids & set(server.answers)
        # A place frees only when a call is answered: let one go, and the first one queued comes in.
        held_api.release(1)
        await held_api.until_arrived(MAX_OPEN_REQUESTS + 1)
        assert held_api.arrived[MAX_OPEN_REQUESTS] == f"call-{1001 + MAX_OPEN_REQUESTS}"
        # Input ends with calls still queued: they get their turn all the same.
        await server.process.stdin.aclose()
        held_api.release_all()
        assert await server.end_input() == 0
    assert held_api.peak == MAX_OPEN_REQUESTS
    assert sorted(held_api.arrived) == sorted(f"call-{n}" for n in ids)
    assert all(len(server.answers[n]) == 1 and '"m1"' in _text(server.answers[n][0]) for n in ids)


async def test_reading_pauses_while_the_server_is_full(held_api) -> None:
    """A request read while :data:`MAX_OPEN_REQUESTS` are open waits for a place, and nothing behind it
    is read meanwhile (not even a ping): the client's writes block instead of the process's memory growing."""
    async with stdio_session(env=_live(held_api.url)) as server:
        await server.initialize()
        await server.send(*_calls(1001, MAX_OPEN_REQUESTS + 1), {"jsonrpc": "2.0", "id": "probe", "method": "ping"})
        await held_api.until_arrived(MAX_OPEN_REQUESTS)
        with anyio.move_on_after(1) as unanswered:
            await server.answer_to("probe")
        assert unanswered.cancelled_caught, "a ping behind a full server was read"
        held_api.release(2)  # one place for the call waiting, one for the call it lets in: the ping goes next
        assert (await server.answer_to("probe"))["result"] == {}
        held_api.release_all()
        assert await server.end_input() == 0
    assert held_api.peak == MAX_OPEN_REQUESTS


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


async def test_ctrl_c_while_the_server_is_full_stops_it_with_130_and_no_traceback(held_api) -> None:
    async with stdio_session(env=_live(held_api.url)) as server:
        await server.initialize()
        await server.send(*_calls(3001, MAX_OPEN_REQUESTS + 6))  # the SDK's reader is left mid-hand-over
        await held_api.until_arrived(MAX_OPEN_REQUESTS)
        server.process.send_signal(signal.SIGINT)
        with anyio.fail_after(5):
            assert await server.process.wait() == 130
    assert "Traceback" not in server.stderr and "Error" not in server.stderr, server.stderr
