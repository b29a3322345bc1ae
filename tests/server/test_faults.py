"""Fault injection at the HTTP transport: what is resent, what the agent reads, and that the server recovers.

Every scenario runs against a read tool (list_meetings, GET: safe to resend) and a write tool
(create_meeting, POST: resent only when it certainly did not take effect). Waits between attempts
go to a fake sleep that records them, so nothing here sleeps for real.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client

from rtk_mcp.api.client import MAX_RESPONSE_BYTES, RealtimeKitClient
from rtk_mcp.config import DEFAULT_MAX_TOKENS
from rtk_mcp.results.shaping import estimate_tokens
from rtk_mcp.server import build_server
from tests.conftest import FakeAPI, settings, text_of

READ = ("list_meetings", {})
WRITE = ("create_meeting", {"title": "Standup"})
CHECK_WRITE = "outcome is unknown; check with list_meetings"
OK = {"success": True, "data": {"id": "m-1", "title": "Standup"}}


class Waits(list[float]):
    """A fake ``sleep`` that records how long the client asked to wait."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)
        await anyio.lowlevel.checkpoint()


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def serve(api: FakeAPI, waits: Waits, **client_options: Any) -> AsyncIterator[Client]:
    options = {k: client_options.pop(k) for k in list(client_options) if k == "timeout"}
    client = RealtimeKitClient(settings(**options), transport=api.transport, sleep=waits, **client_options)
    async with Client(build_server(settings(), client=client)) as mcp_client:
        yield mcp_client


Step = Callable[[httpx2.Request], httpx2.Response]


def script(*steps: Step) -> Callable[[httpx2.Request], httpx2.Response]:
    """Answer successive requests with successive steps; the last one repeats."""
    queue = list(steps)

    def respond(request: httpx2.Request) -> httpx2.Response:
        step = queue.pop(0) if len(queue) > 1 else queue[0]
        return step(request)

    return respond


def status(code: int, body: Any = None, text: str | None = None, **headers: str) -> Step:
    def step(request: httpx2.Request) -> httpx2.Response:
        if text is not None:
            return httpx2.Response(code, text=text, headers=headers)
        return httpx2.Response(code, json=body if body is not None else {"success": False}, headers=headers)

    return step


def ok(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json=OK)


def raises(error: type[httpx2.TransportError]) -> Step:
    def step(request: httpx2.Request) -> httpx2.Response:
        raise error("injected", request=request)

    return step


class _Stream(httpx2.AsyncByteStream):
    def __init__(self, chunks: list[bytes], then: Exception | None = None) -> None:
        self.chunks, self.then = chunks, then

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.then is not None:
            raise self.then


def reset_mid_body(request: httpx2.Request) -> httpx2.Response:
    stream = _Stream([b'{"success":true,"data":[{"id":"m-1"},'], httpx2.ReadError("Connection reset by peer"))
    return httpx2.Response(200, headers={"content-type": "application/json"}, stream=stream)


def huge_body(request: httpx2.Request) -> httpx2.Response:
    chunk = b" " * (1024 * 1024)  # 20 MB of whitespace, streamed: never held whole by the test
    return httpx2.Response(200, headers={"content-type": "application/json"}, stream=_Stream([chunk] * 20))


@dataclass(frozen=True)
class Fault:
    steps: tuple[Step, ...]
    read_requests: int
    write_requests: int
    read_sees: str | None  # None: the call succeeds
    write_sees: str | None
    read_waits: int = 0  # how many backoff waits a read makes
    write_waits: int = 0


