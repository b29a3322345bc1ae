"""Webhooks are delivered from the sandbox as RealtimeKit delivers them: signed, once, in order, retried."""

from __future__ import annotations

import json
import re
import threading
from http.server import HTTPServer
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client

from rtk_mcp.testing import SEED, ManualClock, Sandbox, call, sandbox_client
from tests.webhook_receiver import receiver, verify

ALL_EVENTS = [
    "meeting.started", "meeting.ended", "meeting.participantJoined", "meeting.participantLeft", "meeting.chatSynced",
    "recording.statusUpdate", "livestreaming.statusUpdate", "meeting.transcript", "meeting.summary",
]
EVERYTHING_ON = {"record_on_start": True, "live_stream_on_start": True, "persist_chat": True, "summarize_on_end": True}


async def _webhook(client: Client, url: str, events: list[str] = ALL_EVENTS, **extra: Any) -> str:
    return (await call(client, "create_webhook", {"name": "receiver", "url": url, "events": events, **extra}))["id"]


async def _a_meeting_happens(client: Client, sandbox: Sandbox, **settings: Any) -> str:
    """Two people meet, talk, chat and leave; the session ends and everything it set off finishes."""
    meeting = await call(client, "create_meeting", {"title": "Standup", **settings})
    for name in ("ada", "ben"):
        await call(client, "add_participant", {"meeting_id": meeting["id"], "name": name.title(),
                                                "preset_name": "group_call_host", "custom_participant_id": name})
    await sandbox.join(meeting["id"], "ada")
    await sandbox.join(meeting["id"], "ben")
    await sandbox.advance(10)
    await sandbox.say(meeting["id"], "ada", "Good morning.")
    await sandbox.chat(meeting["id"], "ben", "Morning!")
    await sandbox.leave(meeting["id"], "ben")
    await sandbox.leave(meeting["id"], "ada")
    await sandbox.advance(600)
    return meeting["id"]


async def _published_key(sandbox: Sandbox) -> str:
    async with httpx2.AsyncClient(transport=sandbox.transport(), base_url="http://sandbox") as http:
        answer = await http.get("/.well-known/webhooks.json")
    assert answer.status_code == 200 and answer.json()["success"] is True
    return answer.json()["data"]["publicKey"]


async def test_every_event_of_a_meeting_reaches_a_loopback_receiver_once_signed_with_the_published_key() -> None:
    sandbox = Sandbox(clock=ManualClock())
    with receiver() as sink, anyio.fail_after(30):
        async with sandbox_client(sandbox=sandbox) as client:
            hook_id = await _webhook(client, sink.url + "/events")
            meeting_id = await _a_meeting_happens(client, sandbox, **EVERYTHING_ON)
            assert await sandbox.deliver() == 0
        key = await _published_key(sandbox)
    got = sink.received
    assert len({r.headers["rtk-uuid"] for r in got}) == len(got)  # nothing sent twice
    for request in got:
        verify(key, request)
        assert request.headers["rtk-webhook-id"] == hook_id and request.path == "/events"
    events = [r.event for r in got]
    assert sorted({e["event"] for e in events}) == sorted(ALL_EVENTS)
    names = [e["event"] for e in events]
    assert names[0] == "meeting.started"
    assert names.index("meeting.participantJoined") < names.index("meeting.participantLeft") < names.index("meeting.ended")
    assert names.index("meeting.ended") < names.index("meeting.summary")
    statuses = [e["recording"]["status"] for e in events if e["event"] == "recording.statusUpdate"]
    assert statuses == ["INVOKED", "RECORDING", "UPLOADING", "UPLOADED"]
    uploaded = next(e for e in events if e["event"] == "recording.statusUpdate" and e["recording"]["status"] == "UPLOADED")
    assert uploaded["recording"]["downloadUrl"] and uploaded["meeting"]["id"] == meeting_id
    joined = next(e for e in events if e["event"] == "meeting.participantJoined")
    assert joined["participant"]["customParticipantId"] == "ada" and joined["meeting"]["sessionId"]
    ended = next(e for e in events if e["event"] == "meeting.ended")
    assert ended["reason"] == "ALL_PARTICIPANTS_LEFT" and ended["meeting"]["endedAt"]
    assert [e["status"] for e in events if e["event"] == "livestreaming.statusUpdate"] == ["LIVE", "IDLE"]


async def test_a_delivery_answered_with_a_500_is_retried_with_the_same_id_and_body_and_then_delivered() -> None:
    sandbox = Sandbox(clock=ManualClock())
    with receiver() as sink, anyio.fail_after(30):
        sink.answers["meeting.started"] = [500, 503]
        async with sandbox_client(sandbox=sandbox) as client:
            hook_id = await _webhook(client, sink.url, ["meeting.started", "meeting.ended"])
            await _a_meeting_happens(client, sandbox)
            assert await sandbox.deliver() == 0
    started = [r for r in sink.received if r.event["event"] == "meeting.started"]
    assert len(started) == 3 and len({(r.headers["rtk-uuid"], r.body) for r in started}) == 1
    assert [r.event["event"] for r in sink.unique()] == ["meeting.started", "meeting.ended"]  # order kept through retries
    [first, second] = sandbox.deliveries(hook_id)
    assert first["status"] == "delivered" and [a["status_code"] for a in first["attempts"]] == [500, 503, 200]
    assert second["status"] == "delivered" and len(second["attempts"]) == 1


