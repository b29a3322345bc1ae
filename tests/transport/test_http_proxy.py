"""rtk-mcp behind the shipped ``deploy/nginx.conf``: a real nginx on loopback in front of a real
``rtk-mcp --transport http`` subprocess.

The attacks come from clients without the token, as they would from the open network; the server
must stay up and answering for the one that has it. nginx comes from the distribution's packages;
without it these tests are skipped, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import string
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from rtk_mcp.transport.http import MAX_REQUEST_BYTES

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
TOKEN = "proxy-t0ken-abcdefghijklmnopqrstuvwxyz"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json, text/event-stream"}
#: Short for the test; the shipped example uses 10 s.
CLIENT_TIMEOUT_S = 2
#: Attackers of each kind: enough to exhaust anything per-connection, few enough to stay quick.
ATTACKERS = 40
#: rtk-mcp's resident memory may not exceed this, whatever the calls hold.
MEMORY_CEILING_MB = 300
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}


def _nginx() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(p, os.X_OK)),
                                          None)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is not installed, and CI must not skip the reverse-proxy tests (.ci/run installs it)")
        pytest.skip("nginx is not installed (apt-get install nginx): the reverse-proxy tests need a real one")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, alive: subprocess.Popen[bytes], log: Path) -> None:
    with anyio.from_thread.start_blocking_portal() as portal:
        portal.call(_poll_healthy, url, alive, log)


async def _poll_healthy(url: str, alive: subprocess.Popen[bytes], log: Path) -> None:
    with anyio.fail_after(30):
        async with httpx2.AsyncClient(timeout=1) as client:
            while True:
                assert alive.poll() is None, log.read_text()
                try:
                    if (await client.get(f"{url}/healthz")).status_code == 200:
                        return
                except httpx2.TransportError:
                    pass
                await anyio.sleep(0.05)


@dataclass
class Proxied:
    url: str  # nginx, in front
    server: subprocess.Popen[bytes]
    server_log: Path

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.server.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmHWM in /proc")


@pytest.fixture(scope="module")
def proxied() -> Iterator[Proxied]:
    nginx = _nginx()
    # Not pytest's tmp_path: when run as root, nginx's workers drop to an unprivileged user that
    # must reach the temp folders, and pytest's base folder is private to its owner.
    prefix = Path(tempfile.mkdtemp(prefix="rtk-nginx-"))
    prefix.chmod(0o755)
    server_port, proxy_port = _free_port(), _free_port()
    config = string.Template(CONFIG.read_text()).safe_substitute(
        LISTEN=f"127.0.0.1:{proxy_port}", RTK_MCP=f"127.0.0.1:{server_port}", CLIENT_TIMEOUT=f"{CLIENT_TIMEOUT_S}s")
    (prefix / "nginx.conf").write_text(config)
    server_log, proxy_log = prefix / "rtk-mcp.log", prefix / "nginx.log"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "RTK_"))},
           "RTK_MCP_HTTP_TOKEN": TOKEN}
    with open(server_log, "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "rtk_mcp", "--sandbox", "--transport", "http", "--port", str(server_port)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, env=env)
    with open(proxy_log, "wb") as log:
        proxy = subprocess.Popen(
            [nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", "stderr",
             "-g", f"daemon off; pid {prefix / 'nginx.pid'};"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(f"http://127.0.0.1:{server_port}", server, server_log)
        _wait_healthy(f"http://127.0.0.1:{proxy_port}", proxy, proxy_log)
        yield Proxied(f"http://127.0.0.1:{proxy_port}", server, server_log)
    finally:
        for process in (proxy, server):
            process.terminate()
        for process in (proxy, server):
            process.wait(timeout=15)
        logged = server_log.read_text()
        shutil.rmtree(prefix, ignore_errors=True)
    assert "Traceback" not in logged


def _rpc(response: httpx2.Response) -> dict[str, Any]:
    if response.headers["content-type"].startswith("application/json"):
        return response.json()
    data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
    return json.loads(data[-1])


async def _authenticated_call(url: str) -> None:
    """A full MCP session through the proxy: initialize, list, call; Server-Sent Events on the way."""
    async with (httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as http,
                Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client):
        assert len((await client.list_tools()).tools) == 53
        apps = await client.call_tool("list_apps", {})
    assert not apps.is_error
    assert apps.structured_content is not None and apps.structured_content["data"][0]["name"] == "Sandbox App"


async def _healthy(url: str) -> None:
    async with httpx2.AsyncClient(timeout=5) as client:
        health = await client.get(f"{url}/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}


async def test_an_mcp_session_runs_through_the_proxy(proxied: Proxied) -> None:
    with anyio.fail_after(30):
        await _authenticated_call(proxied.url)
        async with httpx2.AsyncClient(timeout=5) as client:
            refused = await client.post(f"{proxied.url}/mcp", json=INIT)
            assert refused.status_code == 401 and TOKEN not in refused.text
            # No stream a tools-only server would ever write to is held open.
            stream = await client.get(f"{proxied.url}/mcp", headers=AUTH)
            assert stream.status_code == 405
            assert (await client.get(f"{proxied.url}/elsewhere")).status_code == 404


def _connect(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a reader that takes little and slowly
    sock.settimeout(5)
    sock.connect(("127.0.0.1", port))
    return sock


def _is_closed(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        while True:
            if sock.recv(65536) == b"":
                return True
    except BlockingIOError:
        return False
    except ConnectionError:
        return True


async def test_slow_headers_slow_readers_and_held_streams_leave_the_server_answering(proxied: Proxied) -> None:
    port = int(proxied.url.rsplit(":", 1)[1])
    # Headers begun and never finished: the token check can never run.
    slow_headers = [_connect(port) for _ in range(ATTACKERS)]
    for sock in slow_headers:
        sock.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n")
    # Health checks pipelined by the hundred, answers never read.
    pipelined = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 100
    slow_readers = [_connect(port) for _ in range(ATTACKERS)]
    for sock in slow_readers:
        sock.sendall(pipelined)
    # Event streams asked for and held open, and a body promised and never sent.
    held = [_connect(port) for _ in range(ATTACKERS)]
    for sock in held:
        sock.sendall(b"GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
                     b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n{")
    attackers = [*slow_headers, *slow_readers, *held]
    try:
        with anyio.fail_after(30):
            await _healthy(proxied.url)
            await _authenticated_call(proxied.url)
        # nginx ends every one of them once the client timeout has passed.
        with anyio.fail_after(CLIENT_TIMEOUT_S + 15):
            while open_ones := [sock for sock in attackers if not _is_closed(sock)]:
                assert proxied.server.poll() is None
                await anyio.sleep(0.2)
        assert not open_ones
    finally:
        for sock in attackers:
            sock.close()
    with anyio.fail_after(30):
        await _healthy(proxied.url)
        await _authenticated_call(proxied.url)


def _open_session(url: str) -> str:
    init = httpx2.post(f"{url}/mcp", json=INIT, headers=AUTH, timeout=10)
    assert init.status_code == 200, init.text
    session = init.headers["mcp-session-id"]
    headers = {**AUTH, "Mcp-Session-Id": session, "Mcp-Protocol-Version": "2025-06-18"}
    done = httpx2.post(f"{url}/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers,
                       timeout=10)
    assert done.status_code == 202
    return session


def _heavy_call(url: str, session: str, call_id: int) -> int:
    """A call whose body, just under the size limit, parses into as many objects as a body can hold."""
    head = (f'{{"jsonrpc":"2.0","id":{call_id},"method":"tools/call",'
            '"params":{"name":"list_apps","arguments":{"x":[').encode()
    tail = b"]}}}"
    count = (MAX_REQUEST_BYTES - len(head) - len(tail) - 16) // 3
    body = head + b",".join([b"[]"] * count) + tail
    assert len(body) <= MAX_REQUEST_BYTES
    headers = {**AUTH, "Content-Type": "application/json", "Mcp-Protocol-Version": "2025-06-18",
               "Mcp-Session-Id": session}
    response = httpx2.post(f"{url}/mcp", content=body, headers=headers, timeout=120)
    return response.status_code if response.status_code == 200 else (response.status_code, response.text[:300])


def test_memory_stays_bounded_under_many_large_concurrent_calls(proxied: Proxied) -> None:
    """48 calls at once, each a body as large as allowed, all empty lists: rtk-mcp parses only a bounded number at a time."""
    session = _open_session(proxied.url)
    with ThreadPoolExecutor(max_workers=48) as pool:
        statuses = list(pool.map(lambda i: _heavy_call(proxied.url, session, i), range(2, 50)))
    assert statuses == [200] * 48, statuses[:1]  # each answered (the unknown argument as an error result)
    peak = proxied.peak_rss_mb()
    print(f"rtk-mcp peak resident memory after 48 concurrent calls of the largest body: {peak:.0f} MB")
    assert peak < MEMORY_CEILING_MB
    anyio.run(_healthy, proxied.url)
