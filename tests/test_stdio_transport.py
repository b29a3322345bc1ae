"""rtk-mcp's stdio transport (``rtk_mcp/stdio.py``), driven as a client drives it: a real subprocess.

What it must keep from the SDK's transport, and what it adds: stdout carries only JSON-RPC even when
something prints; input of any shape never stops serving; the end of input, or a client that stops
reading, ends the process promptly, even with a call in flight; descriptors are left blocking.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.stdio_session import JsonHandler, loopback_api

ROOT = Path(__file__).resolve().parents[1]
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}

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


def _sandbox(stdin: int = subprocess.PIPE) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "rtk_mcp", "--sandbox"], stdin=stdin, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, cwd=ROOT, env=_clean_env())


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "RTK_"))}


def _lines(*messages: dict) -> bytes:
    return b"".join(json.dumps(message).encode() + b"\n" for message in messages)


def _call(request_id: int, tool: str, arguments: dict) -> dict:
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}


def test_stray_output_goes_to_stderr_and_stdout_carries_only_json_rpc() -> None:
    with subprocess.Popen([sys.executable, "-c", NOISY_SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, cwd=ROOT) as server:
        assert server.stdin and server.stdout and server.stderr
        server.stdin.write(_lines(INITIALIZE, INITIALIZED, _call(2, "noisy", {})))
        server.stdin.flush()
        answers = [json.loads(server.stdout.readline()) for _ in range(2)]  # every line is JSON-RPC
        server.stdin.close()  # only now: the end of input ends serving, and a call in flight with it
        after = server.stdout.read().decode()
        stderr = server.stderr.read().decode()
        assert server.wait(30) == 0, stderr
    assert [a["id"] for a in answers] == [1, 2] and answers[1]["result"]["content"][0]["text"] == "done"
    for stray in ("stray print", "stray write", "stray child"):
        assert stray in stderr
    assert after == "after serving\n"  # stdout is the wire again once serving is over


def test_garbage_and_a_70_mib_line_do_not_stop_serving() -> None:
    huge = _call(2, "list_apps", {"fields": ["x" * (70 << 20)]})
    with _sandbox() as session:
        assert session.stdin and session.stdout
        session.stdin.write(_lines(INITIALIZE, INITIALIZED) + b"not json at all\n\n" + _lines(huge, _call(3, "list_apps", {})))
        session.stdin.flush()
        answers = {}
        while len(answers) < 4:  # initialize, the garbage line (id null), the huge call, the last one
            message = json.loads(session.stdout.readline())
            answers[message["id"]] = message
        session.stdin.close()
        assert session.wait(30) == 0
    assert answers[None]["error"]["code"] == -32700  # the garbage line is answered; the blank one is nothing
    # The huge call is answered (refused by the string limit, naming the field), and serving goes on.
    assert answers[2]["result"]["isError"] and "'fields'" in answers[2]["result"]["content"][0]["text"]
    assert "Sandbox App" in answers[3]["result"]["content"][0]["text"]


class Slow(JsonHandler):
    """Answers a GET of meetings after ``delay`` seconds (``search=fast``: at once), anything else at once."""

    delay = 2.0

    def do_GET(self) -> None:
        if "/meetings" in self.path and "fast" not in self.path:
            time.sleep(self.delay)
        self.answer({"success": True, "data": [{"id": "m1"}]})


class Hang(Slow):
    """Meetings take 20 s: longer than the end-of-input grace."""

    delay = 20.0


def test_end_of_input_gives_calls_in_flight_a_bounded_grace_and_skips_cancelled_ones() -> None:
    env = {"CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_ACCOUNT_ID": "a", "RTK_APP_ID": "app"}
    with loopback_api(Hang) as url:
        for cancel_first in (False, True):
            with subprocess.Popen([sys.executable, "-m", "rtk_mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, cwd=ROOT,
                                  env={**_clean_env(), **env, "RTK_API_BASE_URL": url}) as server:
                assert server.stdin and server.stdout
                server.stdin.write(_lines(INITIALIZE, INITIALIZED, _call(99, "list_meetings", {})))
                if cancel_first:
                    time.sleep(0.5)
                    server.stdin.write(_lines({"jsonrpc": "2.0", "method": "notifications/cancelled",
                                               "params": {"requestId": 99}}))
                server.stdin.close()
                began = time.monotonic()
                answers = [json.loads(line) for line in server.stdout]  # until the server exits
                assert server.wait(5) == 0
                took = time.monotonic() - began
            by_id = {answer.get("id"): answer for answer in answers}
            if cancel_first:
                assert took < 5 and 99 not in by_id  # nothing to wait for: a cancelled call gets no answer
            else:
                assert 5 < took < 15  # the 10 s grace, then the hung call is cancelled and answered as such
                assert "error" in by_id[99] or by_id[99]["result"].get("isError")


def _serve(url: str) -> subprocess.Popen[bytes]:
    env = {**_clean_env(), "CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_ACCOUNT_ID": "a", "RTK_APP_ID": "app",
           "RTK_API_BASE_URL": url}
    return subprocess.Popen([sys.executable, "-m", "rtk_mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, cwd=ROOT, env=env)


def _cancel(request_id: object) -> dict:
    return {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": request_id}}


def _until_exit(server: subprocess.Popen[bytes], *messages: dict) -> tuple[list[dict], float]:
    """Send ``messages``, end input, and read every answer until the server exits: (answers, seconds)."""
    assert server.stdin and server.stdout
    server.stdin.write(_lines(INITIALIZE, INITIALIZED, *messages))
    server.stdin.close()
    began = time.monotonic()
    answers = [json.loads(line) for line in server.stdout]
    assert server.wait(5) == 0
    return [a for a in answers if a.get("id") != 1 or "result" not in a or "capabilities" not in a["result"]], \
        time.monotonic() - began


def test_the_grace_matches_ids_as_the_sdk_does_and_counts_reused_ones() -> None:
    with loopback_api(Slow) as url:
        # A malformed cancellation is ignored, not a crash; a boolean is no id (it must not settle request 1).
        with _serve(url) as server:
            answers, _ = _until_exit(server, _call(1, "list_meetings", {}), _cancel([1]), _cancel(True))
        assert [(a["id"], "result" in a and not a["result"].get("isError")) for a in answers] == [(1, True)]
        # The same id twice: both are answered, the slow one too.
        with _serve(url) as server:
            answers, _ = _until_exit(server, _call(7, "list_meetings", {}), _call(7, "list_meetings", {"search": "fast"}))
        assert sorted(a["id"] for a in answers) == [7, 7] and all("result" in a for a in answers)
    with loopback_api(Hang) as url:
        # "7" cancels request 7, as in the SDK: nothing is left to wait for.
        with _serve(url) as server:
            answers, took = _until_exit(server, _call(7, "list_meetings", {}), _cancel("7"))
        assert took < 5 and 7 not in {a.get("id") for a in answers}


def test_a_client_that_stops_reading_cuts_the_grace_short() -> None:
    with loopback_api(Hang) as url, _serve(url) as server:
        assert server.stdin and server.stdout
        server.stdin.write(_lines(INITIALIZE))
        server.stdin.flush()
        assert json.loads(server.stdout.readline())["id"] == 1
        server.stdin.write(_lines(INITIALIZED, _call(2, "list_meetings", {})))  # hangs
        server.stdin.flush()
        time.sleep(0.5)
        server.stdout.close()
        server.stdin.write(_lines(_call(3, "list_apps", {})))  # its answer finds nobody reading
        server.stdin.flush()
        began = time.monotonic()
        assert server.wait(8) == 0
        assert time.monotonic() - began < 5


def test_requests_piped_in_at_once_are_all_answered() -> None:
    """``printf '...' | rtk-mcp``: the end of input comes right after the last request."""
    requests = [_call(n, "list_apps", {}) for n in range(2, 7)]
    for _ in range(3):
        done = subprocess.run([sys.executable, "-m", "rtk_mcp", "--sandbox"], input=_lines(INITIALIZE, INITIALIZED, *requests),
                              capture_output=True, cwd=ROOT, env=_clean_env(), timeout=60, check=False)
        answers = {json.loads(line)["id"]: json.loads(line) for line in done.stdout.splitlines()}
        assert done.returncode == 0 and sorted(answers) == [1, 2, 3, 4, 5, 6]
        assert all("Sandbox App" in answers[n]["result"]["content"][0]["text"] for n in range(2, 7))


def test_invalid_utf8_and_bare_carriage_returns_still_get_answers() -> None:
    latin1 = json.dumps(_call(2, "list_meetings", {"search": "caf\u00e9"})).replace("\\u00e9", "\u00e9").encode("latin-1")
    wire = _lines(INITIALIZE, INITIALIZED) + latin1 + b"\n" + _lines(_call(3, "list_apps", {}))[:-1] + b"\r" + _lines(
        _call(4, "list_apps", {}))
    done = subprocess.run([sys.executable, "-m", "rtk_mcp", "--sandbox"], input=wire, capture_output=True, cwd=ROOT,
                          env=_clean_env(), timeout=60, check=False)
    answers = {json.loads(line)["id"]: json.loads(line) for line in done.stdout.splitlines()}
    assert sorted(answers) == [1, 2, 3, 4]
    assert "result" in answers[2]  # answered (the replacement character is just part of the search text)


def test_a_client_that_stops_reading_ends_the_session() -> None:
    with _sandbox() as session:
        assert session.stdin and session.stdout
        session.stdin.write(_lines(INITIALIZE))
        session.stdin.flush()
        assert json.loads(session.stdout.readline())["id"] == 1
        session.stdout.close()  # the client is gone; its stdin end happens to stay open
        session.stdin.write(_lines(INITIALIZED, _call(2, "list_apps", {})))
        session.stdin.flush()
        assert session.wait(10) == 0


def test_descriptors_are_left_blocking() -> None:
    """A pipe end we share with the server (as a terminal is shared) must not come back non-blocking."""
    read_end, write_end = os.pipe()
    try:
        with _sandbox(stdin=read_end) as session:
            os.write(write_end, _lines(INITIALIZE))
            assert session.stdout and json.loads(session.stdout.readline())["id"] == 1
            assert os.get_blocking(read_end)
            os.close(write_end)
            write_end = -1
            assert session.wait(10) == 0
        assert os.get_blocking(read_end)
    finally:
        os.close(read_end)
        if write_end != -1:
            os.close(write_end)


CANCELLED_SERVER = """
import anyio
from mcp.server.lowlevel import Server
from rtk_mcp.stdio import stdio_transport

async def main():
    server = Server("idle")
    with anyio.move_on_after(0.5):
        async with stdio_transport() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())
    print("after a cancelled session")

anyio.run(main)
"""


def test_a_cancelled_session_still_gives_the_standard_streams_back() -> None:
    with subprocess.Popen([sys.executable, "-c", CANCELLED_SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, cwd=ROOT) as server:
        assert server.stdin and server.stdout and server.stderr
        stdout = server.stdout.read()  # stdin stays open: the session ends by cancellation, not end of input
        assert server.wait(10) == 0, server.stderr.read().decode()
    assert stdout.decode() == "after a cancelled session\n"