async def test_a_delivery_answered_with_a_4xx_fails_without_a_retry_as_realtimekit_documents() -> None:
    sandbox = Sandbox(clock=ManualClock())
    with receiver() as sink, anyio.fail_after(30):
        sink.answers["meeting.started"] = [410]
        async with sandbox_client(sandbox=sandbox) as client:
            hook_id = await _webhook(client, sink.url, ["meeting.started"])
            await _a_meeting_happens(client, sandbox)
            assert await sandbox.deliver() == 0
    assert len(sink.received) == 1
    [delivery] = sandbox.deliveries(hook_id)
    assert delivery["status"] == "failed" and delivery["attempts"][0]["status_code"] == 410


async def test_a_disabled_webhook_gets_nothing_and_an_unsubscribed_event_is_not_sent() -> None:
    sandbox = Sandbox(clock=ManualClock())
    with receiver() as sink, anyio.fail_after(30):
        async with sandbox_client(sandbox=sandbox) as client:
            await _webhook(client, sink.url + "/disabled", enabled=False)
            paused = await _webhook(client, sink.url + "/paused")
            await call(client, "update_webhook", {"webhook_id": paused, "enabled": False})
            await _webhook(client, sink.url + "/ended-only", ["meeting.ended"])
            await _a_meeting_happens(client, sandbox, **EVERYTHING_ON)
            assert await sandbox.deliver() == 0
    assert [(r.path, r.event["event"]) for r in sink.received] == [("/ended-only", "meeting.ended")]


async def test_the_sandbox_sends_nothing_off_this_machine_and_says_so() -> None:
    sandbox = Sandbox(clock=ManualClock())
    async with sandbox_client(sandbox=sandbox) as client:  # the seeded webhook points at example.com
        await call(client, "kick_all_participants", {"meeting_id": SEED.meeting_live})
        await sandbox.advance(120)
        assert await sandbox.deliver(timeout=5) == 0
    sent = sandbox.deliveries(SEED.webhook_id)
    assert [d["event"] for d in sent] == ["meeting.ended"]
    assert sent[0]["status"] == "not_sent" and sent[0]["attempts"] == []


async def test_events_are_delivered_while_sandbox_time_passes_with_no_request() -> None:
    """A running sandbox delivers what falls due on its clock (a session ending) without being asked."""
    clock = ManualClock()
    sandbox = Sandbox(clock=clock)
    with receiver() as sink, anyio.fail_after(30):
        async with sandbox_client(sandbox=sandbox) as client:
            await _webhook(client, sink.url, ["meeting.ended"])
            await call(client, "kick_all_participants", {"meeting_id": SEED.meeting_live})
        async with sandbox.delivering():
            clock.advance(61)
            assert await anyio.to_thread.run_sync(sink.arrived.wait, 20)
    assert [r.event["meeting"]["sessionId"] for r in sink.received] == [SEED.session_live]


def _readme_receiver() -> dict[str, Any]:
    """The receiver the README shows, loaded as a module would be (its server is not started)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    match = re.search(r"```python\n(# receiver\.py.*?)```", readme, re.DOTALL)
    assert match, "the README shows a receiver.py"
    namespace: dict[str, Any] = {"__name__": "receiver"}
    exec(compile(match[1], "README receiver.py", "exec"), namespace)
    return namespace


async def test_the_readme_receiver_accepts_every_signed_delivery_once_and_refuses_a_forged_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox = Sandbox(clock=ManualClock())
    module = _readme_receiver()
    module["KEY"] = sandbox.public_key()
    server = HTTPServer(("127.0.0.1", 0), module["Receiver"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/events"
    try:
        with anyio.fail_after(30):
            async with sandbox_client(sandbox=sandbox) as client:
                hook_id = await _webhook(client, url)
                await _a_meeting_happens(client, sandbox, **EVERYTHING_ON)
                assert await sandbox.deliver() == 0
            deliveries = sandbox.deliveries(hook_id)
            assert {d["status"] for d in deliveries} == {"delivered"}
            async with httpx2.AsyncClient(trust_env=False) as http:
                body = deliveries[0]["body"].replace("Standup", "Standdown")
                signature = sign_like_the_sandbox(sandbox, deliveries[0]["body"])
                forged = await http.post(url, content=body, headers={"rtk-signature": signature, "rtk-uuid": "x"})
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert forged.status_code == 401
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [p["event"] for p in printed] == [d["event"] for d in deliveries]


def sign_like_the_sandbox(sandbox: Sandbox, body: str) -> str:
    """A genuine signature of *body* (the forgery sends it with another body)."""
    from rtk_mcp.sandbox.signing import private_key_pem, sign

    with sandbox.store.transaction() as state:
        return sign(private_key_pem(state), body.encode())