FAULTS = {
    "read timeout": Fault(
        (raises(httpx2.ReadTimeout),), 3, 1,
        "The request to RealtimeKit timed out after 3 attempts. Try again.",
        f"The request to RealtimeKit timed out. It was not resent because it may have taken effect: its {CHECK_WRITE}",
        read_waits=2,
    ),
    "connection reset mid-body": Fault(
        (reset_mid_body,), 3, 1,
        "The request to RealtimeKit failed (ReadError) after 3 attempts. Try again.",
        f"The request to RealtimeKit failed (ReadError). It was not resent because it may have taken effect: its "
        f"{CHECK_WRITE}",
        read_waits=2,
    ),
    "connection refused, then up": Fault(
        (raises(httpx2.ConnectError), ok), 2, 2, None, None, read_waits=1, write_waits=1,
    ),
    "connection refused throughout": Fault(
        (raises(httpx2.ConnectError),), 3, 3,
        "Could not connect to the RealtimeKit API at https://api.test/client/v4 (ConnectError) after 3 attempts",
        "Could not connect to the RealtimeKit API at https://api.test/client/v4 (ConnectError) after 3 attempts",
        read_waits=2, write_waits=2,
    ),
    "5xx burst, then ok": Fault(
        (status(503), status(502), ok), 3, 1, None,
        f"HTTP 503: RealtimeKit had a server error. It was not resent because it may have taken effect: its "
        f"{CHECK_WRITE}",
        read_waits=2,
    ),
    "5xx throughout": Fault(
        (status(500, {"errors": [{"message": "internal"}]}),), 3, 1,
        "HTTP 500: RealtimeKit had a server error: internal. Try again.",
        "HTTP 500: RealtimeKit had a server error: internal. It was not resent", read_waits=2,
    ),
    "html body": Fault(
        (status(200, text="<html><body>Bad gateway</body></html>", **{"content-type": "text/html"}),), 1, 1,
        "The RealtimeKit API answered HTTP 200 with a body that is not JSON (text/html). Try again.",
        f"The RealtimeKit API answered HTTP 200 with a body that is not JSON (text/html). It was not resent "
        f"because it may have taken effect: its {CHECK_WRITE}",
    ),
    "empty body": Fault(
        (status(200, text=""),), 1, 1,
        "The RealtimeKit API answered HTTP 200 with an empty body where JSON was expected. Try again.",
        f"The RealtimeKit API answered HTTP 200 with an empty body where JSON was expected. It was not resent "
        f"because it may have taken effect: its {CHECK_WRITE}",
    ),
    "malformed json": Fault(
        (status(200, text='{"success": true, "data": [', **{"content-type": "application/json"}),), 1, 1,
        "not JSON (application/json). Try again.", "not JSON (application/json). It was not resent",
    ),
    "success false on 200": Fault(
        (status(200, {"success": False, "error": {"code": 9, "message": "quota exceeded"}}),), 1, 1,
        "The RealtimeKit API reported a failure (HTTP 200): quota exceeded.",
        "The RealtimeKit API reported a failure (HTTP 200): quota exceeded.",
    ),
    "unknown error shape": Fault(
        (status(418, {"oops": {"nested": True}}),), 1, 1, "HTTP 418.", "HTTP 418.",
    ),
    "tens of megabytes": Fault(
        (huge_body,), 1, 1,
        f"The RealtimeKit API sent more than {MAX_RESPONSE_BYTES // 2**20} MB for one call; it was not read.",
        f"The RealtimeKit API sent more than {MAX_RESPONSE_BYTES // 2**20} MB for one call; it was not read.",
    ),
    "429 with a short Retry-After": Fault(
        (status(429, **{"retry-after": "2"}), ok), 2, 2, None, None,
    ),
    "429 with a long Retry-After": Fault(
        (status(429, **{"retry-after": "120"}),), 1, 1,
        "HTTP 429 Too Many Requests: the RealtimeKit rate limit was hit. Retry after 120 s.",
        "HTTP 429 Too Many Requests: the RealtimeKit rate limit was hit. Retry after 120 s.",
    ),
}


