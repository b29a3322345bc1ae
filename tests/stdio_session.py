"""A stdio MCP server in a real subprocess, spoken to line by line as an assistant does (the tests and
``tools/benchmark.py`` both drive servers with it), and a loopback HTTP server to stand in for the
RealtimeKit API behind it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

ROOT = Path(__file__).resolve().parents[1]
RTK_MCP = (sys.executable, "-m", "rtk_mcp")
PROTOCOL_VERSION = "2025-06-18"
#: How long any one answer may take before the session is declared stuck (a bound, not a measurement).
ANSWER_TIMEOUT = 60.0
_MAX_LINE = 256 << 20


def clean_env(**env: str) -> dict[str, str]:
    """This process's environment without CLOUDFLARE_*/RTK_* variables (the developer's own never leak
    in), plus ``env``."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "RTK_"))}, **env}


def jsonrpc_lines(*messages: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(message).encode() + b"\n" for message in messages)


def tool_call(request_id: int, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
            "params": {"name": tool, "arguments": arguments or {}}}


INITIALIZE = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
              "params": {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                         "clientInfo": {"name": "rtk-mcp-tests", "version": "0"}}}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


class StdioSession:
    """One server process: ``request`` sends a JSON-RPC request and waits for its answer (several may be
    in flight), ``write`` sends raw bytes. Everything the server writes is kept: ``stdout_lines`` (raw,
    JSON or not), ``answers`` (parsed, by id) and, when captured, ``stderr``."""

    def __init__(self, process: Process) -> None:
        self.process = process
        self.stdout_lines: list[bytes] = []
        self.answers: dict[Any, list[dict[str, Any]]] = {}
        self._stderr: list[bytes] = []
        self._next_id = 0
        self._waiting: dict[Any, anyio.Event] = {}

    async def write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.send(data)

    async def send(self, *messages: dict[str, Any]) -> None:
        await self.write(jsonrpc_lines(*messages))

    async def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The whole answer (``result`` or ``error``) to one request."""
        self._next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            message["params"] = params
        await self.send(message)
        return await self.answer_to(self._next_id)

    async def answer_to(self, request_id: Any, timeout: float = ANSWER_TIMEOUT) -> dict[str, Any]:
        """The (first) answer to ``request_id``, once it has arrived: for requests written with ``write``."""
        if request_id not in self.answers:
            arrived = self._waiting.setdefault(request_id, anyio.Event())
            with anyio.fail_after(timeout):
                await arrived.wait()
        return self.answers[request_id][0]

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        await self.send({"jsonrpc": "2.0", "method": method, **({"params": params} if params is not None else {})})

    async def initialize(self) -> dict[str, Any]:
        answer = await self.request("initialize", INITIALIZE["params"])
        await self.notify("notifications/initialized")
        return answer["result"]

    async def call(self, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``tools/call`` result (which may be an ``isError`` result); a JSON-RPC error raises."""
        answer = await self.request("tools/call", {"name": tool, "arguments": arguments or {}})
        if "error" in answer:
            raise RuntimeError(f"{tool}: {answer['error']}")
        return answer["result"]

    async def end_input(self) -> int:
        """Close the server's stdin (the end of input) and return its exit code once it has exited."""
        assert self.process.stdin is not None
        await self.process.stdin.aclose()
        with anyio.fail_after(ANSWER_TIMEOUT):
            return await self.process.wait()

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    async def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        lines = BufferedByteReceiveStream(self.process.stdout)
        while True:
            try:
                line = await lines.receive_until(b"\n", _MAX_LINE)
            except (anyio.EndOfStream, anyio.IncompleteRead, anyio.ClosedResourceError):
                return
            self.stdout_lines.append(line + b"\n")
            try:
                message = json.loads(line)
            except ValueError:
                continue  # not JSON-RPC: kept in stdout_lines for the test to see
            if isinstance(message, dict) and "id" in message and "method" not in message:
                self.answers.setdefault(message["id"], []).append(message)
                if (arrived := self._waiting.pop(message["id"], None)) is not None:
                    arrived.set()

    @property
    def stderr(self) -> str:
        return b"".join(self._stderr).decode(errors="replace")

    async def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        async for chunk in self.process.stderr:
            self._stderr.append(chunk)


@asynccontextmanager
async def stdio_session(*args: str, env: Mapping[str, str] | None = None, argv: tuple[str, ...] = RTK_MCP,
                        capture_stderr: bool = True) -> AsyncIterator[StdioSession]:
    """``python -m rtk_mcp ARGS`` (or ``argv``) with ``env`` (default: :func:`clean_env`); on exit, the
    end of input, then the process's exit (killed if it does not)."""
    process = await anyio.open_process([*argv, *args], cwd=ROOT, env=clean_env() if env is None else dict(env),
                                       stderr=subprocess.PIPE if capture_stderr else subprocess.DEVNULL)
    session = StdioSession(process)
    async with process, anyio.create_task_group() as readers:
        readers.start_soon(session._read_stdout)
        if capture_stderr:
            readers.start_soon(session._read_stderr)
        try:
            yield session
        finally:
            with anyio.CancelScope(shield=True):
                if process.returncode is None:
                    try:
                        await session.end_input()
                    except (TimeoutError, anyio.BrokenResourceError, anyio.ClosedResourceError):
                        process.kill()
                        await process.wait()


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
