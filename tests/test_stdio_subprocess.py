"""rtk-mcp as an assistant runs it: a real subprocess speaking JSON-RPC over stdio."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.conftest import TOKEN


class _FakeRealtimeKit(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.seen.append(("GET", self.path, self.headers.get("Authorization", "")))
        body = json.dumps({"success": True, "data": [{"id": "m-1", "title": "Standup", "gone": None}],
                           "paging": {"total_count": 1, "start_offset": 0, "end_offset": 0}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_api_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeRealtimeKit)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/client/v4"
    finally:
        server.shutdown()
        server.server_close()


class _StdioSession:
    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.stdout_lines: list[bytes] = []
        self._next_id = 0

    def send(self, method: str, params: dict[str, Any] | None = None, *, notify: bool = False) -> dict[str, Any] | None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        if not notify:
            self._next_id += 1
            message["id"] = self._next_id
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()
        return None if notify else self._read_response(self._next_id)

    def _read_response(self, request_id: int, timeout: float = 20.0) -> dict[str, Any]:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], deadline - time.monotonic())
            if not ready:
                break
            line = self.process.stdout.readline()
            if not line:
                break
            self.stdout_lines.append(line)
            message = json.loads(line)
            if message.get("id") == request_id:
                return message
        raise AssertionError(f"no response to request {request_id}")


def test_stdio_server_lists_tools_and_calls_one_against_a_local_api(fake_api_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "RTK_"))}
    env.update(CLOUDFLARE_API_TOKEN=TOKEN, CLOUDFLARE_ACCOUNT_ID="acc-9", RTK_APP_ID="app-9",
               RTK_API_BASE_URL=fake_api_url, RTK_LOG_LEVEL="DEBUG")
    process = subprocess.Popen([sys.executable, "-m", "rtk_mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env)
    session = _StdioSession(process)
    try:
        init = session.send("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                           "clientInfo": {"name": "test", "version": "0"}})
        assert init is not None and init["result"]["serverInfo"]["name"] == "rtk-mcp"
        assert "list_apps" in init["result"]["instructions"]
        session.send("notifications/initialized", notify=True)
        listed = session.send("tools/list", {})
        assert listed is not None and len(listed["result"]["tools"]) == 53
        called = session.send("tools/call", {"name": "list_meetings", "arguments": {"per_page": 5}})
        assert called is not None
        result = called["result"]
        assert result.get("isError") is not True
        assert json.loads(result["content"][0]["text"]) == {
            "data": [{"id": "m-1", "title": "Standup"}],
            "paging": {"total_count": 1, "start_offset": 0, "end_offset": 0},
        }
        assert result["structuredContent"] == json.loads(result["content"][0]["text"])
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    assert _FakeRealtimeKit.seen[-1] == ("GET", "/client/v4/accounts/acc-9/realtime/kit/app-9/meetings?per_page=5",
                                          f"Bearer {TOKEN}")
    assert process.stdout is not None and process.stderr is not None
    with process.stdout, process.stderr:
        rest = process.stdout.read()
        stderr = process.stderr.read().decode()
    for line in session.stdout_lines + rest.splitlines():
        assert json.loads(line)["jsonrpc"] == "2.0"
    assert TOKEN not in stderr
    assert "tool=list_meetings GET" in stderr