@pytest.mark.parametrize("tool", [READ, WRITE], ids=["read", "write"])
@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
async def test_fault(fault: Fault, tool: tuple[str, dict[str, Any]]) -> None:
    name, arguments = tool
    reading = tool is READ
    api, waits = FakeAPI(responder=script(*fault.steps)), Waits()
    async with serve(api, waits) as client:
        with anyio.fail_after(10):
            result = await client.call_tool(name, arguments)
        sent = len(api.requests)
        expected = fault.read_sees if reading else fault.write_sees
        if expected is None:
            assert not result.is_error, text_of(result)
            assert result.structured_content == {"id": "m-1", "title": "Standup"}
        else:
            assert result.is_error
            assert expected in text_of(result)
            assert "Traceback" not in text_of(result) and "injected" not in text_of(result)
        assert sent == (fault.read_requests if reading else fault.write_requests)
        assert all(r.method == ("GET" if reading else "POST") for r in api.requests)
        # Backoff: 0.5 s doubling, each with jitter into the upper half of its step.
        backoffs = [w for w in waits if w != 2.0]  # 2.0: the short Retry-After, honoured as asked
        assert len(backoffs) == (fault.read_waits if reading else fault.write_waits)
        for attempt, wait in enumerate(backoffs, start=1):
            assert 0.25 * 2 ** (attempt - 1) <= wait <= 0.5 * 2 ** (attempt - 1)

        api.responder = None  # the API is healthy again: the very next call works
        again = await client.call_tool(name, arguments)
        assert not again.is_error, text_of(again)
        assert len(api.requests) == sent + 1


async def test_a_short_retry_after_is_honoured_exactly() -> None:
    api, waits = FakeAPI(responder=script(status(429, **{"retry-after": "2"}), ok)), Waits()
    async with serve(api, waits) as client:
        result = await client.call_tool(*WRITE)
    assert not result.is_error and waits == [2.0] and len(api.requests) == 2


async def test_a_long_retry_after_fails_fast_with_the_wait_in_the_error() -> None:
    api, waits = FakeAPI(responder=status(429, **{"retry-after": "120"})), Waits()
    async with serve(api, waits) as client:
        result = await client.call_tool(*READ)
    assert result.is_error and waits == [] and len(api.requests) == 1
    assert result.structured_content == {"error": text_of(result), "status": 429, "retry_after_s": 120}


async def test_retry_after_as_an_http_date() -> None:
    in_3_s = email.utils.formatdate(time.time() + 3, usegmt=True)
    api, waits = FakeAPI(responder=script(status(503, **{"retry-after": in_3_s}), ok)), Waits()
    async with serve(api, waits) as client:
        result = await client.call_tool(*READ)
    assert not result.is_error and len(api.requests) == 2
    assert len(waits) == 1 and 1.0 <= waits[0] <= 3.0  # whole seconds in the header; time has moved on


async def test_retry_after_as_a_distant_http_date_fails_fast() -> None:
    in_10_min = email.utils.formatdate(time.time() + 600, usegmt=True)
    api, waits = FakeAPI(responder=status(429, **{"retry-after": in_10_min})), Waits()
    async with serve(api, waits) as client:
        result = await client.call_tool(*WRITE)
    assert result.is_error and waits == [] and len(api.requests) == 1
    assert 590 <= result.structured_content["retry_after_s"] <= 600


async def test_retry_after_ms_wins_and_is_in_milliseconds() -> None:
    api, waits = FakeAPI(responder=script(status(429, **{"retry-after-ms": "1500", "retry-after": "9"}), ok)), Waits()
    async with serve(api, waits) as client:
        result = await client.call_tool(*WRITE)
    assert not result.is_error and waits == [1.5] and len(api.requests) == 2


