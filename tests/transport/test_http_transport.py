"""rtk-mcp over Streamable HTTP: a real uvicorn on a loopback socket, reached by the MCP SDK's client.

No network beyond 127.0.0.1; the API behind the tools is the offline sandbox.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.lowlevel import Server

from rtk_mcp.sandbox import sandbox_settings, sandbox_transport
from rtk_mcp.server import build_server
from rtk_mcp.transport.http import (
    BindRefused,
    build_http_app,
    check_bind,
    is_loopback,
    security_settings,
    uvicorn_config,
)

HTTP_TOKEN = "http-t0ken-s3cret-abcdefghijklmnop"
ACCEPT = "application/json, text/event-stream"
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}


@contextmanager
def serving(server: Server[Any] | None = None, **options: Any) -> Iterator[str]:
    """Serve ``server`` (by default a sandbox-backed rtk-mcp) with uvicorn on a free loopback port; yields
    the base URL."""
    if server is None:
        server = build_server(sandbox_settings(), transport=sandbox_transport())
    app = build_http_app(server, **options)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    served = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port))
    thread = threading.Thread(target=served.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not served.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        served.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _post(url: str, message: dict[str, Any], **headers: str) -> httpx2.Response:
    return httpx2.post(url, json=message, headers={"Accept": ACCEPT, **headers}, timeout=10)


def _rpc_result(response: httpx2.Response) -> dict[str, Any]:
    """The JSON-RPC message of a Streamable HTTP answer, whether sent as JSON or as one SSE event."""
    if response.headers["content-type"].startswith("application/json"):
        return response.json()
    data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
    return json.loads(data[-1])


async def test_initialize_list_and_call_over_a_loopback_socket() -> None:
    with serving() as base:
        async with Client(f"{base}/mcp") as client:
            listed = await client.list_tools()
            assert len(listed.tools) == 53
            apps = await client.call_tool("list_apps", {})
            assert not apps.is_error
            assert apps.structured_content is not None and apps.structured_content["data"][0]["name"] == "Sandbox App"
            missing = await client.call_tool("get_meeting", {"meeting_id": "no-such-meeting"})
            assert missing.is_error
            assert "list_meetings" in missing.content[0].text  # type: ignore[union-attr]


async def test_raw_streamable_http_session() -> None:
    """The wire as a non-SDK client sees it: a session id on initialize, then requests under it."""
    with serving() as base:
        init = _post(f"{base}/mcp", INIT)
        assert init.status_code == 200
        assert _rpc_result(init)["result"]["serverInfo"]["name"] == "rtk-mcp"
        session = init.headers["mcp-session-id"]
        headers = {"Mcp-Session-Id": session, "Mcp-Protocol-Version": "2025-06-18"}
        assert _post(f"{base}/mcp", {"jsonrpc": "2.0", "method": "notifications/initialized"}, **headers).status_code == 202
        listed = _rpc_result(_post(f"{base}/mcp", {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, **headers))
        assert len(listed["result"]["tools"]) == 53


def test_health_endpoint() -> None:
    with serving() as base:
        response = httpx2.get(f"{base}/healthz", timeout=5)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert httpx2.head(f"{base}/healthz", timeout=5).status_code == 200


def test_foreign_origin_and_host_are_refused() -> None:
    """DNS-rebinding protection: a page on another origin (or a rebound name) cannot reach /mcp."""
    with serving() as base:
        port = base.rsplit(":", 1)[1]
        assert _post(f"{base}/mcp", INIT, Origin="http://evil.example").status_code == 403
        assert _post(f"{base}/mcp", INIT, Origin=f"http://evil.example:{port}").status_code == 403
        assert _post(f"{base}/mcp", INIT, Host=f"evil.example:{port}").status_code == 421
        assert _post(f"{base}/mcp", INIT, Origin=f"http://localhost:{port}").status_code == 200
        assert _post(f"{base}/mcp", INIT, Host=f"localhost:{port}").status_code == 200


def test_extra_allowed_hosts_and_origins() -> None:
    with serving(allowed_hosts=["mcp.example.com"], allowed_origins=["https://app.example.com"]) as base:
        assert _post(f"{base}/mcp", INIT, Host="mcp.example.com").status_code == 200
        assert _post(f"{base}/mcp", INIT, Host="mcp.example.com:8443").status_code == 200
        assert _post(f"{base}/mcp", INIT, Origin="https://app.example.com").status_code == 200
        assert _post(f"{base}/mcp", INIT, Origin="https://other.example.com").status_code == 403
        assert _post(f"{base}/mcp", INIT, Host="other.example.com").status_code == 421


async def test_bearer_token_is_required_when_configured() -> None:
    with serving(token=HTTP_TOKEN) as base:
        missing = _post(f"{base}/mcp", INIT)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Bearer")
        assert HTTP_TOKEN not in missing.text
        assert _post(f"{base}/mcp", INIT, Authorization=f"Bearer {HTTP_TOKEN}x").status_code == 401
        assert _post(f"{base}/mcp", INIT, Authorization=f"Basic {HTTP_TOKEN}").status_code == 401
        assert _post(f"{base}/mcp", INIT, Authorization=f"Bearer {HTTP_TOKEN}").status_code == 200
        # The orchestrator's probe needs no token (and learns nothing).
        assert httpx2.get(f"{base}/healthz", timeout=5).status_code == 200

        async with (httpx2.AsyncClient(headers={"Authorization": f"Bearer {HTTP_TOKEN}"}) as http,
                    Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client):
            assert len((await client.list_tools()).tools) == 53
            assert not (await client.call_tool("list_apps", {})).is_error


async def test_stateless_mode_serves_each_request_on_its_own() -> None:
    with serving(stateless=True) as base:
        async with Client(f"{base}/mcp") as client:
            assert len((await client.list_tools()).tools) == 53
            assert not (await client.call_tool("list_meetings", {"per_page": 1})).is_error
        # No session to stick to: any instance behind a load balancer can answer any request.
        init = _post(f"{base}/mcp", INIT)
        assert init.status_code == 200 and "mcp-session-id" not in init.headers
        listed = _post(f"{base}/mcp", {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
                       **{"Mcp-Protocol-Version": "2025-06-18"})
        assert len(_rpc_result(listed)["result"]["tools"]) == 53


def test_loopback_detection_and_bind_policy() -> None:
    for host in ("127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.10", "example.com", "localhost.example.com"):
        assert not is_loopback(host), host
    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", "a-token")
    for host in ("0.0.0.0", "::", "192.0.2.1", "example.com"):
        with pytest.raises(BindRefused, match="RTK_MCP_HTTP_TOKEN"):
            check_bind(host, None)
        with pytest.raises(BindRefused):
            check_bind(host, "")
    settings = security_settings("0.0.0.0", allowed_hosts=["mcp.example.com"])
    assert "0.0.0.0:*" not in settings.allowed_hosts
    assert {"127.0.0.1:*", "localhost:*", "[::1]:*", "mcp.example.com", "mcp.example.com:*"} <= set(
        settings.allowed_hosts)
    # A name given with its port matches that port only; a bare IPv6 address is bracketed as in a Host header.
    with_ports = security_settings("127.0.0.1", allowed_hosts=["mcp.example.com:8443", "2001:db8::1"]).allowed_hosts
    assert "mcp.example.com:8443" in with_ports and "mcp.example.com:*" not in with_ports
    assert {"[2001:db8::1]", "[2001:db8::1]:*"} <= set(with_ports)


def _cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "RTK_"))}
    env.update(extra)
    return env


def test_cli_refuses_a_non_loopback_bind_without_a_token() -> None:
    done = subprocess.run([sys.executable, "-m", "rtk_mcp", "--sandbox", "--transport", "http", "--host", "0.0.0.0"],
                          capture_output=True, text=True, timeout=30, env=_cli_env(), check=False)
    assert done.returncode == 2
    assert "refusing to serve" in done.stderr and "RTK_MCP_HTTP_TOKEN" in done.stderr
    assert done.stdout == ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_cli_serves_http_and_says_so_on_stderr() -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "rtk_mcp", "--sandbox", "--transport", "http", "--port", str(port), "--stateless",
         "--toolsets", "apps,meetings"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_cli_env(RTK_MCP_HTTP_TOKEN=HTTP_TOKEN),
    )
    try:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {HTTP_TOKEN}"}, timeout=5) as http:
            with anyio.fail_after(20):
                while True:
                    assert process.poll() is None, process.communicate()
                    try:
                        if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                            break
                    except httpx2.TransportError:
                        await anyio.sleep(0.1)  # not listening yet
            assert _post(f"http://127.0.0.1:{port}/mcp", INIT).status_code == 401
            async with Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)) as client:
                assert len((await client.list_tools()).tools) == 13
    finally:
        process.terminate()
        stdout, stderr = process.communicate(timeout=20)
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal (exit status -15).
    assert process.returncode in (0, -signal.SIGTERM)
    assert "Traceback" not in stderr.decode()
    first = stderr.decode().splitlines()[0]
    assert first.startswith("rtk-mcp ") and "13 tools (toolsets apps,meetings)" in first
    assert "offline sandbox" in first and f"http://127.0.0.1:{port}/mcp" in first
    assert "stateless" in first and "bearer token required" in first
    assert HTTP_TOKEN.encode() not in stdout + stderr
