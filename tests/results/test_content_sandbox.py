"""Meeting content through MCP against the offline sandbox: the three content tools, the
resources behind them, the summary wait and the sanitising of what participants wrote."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.shared.exceptions import MCPError

from rtk_mcp.api.client import RealtimeKitClient
from rtk_mcp.results.content import SOURCE
from rtk_mcp.sandbox import (
    ManualClock,
    sandbox_app,
    sandbox_settings,
    sandbox_transport,
)
from rtk_mcp.sandbox.handlers.recordings import UPLOAD_DELAY
from rtk_mcp.sandbox.handlers.sessions import SUMMARY_DELAY
from rtk_mcp.server import build_server
from rtk_mcp.testing import SEED, call, sandbox_client


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
            try:
                await client.read_resource("realtimekit://meetings/x/notes")
            except MCPError as exc:
                unknown = exc.message
            else:
                unknown = ""
    assert {t.uri_template for t in templates.resource_templates} == {
        f"realtimekit://sessions/{{session_id}}/{kind}{{?app_id}}" for kind in ("transcript", "chat", "summary")}
    body = json.loads(read.contents[0].text)
    assert read.contents[0].mime_type == "application/json"
    assert body["content"]["source"] == SOURCE and body["content"]["utterances"]
    assert str(links[0].uri) == f"realtimekit://sessions/{SEED.session_ended}/chat"
    assert json.loads(linked.contents[0].text)["content"]["messages"]
    assert "404" in missing and "list_sessions" in missing
    assert "resources/templates/list" in unknown


async def test_resources_follow_the_tool_selection() -> None:
    async with sandbox_client(tools=["get_session_summary"]) as client:
        templates = await client.list_resource_templates()
    assert [t.name for t in templates.resource_templates] == ["session_summary"]


class SandboxTime:
    """One clock for the sandbox and the server's client: each pause the server takes between polls
    moves the sandbox's clock by as much, at once (no real waiting)."""

    def __init__(self) -> None:
        self.sandbox = ManualClock()
        self.elapsed = 0.0

    def __call__(self) -> float:
        return self.elapsed

    async def sleep(self, seconds: float) -> None:
        self.elapsed += seconds
        self.sandbox.advance(seconds)
        await anyio.lowlevel.checkpoint()


async def summary_after_generating(wait_s: int) -> tuple[Any, list[tuple[float, float | None]], float]:
    """Generate the no-summary session's summary, then read it waiting up to ``wait_s``; the result,
    the progress notifications and how long (sandbox time) the wait took."""
    time = SandboxTime()
    config = sandbox_settings()
    client = RealtimeKitClient(config, transport=sandbox_transport(clock=time.sandbox), sleep=time.sleep, clock=time)
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total))

    with anyio.fail_after(10):
        async with Client(build_server(config, client=client)) as mcp:
            await call(mcp, "generate_session_summary", {"session_id": SEED.session_no_summary})
            result = await mcp.call_tool("get_session_summary", {
                "session_id": SEED.session_no_summary, "include_content": True, "wait_s": wait_s,
            }, progress_callback=on_progress)
    return result, progress, time.elapsed


async def test_the_summary_wait_returns_as_soon_as_the_sandbox_summary_appears() -> None:
    assert SUMMARY_DELAY == timedelta(seconds=20)  # polls at 0, 5, 10, 15 and 20 s of sandbox time
    result, progress, waited = await summary_after_generating(wait_s=60)
    assert not result.is_error, result.content[0].text
    assert "Product Launch Webinar" in result.structured_content["content"]["text"]
    assert waited == 20
    assert progress == [(0, 60), (5, 60), (10, 60), (15, 60)]


async def test_the_summary_wait_gives_up_at_the_callers_maximum() -> None:
    result, progress, waited = await summary_after_generating(wait_s=12)
    text = result.content[0].text
    assert result.is_error and "No summary yet after waiting 12 s" in text and "try again later" in text
    assert waited == 12 and [done for done, _ in progress] == [0, 5, 10]


async def test_invisible_and_bidi_characters_in_seeded_content_are_gone_from_what_the_agent_reads() -> None:
    transport = sandbox_transport()
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox") as raw:
        csv_text = (await raw.get(f"/sandbox-files/sessions/{SEED.session_ended}/transcript.csv")).text
    assert "re\u200blease\u202e notes\u202c" in csv_text  # the seeded line really carries them
    async with sandbox_client() as client:
        transcript = await call(client, "get_session_transcript", {"session_id": SEED.session_ended, "limit": 1000})
        chat = await call(client, "get_session_chat", {"session_id": SEED.session_ended, "include_content": True})
    texts = [u["text"] for u in transcript["content"]["utterances"]]
    assert "Rollback steps are in the wiki; search for release notes." in texts
    read = json.dumps([transcript, chat], ensure_ascii=False)
    assert not any(ch in read for ch in "\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")
    # ...while an emoji joined by a zero-width joiner stays whole, and the link and emoji survive.
    messages = [m["text"] for m in chat["content"]["messages"]]
    assert "That was me - I'll send it to Dana \U0001f469\u200d\U0001f4bb" in messages
    assert any("https://wiki.example.com/release/rc2-rollback" in m for m in messages)


