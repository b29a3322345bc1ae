"""`rtk-mcp sandbox …` as a new user runs it: real processes on one state file, a receiver on loopback."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio

from rtk_mcp.testing import SEED, Sandbox, call, sandbox_client
from tests.stdio_session import ROOT, clean_env, stdio_session
from tests.webhook_receiver import receiver, verify


async def _rtk(*args: str, check: bool = True) -> tuple[int, str, str]:
    """Run ``rtk-mcp ARGS`` (this checkout) and answer (exit status, stdout, stderr)."""
    with anyio.fail_after(180):
        done = await anyio.run_process([sys.executable, "-m", "rtk_mcp", *args], cwd=ROOT, env=clean_env(), check=False)
    out, err = done.stdout.decode(), done.stderr.decode()
    if check:
        assert done.returncode == 0, err
    return done.returncode, out, err


async def test_the_example_scenario_played_from_the_command_line_reaches_a_receiver_once_signed(tmp_path: Path) -> None:
    state = str(tmp_path / "state.db")
    with receiver() as sink:
        sink.answers["meeting.started"] = [500]  # the first delivery of the run is refused once
        async with sandbox_client(state) as client:
            disabled = {"name": "off", "url": sink.url + "/disabled", "events": ["meeting.ended"], "enabled": False}
            await call(client, "create_webhook", disabled)
            await call(client, "create_webhook", {"name": "summaries", "url": sink.url + "/summaries",
                                                  "events": ["meeting.summary"]})
        _, played, _ = await _rtk("sandbox", "play", "--sandbox-state", state, "--webhook", sink.url + "/all")
        _, key, _ = await _rtk("sandbox", "public-key", "--sandbox-state", state)
        _, listed, _ = await _rtk("sandbox", "deliveries", "--sandbox-state", state, "--json")

    meeting_id = next(line.split()[1] for line in played.splitlines() if line.startswith("meeting "))
    async with sandbox_client(state) as client:
        sessions = (await call(client, "list_sessions", {"associated_id": meeting_id, "sort_order": "ASC"}))["sessions"]
        recordings = (await call(client, "list_recordings", {"meeting_id": meeting_id}))["data"]
        assert [s["status"] for s in sessions] == ["ENDED", "ENDED"]
        assert sorted(r["session_id"] for r in recordings) == sorted(s["id"] for s in sessions)
        assert {r["status"] for r in recordings} == {"UPLOADED"}
        first = await call(client, "get_session_transcript", {"session_id": sessions[0]["id"], "include_content": True})
        lines = [u["text"] for u in first["content"]["utterances"]]
        assert lines[0] == "Morning both. Quick round: yesterday, today, blockers."
        assert "Decision: we ship on Monday if the dry run passes." in lines
        second = await call(client, "get_session_summary", {"session_id": sessions[1]["id"], "include_content": True})
        assert "The dry run passed overnight." in second["content"]["text"]

    kept = sink.unique()
    for request in kept:
        verify(key, request)
    to_all = [r for r in kept if r.path == "/all"]
    deliveries: list[dict[str, Any]] = json.loads(listed)
    sent_to_all = [d for d in deliveries if d["url"] == sink.url + "/all"]
    assert [r.headers["rtk-uuid"] for r in to_all] == [d["id"] for d in sent_to_all]  # each once, in order
    assert {d["status"] for d in sent_to_all} == {"delivered"}
    assert [a["status_code"] for a in sent_to_all[0]["attempts"]] == [500, 200]
    assert len(sink.received) == len(kept) + 1  # the one retry, dropped by its rtk-uuid
    names = [r.event["event"] for r in to_all]
    assert names.count("meeting.started") == 2 and names.count("meeting.ended") == 2
    assert {"meeting.participantJoined", "meeting.participantLeft", "meeting.chatSynced", "recording.statusUpdate",
            "livestreaming.statusUpdate", "meeting.transcript", "meeting.summary"} <= set(names)
    assert not [r for r in sink.received if r.path == "/disabled"]
    assert [r.event["event"] for r in kept if r.path == "/summaries"] == ["meeting.summary", "meeting.summary"]


async def test_people_and_time_driven_from_separate_processes_are_seen_by_every_process_on_the_file(tmp_path: Path) -> None:
    state = str(tmp_path / "state.db")
    live = {"meeting_id": SEED.meeting_live}
    await _rtk("--sandbox", "--sandbox-state", state, "call", "kick_all_participants", json.dumps(live))
    await _rtk("sandbox", "advance", "61", "--sandbox-state", state)
    _, ended, _ = await _rtk("--sandbox", "--sandbox-state", state, "call", "get_session",
                             json.dumps({"session_id": SEED.session_live}))
    assert json.loads(ended)["session"]["status"] == "ENDED"
    _, peer, _ = await _rtk("sandbox", "join", "--sandbox-state", state, SEED.meeting_live, "dave.kim")
    assert json.loads(peer)["custom_participant_id"] == "dave.kim"
    async with sandbox_client(state) as client:  # this process agrees: a new session, Dave in it
        session = await call(client, "get_active_session", live)
        assert session["id"] != SEED.session_live and session["live_participants"] == 1
    # say, leave and the keep-alive, seen by this process through its own Sandbox on the file
    sandbox = Sandbox(state)
    await _rtk("sandbox", "say", "--sandbox-state", state, SEED.meeting_live, "dave.kim", "Anyone here?")
    await _rtk("sandbox", "leave", "--sandbox-state", state, SEED.meeting_live, "dave.kim")
    await sandbox.advance(61)
    async with sandbox_client(sandbox=sandbox) as client:
        said = await call(client, "get_session_transcript", {"session_id": session["id"], "include_content": True})
        assert [u["text"] for u in said["content"]["utterances"]] == ["Anyone here?"]


async def test_sandbox_actions_refuse_with_one_line_saying_why(tmp_path: Path) -> None:
    state = str(tmp_path / "state.db")
    status, out, err = await _rtk("sandbox", "join", "--sandbox-state", state, SEED.meeting_live, "nobody", check=False)
    assert status == 1 and out == ""
    expected = (f"rtk-mcp sandbox: error: No participant 'nobody' in meeting {SEED.meeting_live}; add one with "
                "add_participant (give its id or custom_participant_id).")
    assert err.strip().splitlines() == [expected]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"steps": [{"at": 5, "dance": "ada"}]}))
    status, _, err = await _rtk("sandbox", "play", str(bad), check=False)
    assert status == 1 and "step 1: needs exactly one of join, say, chat, leave, call" in err
    # A step that fails while the play runs (inside its MCP client) is one line too, not a traceback.
    bad.write_text(json.dumps({"steps": [{"at": 0, "say": "ada", "text": "hi"}]}))
    status, _, err = await _rtk("sandbox", "play", str(bad), "--sandbox-state", state, check=False)
    assert status == 1 and len(err.strip().splitlines()) == 1, err
    assert err.startswith("rtk-mcp sandbox: error: step 1 (at 0 s): No participant 'ada'")
    for seconds in ("nan", "1e300", "-5"):
        status, _, err = await _rtk("sandbox", "advance", seconds, "--sandbox-state", state, check=False)
        assert status == 2 and err.strip().splitlines() == [
            "rtk-mcp sandbox: error: the sandbox clock only moves forward, at most 3162240000 seconds (a century) at "
            "a time; give a number of seconds in that range"], err


async def test_the_stdio_server_in_sandbox_mode_delivers_webhooks_while_it_serves(tmp_path: Path) -> None:
    state = str(tmp_path / "state.db")
    with receiver() as sink:
        async with stdio_session("--sandbox", "--sandbox-state", state) as server:
            await server.initialize()
            hook = {"name": "r", "url": sink.url, "events": ["meeting.participantLeft"]}
            assert not (await server.call("create_webhook", hook)).get("isError")
            assert not (await server.call("kick_all_participants", {"meeting_id": SEED.meeting_live})).get("isError")
            with anyio.fail_after(30):  # nothing but the server's own delivery loop sends them
                while len(sink.unique()) < 4:
                    assert await anyio.to_thread.run_sync(sink.arrived.wait, 30)
                    sink.arrived.clear()
    left = sorted(r.event["participant"]["customParticipantId"] for r in sink.unique())
    assert left == ["dave.kim", "erin.walsh", "frank.osei", "grace.liu"]