async def test_retries_stop_when_the_next_wait_would_pass_the_deadline() -> None:
    clock = FakeClock()

    class AdvancingWaits(Waits):
        async def __call__(self, seconds: float) -> None:
            clock.now += seconds
            await super().__call__(seconds)

    api, waits = FakeAPI(responder=status(503, **{"retry-after": "40"})), AdvancingWaits()
    async with serve(api, waits, clock=clock, deadline=60.0) as client:
        result = await client.call_tool(*READ)
    # One 40 s wait fits in 60 s; a second would end at 80 s, so the 503 is reported instead.
    assert waits == [40.0] and len(api.requests) == 2
    assert result.is_error and "HTTP 503" in text_of(result) and "asked to wait 40 s" in text_of(result)


async def test_a_hanging_api_is_cut_off_by_the_overall_deadline() -> None:
    async def hang(request: httpx2.Request) -> httpx2.Response:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    client = RealtimeKitClient(settings(), transport=httpx2.MockTransport(hang), sleep=Waits(), deadline=0.2)
    async with Client(build_server(settings(), client=client)) as mcp_client:
        with anyio.fail_after(5):
            result = await mcp_client.call_tool(*WRITE)
    assert result.is_error
    assert text_of(result) == (
        f"The call did not finish within 0.2 s overall. It was not resent because it may have taken effect: its "
        f"{CHECK_WRITE} before retrying."
    )


async def test_each_attempt_has_its_own_timeout() -> None:
    attempts = 0

    async def hang(request: httpx2.Request) -> httpx2.Response:
        nonlocal attempts
        attempts += 1
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    waits = Waits()
    client = RealtimeKitClient(settings(timeout=0.05), transport=httpx2.MockTransport(hang), sleep=waits)
    async with Client(build_server(settings(), client=client)) as mcp_client:
        with anyio.fail_after(5):
            result = await mcp_client.call_tool(*READ)
    assert result.is_error and "timed out after 3 attempts" in text_of(result)
    assert attempts == 3 and len(waits) == 2


async def test_a_multi_megabyte_list_is_cut_item_wise_and_says_how_to_page() -> None:
    items = [{"id": f"m-{i}", "title": "weekly planning " * 20} for i in range(10_000)]  # about 3.5 MB
    body = {"success": True, "data": items, "paging": {"total_count": 10_000, "start_offset": 0, "end_offset": 9999}}
    api = FakeAPI(responder=lambda request: httpx2.Response(200, json=body))
    async with serve(api, Waits()) as client:
        result = await client.call_tool("list_meetings", {"per_page": 10_000})
    assert not result.is_error
    text = text_of(result)
    assert estimate_tokens(text) <= DEFAULT_MAX_TOKENS
    shown = json.loads(text)  # still valid JSON
    kept = len(shown["data"])
    assert 200 < kept < 10_000 and shown["data"] == items[:kept]
    note = shown["truncated"]
    assert note["omitted"] == 10_000 - kept and note["returned"] == kept
    assert note["next"] == {"page_no": 2, "per_page": kept}
    assert f"per_page={kept} and page_no=2" in note["how_to_get_more"] and "fields" in note["how_to_get_more"]


async def test_a_cut_on_a_late_page_advises_a_few_calls_not_hundreds() -> None:
    items = [{"id": f"m-{i}", "title": "weekly planning " * 20} for i in range(1_000)]
    body = {"success": True, "data": items, "paging": {"total_count": 5_000, "start_offset": 3_000}}
    api = FakeAPI(responder=lambda request: httpx2.Response(200, json=body))
    async with serve(api, Waits()) as client:
        result = await client.call_tool("list_meetings", {"page_no": 4, "per_page": 1_000})
    note = json.loads(text_of(result))["truncated"]
    kept, per_page, first = note["returned"], note["next"]["per_page"], note["next"]["page_no"]
    # The suggested pages cover every omitted item, starting at or before the first of them ...
    assert (first - 1) * per_page <= 3_000 + kept < first * per_page
    calls = -(-(3_000 + 1_000) // per_page) - first + 1
    assert calls * per_page >= note["omitted"]
    # ... in about as many calls as the omitted items need at this size, not one call per item.
    assert calls <= -(-note["omitted"] // kept) + 1