async def test_windows_over_a_long_sandbox_transcript_come_back_in_order_with_nothing_lost_or_repeated() -> None:
    app = sandbox_app()
    count = 3_000
    with app.state.sandbox.store.transaction() as state:
        session = state["sessions"][SEED.session_ended]
        speaker = session["_transcript"][0]
        session["_transcript"] = [{**speaker, "text": f"utterance {i}"} for i in range(count)]
    config = sandbox_settings()
    seen: list[str] = []
    windows = 0
    with anyio.fail_after(60):
        async with Client(build_server(config, transport=httpx2.ASGITransport(app=app))) as client:
            arguments: dict[str, Any] = {"session_id": SEED.session_ended, "include_content": True}
            while True:
                result = await call(client, "get_session_transcript", arguments)
                content = result["content"]
                assert content["offset"] == len(seen) and content["total"] == count
                seen += [u["text"] for u in content["utterances"]]
                windows += 1
                if "next" not in content:
                    break
                assert content["remaining"] == count - len(seen)
                arguments = {"session_id": SEED.session_ended, **content["next"]}
    assert seen == [f"utterance {i}" for i in range(count)]
    assert windows == count // 200  # the default window: 200 entries


async def test_a_window_over_the_result_budget_ends_early_and_names_the_exact_next_window() -> None:
    budget_chars = 600 * 4  # --max-result-tokens 600
    server = build_server(replace(sandbox_settings(), max_result_tokens=600), transport=sandbox_transport())
    seen: list[str] = []
    with anyio.fail_after(20):
        async with Client(server) as client:
            arguments: dict[str, Any] = {"session_id": SEED.session_ended, "limit": 1000}
            while True:
                result = await client.call_tool("get_session_transcript", arguments)
                assert not result.is_error and len(result.content[0].text) <= budget_chars
                content = result.structured_content["content"]
                assert 0 < len(content["utterances"]) < 40 and content["offset"] == len(seen)
                seen += [u["text"] for u in content["utterances"]]
                if "next" not in content:
                    break
                arguments = {"session_id": SEED.session_ended, **content["next"]}
        async with sandbox_client() as client:
            whole = await call(client, "get_session_transcript", {"session_id": SEED.session_ended, "limit": 1000})
    assert "truncated" not in result.structured_content  # the generic cut never had to step in
    assert seen == [u["text"] for u in whole["content"]["utterances"]] and len(seen) == 40


async def test_clients_of_a_protocol_before_resource_links_get_none() -> None:
    from tests.stdio_session import stdio_session

    async def links(protocol: str) -> list[dict[str, Any]]:
        async with stdio_session("--sandbox") as session:
            await session.request("initialize", {"protocolVersion": protocol, "capabilities": {},
                                                 "clientInfo": {"name": "test", "version": "0"}})
            await session.notify("notifications/initialized")
            result = await session.call("get_session_summary", {"session_id": SEED.session_ended})
        assert not result.get("isError"), result
        return [block for block in result["content"] if block["type"] == "resource_link"]

    assert await links("2025-03-26") == []
    [link] = await links("2025-06-18")
    assert link["uri"] == f"realtimekit://sessions/{SEED.session_ended}/summary"


async def recording_read(stop: bool, wait_s: int) -> tuple[Any, list[tuple[float, float | None, str | None]], float]:
    """Start a recording of the live meeting (and stop it, if ``stop``), then read it waiting up to
    ``wait_s``: the result, the progress notifications and how long (sandbox time) the wait took."""
    time = SandboxTime()
    config = sandbox_settings()
    client = RealtimeKitClient(config, transport=sandbox_transport(clock=time.sandbox), sleep=time.sleep, clock=time)
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    with anyio.fail_after(10):
        async with Client(build_server(config, client=client)) as mcp:
            started = await call(mcp, "start_recording", {"meeting_id": SEED.meeting_live})
            if stop:
                time.sandbox.advance(5)
                await call(mcp, "update_recording", {"recording_id": started["id"], "action": "stop"})
            result = await mcp.call_tool("get_recording", {"recording_id": started["id"], "wait_s": wait_s},
                                         progress_callback=on_progress)
    return result, progress, time.elapsed


async def test_get_recording_waits_for_the_upload_with_progress() -> None:
    assert UPLOAD_DELAY == timedelta(seconds=10)  # polls at 0, 5 and 10 s of sandbox time
    result, progress, waited = await recording_read(stop=True, wait_s=60)
    assert not result.is_error, result.content[0].text
    assert result.structured_content["status"] == "UPLOADED" and result.structured_content["download_url"]
    assert waited == 10
    assert [(done, total) for done, total, _ in progress] == [(0, 60), (5, 60)]
    assert all("UPLOADING" in (message or "") for _, _, message in progress)


async def test_get_recording_returns_the_recording_as_it_is_when_the_wait_ends_first() -> None:
    result, progress, waited = await recording_read(stop=False, wait_s=12)
    assert not result.is_error, result.content[0].text
    assert result.structured_content["status"] == "RECORDING"
    assert waited == 12 and [done for done, _, _ in progress] == [0, 5, 10]

