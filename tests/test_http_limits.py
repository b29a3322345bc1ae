"""A slow or greedy HTTP client cannot take the server down: a real ``rtk-mcp --transport http`` subprocess.

The server runs with a low file-descriptor limit on purpose: a flood of half-open connections larger
than the limit must still leave ``/healthz`` and an authenticated client answered.
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from rtk_mcp.cli import main
from rtk_mcp.transport.http import MAX_SESSIONS, REQUEST_RECEIVE_TIMEOUT_S

TOKEN = "limits-t0ken-abcdefghijklmnopqrstuvwxyz"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json, text/event-stream"}
#: The server's own descriptor limit (a common default): fewer than the half-open connections the test holds.
SERVER_FD_LIMIT = 1024
HALF_OPEN = 1_200
#: Connections opened at once: fewer than the server's accept backlog. A burst beyond it overflows the
#: kernel's accept queue, and connections whose handshake completed only on the client's side would
#: sit in the kernel, never reaching the server at all.
BATCH = 100
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    stderr_path: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _limit_server_fds() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (SERVER_FD_LIMIT, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    port = _free_port()
    stderr_path = str(tmp_path_factory.mktemp("http") / "stderr.txt")
    env = {**os.environ, "RTK_MCP_HTTP_TOKEN": TOKEN}
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "rtk_mcp", "--sandbox", "--transport", "http", "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, env=env,
            preexec_fn=_limit_server_fds,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, open(stderr_path).read()
            try:
                if httpx2.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)
        yield Served(url, process, stderr_path)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _rpc(response: httpx2.Response) -> dict[str, Any]:
    if response.headers["content-type"].startswith("application/json"):
        return response.json()
    data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
    return json.loads(data[-1])


def _open_session(client: httpx2.Client, url: str, *, initialized: bool = True) -> str:
    init = client.post(f"{url}/mcp", json=INIT, headers=AUTH)
    assert init.status_code == 200, init.text
    session = init.headers["mcp-session-id"]
    if initialized:
        headers = {**AUTH, "Mcp-Session-Id": session, "Mcp-Protocol-Version": "2025-06-18"}
        note = client.post(f"{url}/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"},
                           headers=headers)
        assert note.status_code == 202
    return session


def _call_list_apps(client: httpx2.Client, url: str, session: str) -> httpx2.Response:
    headers = {**AUTH, "Mcp-Session-Id": session, "Mcp-Protocol-Version": "2025-06-18"}
    return client.post(f"{url}/mcp", headers=headers, json={
        "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "list_apps", "arguments": {}}})


def _room_for(sockets: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = sockets + 200
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"the test needs {wanted} file descriptors; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _connect_half_open(port: int, count: int) -> list[socket.socket]:
    """``count`` connections, each with a request's first header lines and never the rest."""
    connected: list[socket.socket] = []
    selector = selectors.DefaultSelector()
    give_up = time.monotonic() + 60
    while len(connected) < count:
        pending = set()
        for _ in range(min(BATCH, count - len(connected))):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            selector.register(sock, selectors.EVENT_WRITE)
            pending.add(sock)
        while pending:
            assert time.monotonic() < give_up, f"{len(pending)} connections never completed"
            for key, _ in selector.select(timeout=1):
                sock = key.fileobj
                selector.unregister(sock)
                pending.discard(sock)  # type: ignore[arg-type]
                assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0  # type: ignore[union-attr]
                # Headers begun, never finished: the bearer check can't run, the socket is held.
                sock.send(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n")  # type: ignore[union-attr]
                connected.append(sock)  # type: ignore[arg-type]
    selector.close()
    return connected


def test_half_open_and_trickling_connections_cannot_starve_health_checks_or_authenticated_calls(
    served: Served,
) -> None:
    _room_for(HALF_OPEN + 1)
    port = int(served.url.rsplit(":", 1)[1])
    started_stderr = os.path.getsize(served.stderr_path)
    # One header byte at a time keeps a connection forever unless the receive deadline ends it.
    trickle = socket.create_connection(("127.0.0.1", port), timeout=5)
    trickle.sendall(b"GET /healthz HTTP/1.1\r\n")
    half_open = _connect_half_open(port, HALF_OPEN)
    try:
        # Within a few seconds (the clients' timeouts), with all of them still held open.
        with httpx2.Client(timeout=5) as client:
            health = client.get(f"{served.url}/healthz")
            assert health.status_code == 200 and health.json() == {"status": "ok"}
            called = _call_list_apps(client, served.url, _open_session(client, served.url))
        assert called.status_code == 200
        result = _rpc(called)["result"]
        assert not result.get("isError") and result["structuredContent"]["data"][0]["name"] == "Sandbox App"

        # Every one is closed by the server: evicted at the connection cap, or at the receive deadline.
        open_ones = {*half_open, trickle}
        selector = selectors.DefaultSelector()
        for sock in open_ones:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)
        give_up = time.monotonic() + REQUEST_RECEIVE_TIMEOUT_S + 10
        while open_ones and time.monotonic() < give_up:
            for key, _ in selector.select(timeout=0.5):
                sock = key.fileobj
                try:
                    closed = sock.recv(4096) == b""  # type: ignore[union-attr]
                except ConnectionResetError:
                    closed = True
                if closed:
                    selector.unregister(sock)
                    open_ones.discard(sock)  # type: ignore[arg-type]
            if trickle in open_ones:
                try:
                    trickle.send(b"X")
                except (ConnectionResetError, BrokenPipeError):
                    selector.unregister(trickle)
                    open_ones.discard(trickle)
        selector.close()
        assert trickle not in open_ones, "the trickling request was never cut off"
        assert not open_ones, f"{len(open_ones)} of {HALF_OPEN} half-open connections were never closed"
    finally:
        for sock in [*half_open, trickle]:
            sock.close()
    assert served.process.poll() is None
    with open(served.stderr_path) as stderr:
        stderr.seek(started_stderr)
        logged = stderr.read().splitlines()
    assert len(logged) < 20, logged[:20]  # a few summary lines, not one per connection
    assert httpx2.get(f"{served.url}/healthz", timeout=5).status_code == 200


def test_new_sessions_close_the_longest_idle_one_instead_of_being_refused(served: Served) -> None:
    with httpx2.Client(timeout=5) as client:
        first = _open_session(client, served.url)
        for _ in range(MAX_SESSIONS - 1):
            _open_session(client, served.url, initialized=False)
        newest = _open_session(client, served.url)
        # The newest works; the longest idle was closed to make room: its id is now unknown.
        called = _call_list_apps(client, served.url, newest)
        assert called.status_code == 200 and not _rpc(called)["result"].get("isError")
        assert _call_list_apps(client, served.url, first).status_code == 404


@pytest.mark.parametrize("port", ["99999", "0", "-1", "http"])
def test_a_port_out_of_range_is_a_clean_usage_error(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--sandbox", "--transport", "http", "--port", port])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "argument --port" in err and "1 to 65535" in err
