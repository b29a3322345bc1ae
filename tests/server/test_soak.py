"""Soak: thousands of calls over one stdio session against a loopback API that fails in every way at random.

Asserts that every request is answered exactly once, that no write reaches the API twice, that the
server's memory stays bounded, and that a normal call works afterwards. The API's rate limits (250
requests per 10 s) bound how many calls can reach it in a short test, so most calls are ones the
server answers itself (bad arguments, unknown tools, pings, listings) and a few hundred go upstream.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections import Counter
from typing import Any

import anyio

from tests.conftest import TOKEN
from tests.stdio_session import JsonHandler, clean_env, loopback_api, stdio_session

UPSTREAM_CALLS = 300
LOCAL_CALLS = 2_700
PEAK_RSS_LIMIT_MB = 200
_rnd = random.Random(1414)


def _deep(levels: int) -> bytes:
    return b'{"success": true, "data": ' + b'{"a": [' * levels + b"1" + b"]}" * levels + b"}"


#: Every way the API can fail, each a function of the handler: it answers (or doesn't) in that way.
FAULTS: dict[str, Any] = {
    "ok": lambda h: h.answer({"success": True, "data": {"id": "m-1", "title": "ok"}}),
    "500": lambda h: h.answer({"success": False, "error": {"message": "boom"}}, 500),
    "502": lambda h: h.raw(502, b"<html>bad gateway</html>", "text/html"),
    "503_retry_after": lambda h: h.raw(503, b"", "text/plain", {"Retry-After": "0"}),
    "429": lambda h: h.raw(429, b"{}", "application/json", {"Retry-After": "0"}),
    "404": lambda h: h.answer({"success": False, "error": {"message": "not found"}}, 404),
    "redirect": lambda h: h.raw(302, b"", "text/plain", {"Location": "https://u:p@elsewhere.example/x?k=1"}),
    "html_200": lambda h: h.raw(200, b"<html>login</html>", "text/html"),
    "empty_200": lambda h: h.raw(200, b"", "application/json"),
    "truncated_json": lambda h: h.raw(200, b'{"success": true, "data": {"id": ', "application/json"),
    "deep_json": lambda h: h.raw(200, _deep(300), "application/json"),
    "nan": lambda h: h.raw(200, b'{"success": true, "data": {"id": "m-1", "x": NaN, "y": -Infinity}}',
                           "application/json"),
    "echo_token": lambda h: h.answer({"success": True, "data": {"id": "m-1", "note": TOKEN[:4] + "\u200b" + TOKEN[4:],
                                                                TOKEN: "\u202eevil\u202c"}}),
    "success_false": lambda h: h.answer({"success": False, "errors": [{"message": "nope " * 500}]}),
    "reset": lambda h: h.reset(),
    "bare_string": lambda h: h.raw(200, b'"just a string"', "application/json"),
}


class FaultyAPI(JsonHandler):
    """Answers each request with a fault drawn at random (or every time ``ok`` when ``calm``)."""

    calm = False
    seen: list[tuple[str, bytes, str]] = []  # method, body, the fault it was answered with
    lock = threading.Lock()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.lock:
            fault = "ok" if self.calm else _rnd.choice(list(FAULTS))
            self.seen.append((self.command, body, fault))
        FAULTS[fault](self)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def raw(self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def reset(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.close_connection = True
        self.connection.close()


def _upstream_call(n: int) -> tuple[str, dict[str, Any]]:
    return _rnd.choice([
        ("list_meetings", {"per_page": 5}),
        ("get_meeting", {"meeting_id": f"m-{n}"}),
        ("create_meeting", {"title": f"soak-{n}"}),  # a write: its title must reach the API at most once
        ("update_meeting", {"meeting_id": f"m-{n}", "title": f"soak-{n}"}),
        ("delete_webhook", {"webhook_id": f"w-{n}"}),
    ])


def _local_call(n: int) -> tuple[str, dict[str, Any] | None]:
    return _rnd.choice([
        ("tools/call", {"name": "get_meeting", "arguments": {}}),
        ("tools/call", {"name": "get_meeting", "arguments": {"meeting_id": "a\u200bb"}}),
        ("tools/call", {"name": "list_meetings", "arguments": {"page_no": 10**30}}),
        ("tools/call", {"name": "no_such_tool" * 50, "arguments": {}}),
        ("tools/call", {"name": "list_meetings", "arguments": {"search": "x" * 20_000}}),
        ("tools/list", {}),
        ("ping", None),
    ])


async def test_thousands_of_calls_with_random_faults_are_each_answered_once() -> None:
    FaultyAPI.seen.clear()
    with loopback_api(FaultyAPI) as url:
        started = time.monotonic()
        async with stdio_session(env=clean_env(CLOUDFLARE_API_TOKEN=TOKEN, CLOUDFLARE_ACCOUNT_ID="acc-9",
                                               RTK_APP_ID="app-9", RTK_API_BASE_URL=url, RTK_TIMEOUT="2")) as session:
            try:
                await session.initialize()
                kinds = ["up"] * UPSTREAM_CALLS + ["local"] * LOCAL_CALLS
                _rnd.shuffle(kinds)
                messages = []
                for n, kind in enumerate(kinds, start=1_000):
                    if kind == "up":
                        name, arguments = _upstream_call(n)
                        method, params = "tools/call", {"name": name, "arguments": arguments}
                    else:
                        method, params = _local_call(n)
                    message: dict[str, Any] = {"jsonrpc": "2.0", "id": n, "method": method}
                    if params is not None:
                        message["params"] = params
                    messages.append(json.dumps(message))
                await session.write("".join(message + "\n" for message in messages).encode())
                with anyio.fail_after(120):
                    for n in range(1_000, 1_000 + len(kinds)):
                        await session.answer_to(n)
                answers = [answer for n in range(1_000, 1_000 + len(kinds)) for answer in session.answers[n]]
                ids = Counter(answer["id"] for answer in answers)
                assert set(ids) == set(range(1_000, 1_000 + len(kinds))), "some requests were never answered"
                assert max(ids.values()) == 1, "some requests were answered twice"
                assert all("result" in answer or "error" in answer for answer in answers)
                assert TOKEN not in json.dumps(answers) and TOKEN[4:] not in json.dumps(answers)

                FaultyAPI.calm = True
                normal = await session.call("list_meetings", {})
                assert not normal.get("isError"), normal
                peak = session.peak_rss_mb()
            finally:
                FaultyAPI.calm = False
                elapsed = time.monotonic() - started
    # A 429 is a refusal before anything is done, so resending after it is right; any other answer
    # (or none) may mean the write took effect, and it must not be sent again.
    writes = Counter(body for method, body, fault in FaultyAPI.seen if method in ("POST", "PATCH") and fault != "429")
    assert writes and max(writes.values()) == 1, [body for body, times in writes.items() if times > 1][:3]
    print(f"\nsoak: {len(kinds)} calls ({UPSTREAM_CALLS} upstream, {len(FaultyAPI.seen)} API requests), "
          f"{elapsed:.1f} s, peak RSS {peak:.0f} MB")
    assert peak < PEAK_RSS_LIMIT_MB
