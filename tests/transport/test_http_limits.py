"""What a client can make the HTTP transport hold is bounded: calls at once, body size, sessions, streams.

A real uvicorn on a loopback socket (see ``serving``), the MCP wire as raw HTTP.
"""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import httpx2
import pytest

from rtk_mcp.cli import main
from rtk_mcp.server import build_server
from rtk_mcp.transport.http import MAX_REQUEST_BYTES
from tests.conftest import FakeAPI, settings
from tests.transport.test_http_transport import ACCEPT, INIT, _rpc_result, serving

VERSION = {"Mcp-Protocol-Version": "2025-06-18"}
LIST_APPS = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "list_apps", "arguments": {}}}


def _post(url: str, message: Any, **headers: str) -> httpx2.Response:
    return httpx2.post(f"{url}/mcp", json=message, headers={"Accept": ACCEPT, **VERSION, **headers}, timeout=20)


def _open_session(url: str) -> str:
    init = _post(url, INIT)
    assert init.status_code == 200, init.text
    session = init.headers["mcp-session-id"]
    assert _post(url, {"jsonrpc": "2.0", "method": "notifications/initialized"},
                 **{"Mcp-Session-Id": session}).status_code == 202
    return session


def _list_apps(url: str, session: str) -> httpx2.Response:
    return _post(url, LIST_APPS, **{"Mcp-Session-Id": session})


class HeldAPI(FakeAPI):
    """The fake API, holding every request until the test lets one go; counts how many it holds."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = threading.Condition()
        self.held = self.peak = 0
        self.releases = threading.Semaphore(0)

    async def handle_held(self, request: httpx2.Request) -> httpx2.Response:
        with self.changed:
            self.held += 1
            self.peak = max(self.peak, self.held)
            self.changed.notify_all()
        await anyio.to_thread.run_sync(self.releases.acquire)
        with self.changed:
            self.held -= 1
            self.changed.notify_all()
        return self.handle(request)

    def wait_until_held(self, count: int) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.held >= count, timeout=20), (self.held, count)


def test_calls_beyond_the_bound_wait_and_are_all_answered() -> None:
    api = HeldAPI()
    server = build_server(settings(), transport=httpx2.MockTransport(api.handle_held))
    calls = 6
    with serving(server=server, stateless=True, max_calls=2) as base, ThreadPoolExecutor(calls) as pool:
        answers = [pool.submit(_post, base, {**LIST_APPS, "id": n}) for n in range(calls)]
        for remaining in range(calls, 0, -1):
            api.wait_until_held(min(2, remaining))
            # /healthz is not one of the bounded calls: it answers while every slot is taken.
            assert httpx2.get(f"{base}/healthz", timeout=5).status_code == 200
            api.releases.release()
        results = [_rpc_result(answer.result(timeout=20))["result"] for answer in answers]
    assert api.peak == 2
    assert len(api.requests) == calls and not any(result.get("isError") for result in results)


def test_a_body_over_the_limit_is_refused_before_it_is_parsed() -> None:
    with serving(stateless=True) as base:
        padding = "x" * MAX_REQUEST_BYTES
        too_large = _post(base, {**LIST_APPS, "params": {"name": "list_apps", "arguments": {"pad": padding}}})
        assert too_large.status_code == 413
        assert _post(base, LIST_APPS).status_code == 200


@pytest.mark.parametrize("stateless", [False, True])
def test_the_get_stream_is_refused_because_nothing_would_ever_be_sent_on_it(stateless: bool) -> None:
    with serving(stateless=stateless) as base:
        headers = {} if stateless else {"Mcp-Session-Id": _open_session(base)}
        stream = httpx2.get(f"{base}/mcp", headers={"Accept": "text/event-stream", **VERSION, **headers}, timeout=5)
        assert stream.status_code == 405
        assert stream.headers["allow"] == ("POST" if stateless else "POST, DELETE")


async def test_an_idle_session_ends_though_its_client_asked_for_a_stream() -> None:
    with serving(session_idle_timeout=0.5) as base:
        session = _open_session(base)
        stream = httpx2.get(f"{base}/mcp", timeout=5,
                            headers={"Accept": "text/event-stream", **VERSION, "Mcp-Session-Id": session})
        assert stream.status_code == 405
        assert _list_apps(base, session).status_code == 200
        with anyio.fail_after(10):
            while _list_apps(base, session).status_code != 404:
                await anyio.sleep(1)  # longer than the idle timeout: the call itself does not keep it alive


def test_new_sessions_close_the_longest_idle_one_instead_of_being_refused() -> None:
    with serving(max_sessions=4) as base:
        first = _open_session(base)
        others = [_open_session(base) for _ in range(3)]
        assert _list_apps(base, others[0]).status_code == 200  # used since: no longer the longest idle
        newest = _open_session(base)
        called = _list_apps(base, newest)
        assert called.status_code == 200 and not _rpc_result(called)["result"].get("isError")
        # The longest idle was closed to make room: its id is now unknown; the rest still work.
        assert _list_apps(base, first).status_code == 404
        assert all(_list_apps(base, session).status_code == 200 for session in others)
        # And again: the next newcomer closes what is now the longest idle.
        _open_session(base)
        assert _list_apps(base, newest).status_code == 404
        assert _list_apps(base, others[0]).status_code == 200


def test_clients_pipelining_health_checks_without_reading_do_not_shut_others_out() -> None:
    """Without a proxy in front, a local process holding connections busy must not get others refused."""
    with serving() as base:
        port = int(base.rsplit(":", 1)[1])
        hogs = []
        for _ in range(50):
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.connect(("127.0.0.1", port))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 20)
            hogs.append(sock)
        try:
            assert httpx2.get(f"{base}/healthz", timeout=10).status_code == 200
            session = _open_session(base)
            assert _list_apps(base, session).status_code == 200
        finally:
            for sock in hogs:
                sock.close()


@pytest.mark.parametrize("port", ["99999", "0", "-1", "http"])
def test_a_port_out_of_range_is_a_clean_usage_error(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--sandbox", "--transport", "http", "--port", port])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "argument --port" in err and "1 to 65535" in err
