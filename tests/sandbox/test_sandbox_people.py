"""People join, talk and leave in the sandbox; sessions follow them and meeting settings act.

Driven as a user drives it: a :class:`Sandbox` for what happens outside the REST API (joining,
speaking, leaving, time passing) and an MCP client on the same sandbox for the tools.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from rtk_mcp.testing import (
    SEED,
    ControlError,
    ManualClock,
    Sandbox,
    call,
    call_error,
    sandbox_client,
)

HOST = {"name": "Ada Park", "preset_name": "group_call_host", "custom_participant_id": "ada"}
GUEST = {"name": "Ben Ode", "preset_name": "group_call_participant", "custom_participant_id": "ben"}


async def _meeting(client: Client, **settings: Any) -> str:
    meeting = await call(client, "create_meeting", {"title": "Standup", **settings})
    for person in (HOST, GUEST):
        await call(client, "add_participant", {"meeting_id": meeting["id"], **person})
    return meeting["id"]


async def _sessions(client: Client, meeting_id: str) -> list[dict[str, Any]]:
    listed = await call(client, "list_sessions", {"associated_id": meeting_id, "sort_order": "ASC"})
    return listed["sessions"]


async def test_the_first_join_starts_a_live_session_and_the_last_leave_ends_it_after_the_keep_alive() -> None:
    sandbox = Sandbox(clock=ManualClock())
    async with sandbox_client(sandbox=sandbox) as client:
        meeting_id = await _meeting(client)
        assert await _sessions(client, meeting_id) == []
        await sandbox.join(meeting_id, "ada")
        await sandbox.advance(60)
        await sandbox.join(meeting_id, "ben")
        live = await call(client, "get_active_session", {"meeting_id": meeting_id})
        assert live["status"] == "LIVE" and live["live_participants"] == 2
        await sandbox.advance(60)
        await sandbox.leave(meeting_id, "ben")
        await sandbox.leave(meeting_id, "ada")
        await sandbox.advance(59)  # the meeting's keep-alive is 60 s
        assert (await _sessions(client, meeting_id))[0]["status"] == "LIVE"
        await sandbox.advance(1)
        [session] = await _sessions(client, meeting_id)
        assert session["status"] == "ENDED" and session["ended_at"]
        assert session["minutes_consumed"] == 3.0 and session["max_concurrent_participants"] == 2
        peers = await call(client, "list_session_participants", {"session_id": session["id"]})
        times = {p["custom_participant_id"]: (p["joined_at"], p["left_at"], p["duration"]) for p in peers["participants"]}
        assert times["ada"][2] == 2.0 and times["ben"][2] == 1.0
        assert all(joined < left for joined, left, _ in times.values())


async def test_what_was_said_and_written_is_read_back_as_the_sessions_transcript_and_chat() -> None:
    sandbox = Sandbox(clock=ManualClock())
    async with sandbox_client(sandbox=sandbox) as client:
        meeting_id = await _meeting(client, persist_chat=True)
        await sandbox.join(meeting_id, "ada")
        await sandbox.join(meeting_id, "ben")
        await sandbox.say(meeting_id, "ada", "Shall we start with the release?")
        await sandbox.advance(5)
        await sandbox.say(meeting_id, "ben", "The release is green.")
        await sandbox.chat(meeting_id, "ben", "Notes: https://notes.example.com/standup")
        for who in ("ada", "ben"):
            await sandbox.leave(meeting_id, who)
        await sandbox.advance(120)
        [session] = await _sessions(client, meeting_id)
        transcript = await call(client, "get_session_transcript", {"session_id": session["id"], "include_content": True})
        said = [(u["speaker"], u["text"]) for u in transcript["content"]["utterances"]]
        assert said == [("Ada Park", "Shall we start with the release?"), ("Ben Ode", "The release is green.")]
        chat = await call(client, "get_session_chat", {"session_id": session["id"], "include_content": True})
        assert [m["text"] for m in chat["content"]["messages"]] == ["Notes: https://notes.example.com/standup"]


async def test_without_persist_chat_the_chat_is_not_kept_once_the_session_ends() -> None:
    sandbox = Sandbox(clock=ManualClock())
    async with sandbox_client(sandbox=sandbox) as client:
        meeting_id = await _meeting(client)  # persist_chat defaults to false
        await sandbox.join(meeting_id, "ada")
        await sandbox.chat(meeting_id, "ada", "only for now")
        await sandbox.leave(meeting_id, "ada")
        await sandbox.advance(120)
        [session] = await _sessions(client, meeting_id)
        assert "404" in await call_error(client, "get_session_chat", {"session_id": session["id"]})


async def test_record_on_start_records_every_session_from_its_first_join_until_uploaded() -> None:
    sandbox = Sandbox(clock=ManualClock())
    async with sandbox_client(sandbox=sandbox) as client:
        meeting_id = await _meeting(client, record_on_start=True)
        for _ in range(2):
            await sandbox.join(meeting_id, "ada")
            active = await call(client, "get_active_recording", {"meeting_id": meeting_id})
            assert active["status"] == "INVOKED"
            await sandbox.advance(30)
            await sandbox.leave(meeting_id, "ada")
            await sandbox.advance(600)
        sessions = await _sessions(client, meeting_id)
        recordings = (await call(client, "list_recordings", {"meeting_id": meeting_id}))["data"]
        assert [s["status"] for s in sessions] == ["ENDED", "ENDED"]
        assert {r["session_id"] for r in recordings} == {s["id"] for s in sessions}
        assert all(r["status"] == "UPLOADED" and r["download_url"] for r in recordings)
        detail = await call(client, "get_recording", {"recording_id": recordings[0]["id"]})
        assert detail["start_reason"]["reason"] == "RECORD_ON_START"
        assert detail["stop_reason"]["reason"] == "ALL_PEERS_LEFT"


async def test_live_stream_on_start_streams_the_session_and_stops_when_it_ends() -> None:
    sandbox = Sandbox(clock=ManualClock())
    async with sandbox_client(sandbox=sandbox) as client:
        meeting_id = await _meeting(client, live_stream_on_start=True)
        await sandbox.join(meeting_id, "ada")
        await sandbox.advance(5)
        assert (await call(client, "get_meeting_active_livestream", {"meeting_id": meeting_id}))["status"] == "LIVE"
        await sandbox.leave(meeting_id, "ada")
        await sandbox.advance(120)
        assert "404" in await call_error(client, "get_meeting_active_livestream", {"meeting_id": meeting_id})


async def test_summarize_on_end_produces_the_summary_of_what_was_said() -> None:
    sandbox = Sandbox(clock=ManualClock())
    async with sandbox_client(sandbox=sandbox) as client:
        meeting_id = await _meeting(client, summarize_on_end=True)
        await sandbox.join(meeting_id, "ada")
        await sandbox.say(meeting_id, "ada", "We ship on Monday.")
        await sandbox.leave(meeting_id, "ada")
        await sandbox.advance(60)
        [session] = await _sessions(client, meeting_id)
        assert session["status"] == "ENDED"
        assert "404" in await call_error(client, "get_session_summary", {"session_id": session["id"]})
        await sandbox.advance(30)
        summary = await call(client, "get_session_summary", {"session_id": session["id"], "include_content": True})
        assert "We ship on Monday." in summary["content"]["text"]


async def test_after_kick_all_and_the_keep_alive_a_new_join_starts_a_session_where_everything_works_again() -> None:
    sandbox = Sandbox(clock=ManualClock())
    meeting = {"meeting_id": SEED.meeting_live}
    async with sandbox_client(sandbox=sandbox) as client:
        await call(client, "kick_all_participants", meeting)
        await sandbox.advance(61)
        assert "400" in await call_error(client, "start_recording", meeting)
        await sandbox.join(SEED.meeting_live, "dave.kim")
        await sandbox.join(SEED.meeting_live, "erin.walsh")
        session = await call(client, "get_active_session", meeting)
        assert session["id"] != SEED.session_live and session["live_participants"] == 2
        recording = await call(client, "start_recording", meeting)
        assert recording["status"] == "INVOKED"
        assert (await call(client, "start_meeting_livestream", meeting))["status"] == "INVOKED"
        poll = await call(client, "create_poll", {**meeting, "question": "Lunch?", "options": ["yes", "no"]})
        assert poll["poll"]["question"] == "Lunch?"
        kicked = await call(client, "kick_participants", {**meeting, "participant_ids": [], "custom_participant_ids": ["erin.walsh"]})
        assert [p["name"] for p in kicked["participants"]] == ["Erin Walsh"]


async def test_joining_speaking_and_leaving_are_refused_with_the_reason() -> None:
    sandbox = Sandbox(clock=ManualClock())
    async with sandbox_client(sandbox=sandbox) as client:
        meeting_id = await _meeting(client)
        with pytest.raises(ControlError, match="add_participant"):
            await sandbox.join(meeting_id, "nobody")
        with pytest.raises(ControlError, match="join first"):
            await sandbox.say(meeting_id, "ada", "hello?")
        await sandbox.join(meeting_id, "ada")
        with pytest.raises(ControlError, match="already in"):
            await sandbox.join(meeting_id, "ada")
        with pytest.raises(ControlError, match="INACTIVE"):
            await sandbox.join(SEED.meeting_inactive, "anyone")


async def test_two_sandboxes_on_one_state_file_agree_on_sandbox_time_after_one_advances(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    first, second = Sandbox(state), Sandbox(state)
    before = second.now()
    await first.advance(3600)
    moved = datetime.fromisoformat(second.now()) - datetime.fromisoformat(before)
    assert timedelta(hours=1) <= moved < timedelta(hours=2)
    async with sandbox_client(sandbox=second) as client:
        await call(client, "kick_all_participants", {"meeting_id": SEED.meeting_live})
    await first.advance(61)
    async with sandbox_client(sandbox=first) as client:
        session = await call(client, "get_session", {"session_id": SEED.session_live})
    assert session["session"]["status"] == "ENDED"


@pytest.mark.parametrize("seconds", [-1, float("nan"), 1e12])
async def test_sandbox_time_refuses_a_step_back_nan_or_beyond_a_century(seconds: float) -> None:
    sandbox = Sandbox(clock=ManualClock())
    before = sandbox.now()
    with pytest.raises(ValueError, match="only moves forward, at most"):
        await sandbox.advance(seconds)
    assert sandbox.now() == before
