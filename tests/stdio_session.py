"""A real ``rtk-mcp`` subprocess spoken to line by line over stdio, as an assistant does, and a
loopback HTTP server to stand in for the RealtimeKit API behind it."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StdioSession:
    """Starts ``python -m rtk_mcp ARGS`` with ``env`` added to a copy of the environment stripped of
    CLOUDFLARE_*/RTK_* variables; ``send`` writes one JSON-RPC message and waits for its answer;
    ``close`` ends stdin and returns everything the process wrote (stdout, stderr)."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "RTK_"))}
        self.process = subprocess.Popen([sys.executable, "-m", "rtk_mcp", *args], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**clean, **env})
        self.stdout_lines: list[bytes] = []
        self._next_id = 0

    def initialize(self) -> dict[str, Any]:
        reply = self.send("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                         "clientInfo": {"name": "test", "version": "0"}})
        self.send("notifications/initialized", notify=True)
        assert reply is not None
        return reply

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

    def exchange(self, lines: list[str], *, timeout: float) -> list[dict[str, Any]]:
        """Write every line (from a thread, as fast as the server takes them) while reading answers;
        return the answers once there are as many as lines (or the timeout passes)."""
        assert self.process.stdin is not None and self.process.stdout is not None

        def write() -> None:
            assert self.process.stdin is not None
            for line in lines:
                self.process.stdin.write(line.encode() + b"\n")
            self.process.stdin.flush()

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        answers: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(answers) < len(lines) and time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], deadline - time.monotonic())
            if not ready:
                break
            line = self.process.stdout.readline()
            if not line:
                break
            self.stdout_lines.append(line)
            answers.append(json.loads(line))
        writer.join(timeout=5)
        return answers

    def send_line(self, line: str, request_id: int) -> dict[str, Any]:
        """Write ``line`` as it is (it need not be valid JSON) and wait for the answer to ``request_id``."""
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()
        return self._read_response(request_id)

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

    def close(self) -> tuple[str, str]:
        """End the session; return all of stdout (including lines already read) and stderr."""
        assert self.process.stdin and self.process.stdout and self.process.stderr
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with self.process.stdout, self.process.stderr:
            stdout = b"".join(self.stdout_lines) + self.process.stdout.read()
            stderr = self.process.stderr.read()
        return stdout.decode(), stderr.decode()


class JsonHandler(BaseHTTPRequestHandler):
    """Base of the loopback fake APIs: ``answer`` sends one JSON body; requests are not logged."""

    def answer(self, payload: Any, status: int = 200) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def loopback_api(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free loopback port; yield the base URL to put in ``RTK_API_BASE_URL``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/client/v4"
    finally:
        server.shutdown()
        server.server_close()
