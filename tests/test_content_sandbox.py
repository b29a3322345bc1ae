"""Meeting content through MCP against the offline sandbox: the three content tools, the
resources behind them, the summary wait and the sanitising of what participants wrote."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.shared.exceptions import MCPError

from rtk_mcp.content import SOURCE
from rtk_mcp.server import build_server
from rtk_mcp.testing import SEED, call, call_error, sandbox_client
from tests.conftest import settings


async def test_each_content_tool_returns_readable_content_for_a_seeded_session() -> None:
    with anyio.fail_after(20):
        async with sandbox_client() as client:
            transcript = await call(client, "get_session_transcript", {"session_id": SEED.session_ended,
                                                                       "include_content": True})
            chat = await call(client, "get_session_chat", {"session_id": SEED.session_ended, "include_content": True})
            summary = await call(client, "get_session_summary", {"session_id": SEED.session_ended,
                                                                 "include_content": True})
            plain = await call(client, "get_session_transcript", {"session_id": SEED.session_ended})
    utterances = transcript["content"]["utterances"]
    assert transcript["content"]["source"] == SOURCE and len(utterances) == transcript["content"]["total"] >= 8
    assert {"Alice Chen", "Bob Martin", "Carol Diaz"} <= {u["speaker"] for u in utterances}
    assert all(u["text"] and u["t"] for u in utterances)
    assert {"Alice Chen", "Carol Diaz"} <= {m["speaker"] for m in chat["content"]["messages"]}
    assert "Action items" in summary["content"]["text"]
    # Without include_content the result is what it always was: the link and its expiry.
    assert "content" not in plain and plain["transcript_download_url"].startswith("http://sandbox/")


async def test_resource_templates_reads_and_links_reach_the_same_content() -> None:
    with anyio.fail_after(20):
        async with sandbox_client() as client:
            templates = await client.list_resource_templates()
            uri = f"realtimekit://sessions/{SEED.session_ended}/transcript"
            read = await client.read_resource(uri)
            result = await client.call_tool("get_session_chat", {"session_id": SEED.session_ended})
            links = [block for block in result.content if block.type == "resource_link"]
            linked = await client.read_resource(links[0].uri)
            try:
                await client.read_resource("realtimekit://sessions/no-such-session/transcript")
            except MCPError as exc:
                missing = exc.message
            else:
                missing = ""
    assert {t.uri_template for t in templates.resource_templates} == {
        f"realtimekit://sessions/{{session_id}}/{kind}" for kind in ("transcript", "chat", "summary")}
    body = json.loads(read.contents[0].text)
    assert read.contents[0].mime_type == "application/json"
    assert body["content"]["source"] == SOURCE and body["content"]["utterances"]
    assert str(links[0].uri) == f"realtimekit://sessions/{SEED.session_ended}/chat"
    assert json.loads(linked.contents[0].text)["content"]["messages"]
    assert "404" in missing and "list_sessions" in missing


async def test_resources_follow_the_tool_selection() -> None:
    async with sandbox_client(tools=["get_session_summary"]) as client:
        templates = await client.list_resource_templates()
    assert [t.name for t in templates.resource_templates] == ["session_summary"]


class PollingClock:
    """The client's clock and sleep in one: each pause moves time on at once, and the fake API's
    summary appears once ``ready_at`` seconds have passed."""

    def __init__(self, ready_at: float) -> None:
        self.now = 0.0
        self.ready_at = ready_at
        self.polls = 0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await anyio.lowlevel.checkpoint()

    def api(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/summary"):
            self.polls += 1
            if self.now < self.ready_at:
                return httpx2.Response(404, json={"success": False, "error": {"code": 404, "message": "Summary not found"}})
            return httpx2.Response(200, json={"success": True, "data": {
                "sessionId": "s", "summaryDownloadUrl": "https://storage.test/summary.md?sig=1"}})
        return httpx2.Response(200, text="## Summary\n- Action items: ship it")


async def wait_for_summary(clock: PollingClock, wait_s: int) -> tuple[Any, list[tuple[float, float | None]]]:
    from rtk_mcp.client import RealtimeKitClient

    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total))

    client = RealtimeKitClient(settings(), transport=httpx2.MockTransport(clock.api), sleep=clock.sleep, clock=clock)
    with anyio.fail_after(10):
        async with Client(build_server(settings(), client=client)) as mcp:
            result = await mcp.call_tool("get_session_summary", {"session_id": "s", "include_content": True,
                                                                 "wait_s": wait_s}, progress_callback=on_progress)
    return result, progress


async def test_the_summary_wait_returns_as_soon_as_the_summary_appears_with_progress() -> None:
    clock = PollingClock(ready_at=12)
    result, progress = await wait_for_summary(clock, wait_s=60)
    assert not result.is_error
    assert result.structured_content["content"]["text"].endswith("ship it")
    assert clock.polls == 4 and clock.now == 15  # polls at 0, 5, 10, 15 s: the first after it appeared
    assert progress == [(0, 60), (5, 60), (10, 60)]


async def test_the_summary_wait_gives_up_at_the_callers_maximum() -> None:
    clock = PollingClock(ready_at=1_000)
    result, progress = await wait_for_summary(clock, wait_s=12)
    text = result.content[0].text
    assert result.is_error and "No summary yet after waiting 12 s" in text and "try again later" in text
    assert clock.now == 12 and [done for done, _ in progress] == [0, 5, 10]


async def test_a_wait_on_a_session_without_a_summary_ends_at_the_maximum() -> None:
    async with sandbox_client() as client:
        with anyio.fail_after(5):
            message = await call_error(client, "get_session_summary", {"session_id": SEED.session_live, "wait_s": 1})
    assert "No summary yet after waiting 1 s" in message
