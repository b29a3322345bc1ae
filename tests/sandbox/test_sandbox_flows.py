"""End to end over the MCP protocol against the built-in sandbox: every tool, in realistic flows.

Each flow is a plain async function driving one fresh sandboxed server through
``rtk_mcp.testing`` (so the public test helper is exercised too) and checking that state really
changes from one call to the next. ``test_the_flows_together_call_every_tool`` runs all of them
itself and fails if any tool of the catalog was never called successfully, so coverage cannot
pass vacuously or depend on test order.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from rtk_mcp.catalog import ENDPOINTS
from rtk_mcp.sandbox.clock import iso
from rtk_mcp.testing import (
    SANDBOX_APP_ID,
    SEED,
    ManualClock,
    ToolError,
    call,
    call_error,
    sandbox_client,
)
from tests.conftest import PRESET as CREATE_PRESET_BODY

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ALL_TOOLS = {ep.name for ep in ENDPOINTS}
TIME_LIMIT = 10  # seconds for one flow; everything is in memory, so this only catches hangs

PRESET = {**CREATE_PRESET_BODY, "name": "panelist"}


class Tools:
    """Calls tools through one MCP client and records which tools succeeded; ``clock`` is the sandbox's time."""

    def __init__(self, client: Client, used: set[str], clock: ManualClock) -> None:
        self.client = client
        self.used = used
        self.clock = clock

    async def __call__(self, tool: str, **arguments: Any) -> dict[str, Any]:
        result = await call(self.client, tool, arguments)
        self.used.add(tool)
        return result

    async def error(self, tool: str, **arguments: Any) -> str:
        return await call_error(self.client, tool, arguments)

    def clock_iso(self) -> str:
        return iso(self.clock.now())


Flow = Callable[[Tools], Awaitable[None]]


async def run_flow(flow: Flow, used: set[str] | None = None) -> set[str]:
    """Run ``flow`` against a fresh sandbox; return the tools it called successfully."""
    used = set() if used is None else used
    clock = ManualClock()
    with anyio.fail_after(TIME_LIMIT):
        async with sandbox_client(clock=clock) as client:
            await flow(Tools(client, used, clock))
    return used


# --------------------------------------------------------------------------- flows


async def meeting_lifecycle(rtk: Tools) -> None:
    created = await rtk("create_meeting", title="Quarterly Planning", persist_chat=True)
    mid = created["id"]
    assert UUID_RE.match(mid)
    assert created["status"] == "ACTIVE" and created["record_on_start"] is False

    assert await rtk("get_meeting", meeting_id=mid) == created

    found = await rtk("list_meetings", search="quarterly")
    assert [m["id"] for m in found["data"]] == [mid]
    assert found["paging"]["total_count"] == 1
    everything = await rtk("list_meetings")
    assert mid in {m["id"] for m in everything["data"]}
    assert SEED.meeting_team_sync in {m["id"] for m in everything["data"]}

    patched = await rtk("update_meeting", meeting_id=mid, record_on_start=True)
    assert patched["record_on_start"] is True
    assert patched["title"] == "Quarterly Planning" and patched["persist_chat"] is True  # untouched by PATCH
    after_patch = await rtk("get_meeting", meeting_id=mid)
    assert after_patch["record_on_start"] is True and after_patch["persist_chat"] is True

    replaced = await rtk("replace_meeting", meeting_id=mid, title="Q3 Planning")
    assert replaced["id"] == mid and replaced["created_at"] == created["created_at"]
    assert replaced["title"] == "Q3 Planning"
    assert replaced["persist_chat"] is False and replaced["record_on_start"] is False  # reset by PUT
    after_put = await rtk("get_meeting", meeting_id=mid)
    assert after_put["title"] == "Q3 Planning" and after_put["record_on_start"] is False

    assert (await rtk("list_meetings", search="quarterly"))["data"] == []
    assert [m["id"] for m in (await rtk("list_meetings", search="Q3 Planning"))["data"]] == [mid]


async def participant_lifecycle(rtk: Tools) -> None:
    mid = (await rtk("create_meeting", title="1:1"))["id"]
    assert (await rtk("list_meeting_participants", meeting_id=mid))["data"] == []

    added = await rtk("add_participant", meeting_id=mid, name="Ann", preset_name="group_call_participant",
                      custom_participant_id="ann@example.com")
    pid, token = added["id"], added["token"]
    assert token.count(".") == 2  # JWT-shaped

    listed = await rtk("list_meeting_participants", meeting_id=mid)
    assert [p["id"] for p in listed["data"]] == [pid]
    got = await rtk("get_participant", meeting_id=mid, participant_id=pid)
    assert (got["name"], got["preset_name"], got["custom_participant_id"]) == (
        "Ann", "group_call_participant", "ann@example.com")

    updated = await rtk("update_participant", meeting_id=mid, participant_id=pid, name="Anna",
                        preset_name="group_call_host")
    assert updated["name"] == "Anna"
    got = await rtk("get_participant", meeting_id=mid, participant_id=pid)
    assert (got["name"], got["preset_name"], got["custom_participant_id"]) == (
        "Anna", "group_call_host", "ann@example.com")

    refreshed = await rtk("refresh_participant_token", meeting_id=mid, participant_id=pid)
    assert refreshed["token"].count(".") == 2 and refreshed["token"] != token

    deleted = await rtk("delete_participant", meeting_id=mid, participant_id=pid)
    assert deleted["custom_participant_id"] == "ann@example.com"
    gone = await rtk.error("get_participant", meeting_id=mid, participant_id=pid)
    assert "404" in gone and "list_meeting_participants" in gone
    assert (await rtk("list_meeting_participants", meeting_id=mid))["data"] == []


async def recording_lifecycle(rtk: Tools) -> None:
    live = SEED.meeting_live
    assert "404" in await rtk.error("get_active_recording", meeting_id=live)
    recordings_before = (await rtk("get_daywise_analytics"))["recording_stats"]["recording_count"]

    started = await rtk("start_recording", meeting_id=live, file_name_prefix="support")
    rid = started["id"]
    assert started["status"] == "INVOKED" and started["session_id"] == SEED.session_live
    assert "started_time" not in started  # nulls are dropped from results
    assert (await rtk("get_active_recording", meeting_id=live))["id"] == rid
    assert (await rtk("get_daywise_analytics"))["recording_stats"]["recording_count"] == recordings_before + 1
    assert "INVOKED" in await rtk.error("update_recording", recording_id=rid, action="pause")  # not recording yet

    rtk.clock.advance(seconds=3)  # "usually a few seconds after invoked_time"
    recording = await rtk("get_recording", recording_id=rid)
    assert recording["status"] == "RECORDING" and recording["started_time"] > recording["invoked_time"]

    assert (await rtk("update_recording", recording_id=rid, action="pause"))["status"] == "PAUSED"
    assert (await rtk("get_recording", recording_id=rid))["status"] == "PAUSED"
    assert (await rtk("update_recording", recording_id=rid, action="resume"))["status"] == "RECORDING"
    assert (await rtk("get_active_recording", meeting_id=live))["status"] == "RECORDING"
    rtk.clock.advance(minutes=2)
    stopped = await rtk("update_recording", recording_id=rid, action="stop")
    assert stopped["status"] == "UPLOADING" and stopped["stopped_time"] and stopped.get("download_url") is None
    assert stopped["recording_duration"] == 120
    assert "404" in await rtk.error("get_active_recording", meeting_id=live)

    rtk.clock.advance(seconds=10)
    final = await rtk("get_recording", recording_id=rid)
    assert final["status"] == "UPLOADED" and final["download_url"] and final["stop_reason"]["reason"] == "API_CALL"
    assert "UPLOADED" in await rtk.error("update_recording", recording_id=rid, action="pause")

    of_live = await rtk("list_recordings", meeting_id=live)
    assert [r["id"] for r in of_live["data"]] == [rid]
    of_sync = {r["id"] for r in (await rtk("list_recordings", meeting_id=SEED.meeting_team_sync))["data"]}
    assert SEED.recording_id in of_sync and rid not in of_sync

    # Documented as returning nothing; the recording it starts is what list_recordings shows.
    track = await rtk("start_track_recording", meeting_id=live,
                      layers={"default": {"file_name_prefix": "tracks", "outputs": [{"type": "REALTIMEKIT_BUCKET"}]}})
    assert "id" not in track
    of_live = (await rtk("list_recordings", meeting_id=live))["data"]
    assert len(of_live) == 2 and of_live[0]["output_file_name"].startswith("tracks_")


async def livestream_lifecycle(rtk: Tools) -> None:
    live = SEED.meeting_live
    analytics_before = await rtk("get_livestream_analytics")
    assert "404" in await rtk.error("get_meeting_active_livestream", meeting_id=live)

    started = await rtk("start_meeting_livestream", meeting_id=live, name="Standup live")
    lid = started["id"]
    assert started["status"] == "INVOKED" and started["stream_key"]
    active = await rtk("get_meeting_active_livestream", meeting_id=live)
    assert active["id"] == lid and active["meeting_id"] == live and active["name"] == "Standup live"
    rtk.clock.advance(seconds=3)
    session = await rtk("get_active_livestream_session", livestream_id=lid)
    assert session["livestream"]["status"] == "LIVE" and session["session"]["livestream_id"] == lid
    assert session["session"]["started_time"]
    assert "already" in await rtk.error("start_meeting_livestream", meeting_id=live)

    rtk.clock.advance(minutes=10)
    await rtk("stop_meeting_livestream", meeting_id=live)
    assert "404" in await rtk.error("get_meeting_active_livestream", meeting_id=live)
    detail = await rtk("get_livestream", livestream_id=lid)
    assert detail["livestream"]["status"] == "IDLE"
    assert detail["session"]["id"] == session["session"]["id"] and detail["session"]["stopped_time"]
    assert detail["session"]["ingest_seconds"] == 600

    analytics_after = await rtk("get_livestream_analytics")
    assert analytics_after["count"] == analytics_before["count"] + 1
    assert analytics_after["total_ingest_seconds"] == analytics_before["total_ingest_seconds"] + 600

    hall = await rtk("create_livestream", name="Town hall")
    assert hall["status"] == "IDLE" and hall["name"] == "Town hall"
    newest = await rtk("list_livestreams")  # documented as one livestream plus paging: the newest first
    assert newest["id"] == hall["id"] and newest["paging"]["total_count"] == 4
    independent = await rtk("list_livestreams", exclude_meetings=True, per_page=1, page_no=2)
    assert independent["id"] == SEED.livestream_independent and independent["paging"]["total_count"] == 2

    past = await rtk("get_livestream_session", livestream_session_id=SEED.livestream_session_id)
    assert past["livestream_id"] == SEED.livestream_id and past["stopped_time"]
    seeded = await rtk("get_livestream", livestream_id=SEED.livestream_id, per_page=1, page_no=1)
    assert seeded["session"]["id"] == SEED.livestream_session_id and seeded["paging"]["total_count"] == 2


async def preset_crud(rtk: Tools) -> None:
    names = {p["name"] for p in (await rtk("list_presets"))["data"]}
    assert {"group_call_host", "group_call_participant", "webinar_viewer"} <= names and "panelist" not in names

    created = await rtk("create_preset", **PRESET)
    prid = created["id"]
    got = await rtk("get_preset", preset_id=prid)
    assert got["name"] == "panelist" and got["config"]["view_type"] == "GROUP_CALL"
    assert got["permissions"]  # filled in by the server
    assert "panelist" in {p["name"] for p in (await rtk("list_presets"))["data"]}

    patched = await rtk("update_preset", preset_id=prid, config={"view_type": "WEBINAR"})
    assert patched["config"]["view_type"] == "WEBINAR"
    got = await rtk("get_preset", preset_id=prid)
    assert got["config"]["view_type"] == "WEBINAR"
    assert got["config"]["max_video_streams"] == PRESET["config"]["max_video_streams"]  # untouched

    # The new preset's name is usable by add_participant.
    mid = (await rtk("create_meeting", title="Panel"))["id"]
    panelist = await rtk("add_participant", meeting_id=mid, name="Pat", preset_name="panelist",
                         custom_participant_id="pat")
    assert panelist["preset_name"] == "panelist"

    assert (await rtk("delete_preset", preset_id=prid))["name"] == "panelist"
    gone = await rtk.error("get_preset", preset_id=prid)
    assert "404" in gone and "list_presets" in gone
    assert "panelist" not in {p["name"] for p in (await rtk("list_presets"))["data"]}


async def webhook_crud(rtk: Tools) -> None:
    body = {"name": "ops", "url": "https://example.com/ops", "events": ["recording.statusUpdate"]}
    hook = await rtk("create_webhook", **body)
    wid = hook["id"]
    assert hook["enabled"] is True and hook["events"] == body["events"]
    assert await rtk("get_webhook", webhook_id=wid) == hook
    assert [w["id"] for w in (await rtk("list_webhooks"))["data"]] == [SEED.webhook_id, wid]

    patched = await rtk("update_webhook", webhook_id=wid, events=["meeting.ended"])
    assert patched["events"] == ["meeting.ended"] and patched["name"] == "ops" and patched["url"] == body["url"]

    replaced = await rtk("replace_webhook", webhook_id=wid, name="ops2", url="https://example.com/ops2",
                         events=["meeting.started", "meeting.ended"], enabled=False)
    assert replaced["id"] == wid and replaced["enabled"] is False
    got = await rtk("get_webhook", webhook_id=wid)
    assert (got["name"], got["url"], got["events"], got["enabled"]) == (
        "ops2", "https://example.com/ops2", ["meeting.started", "meeting.ended"], False)

    await rtk("delete_webhook", webhook_id=wid)
    gone = await rtk.error("get_webhook", webhook_id=wid)
    assert "404" in gone and "list_webhooks" in gone
    assert [w["id"] for w in (await rtk("list_webhooks"))["data"]] == [SEED.webhook_id]


async def active_session(rtk: Tools) -> None:
    live = SEED.meeting_live
    session = await rtk("get_active_session", meeting_id=live)
    assert session["id"] == SEED.session_live and session["status"] == "LIVE"
    assert session["live_participants"] == 4
    rtk.clock.advance(minutes=1)
    assert (await rtk("get_active_session", meeting_id=live))["minutes_consumed"] > session["minutes_consumed"]

    poll = (await rtk("create_poll", meeting_id=live, question="Lunch?", options=["pizza", "sushi"]))["poll"]
    assert poll["question"] == "Lunch?" and [o["text"] for o in poll["options"]] == ["pizza", "sushi"]
    assert all(o["count"] == 0 for o in poll["options"])

    kicked = await rtk("kick_participants", meeting_id=live, participant_ids=[SEED.participant_live_guest],
                       custom_participant_ids=["frank.osei"])
    assert [p["name"] for p in kicked["participants"]] == ["Erin Walsh", "Frank Osei"]
    assert (await rtk("get_active_session", meeting_id=live))["live_participants"] == 2

    everyone = await rtk("kick_all_participants", meeting_id=live)
    assert everyone["kicked_participants_count"] == 2
    emptied = await rtk("get_active_session", meeting_id=live)
    assert emptied["live_participants"] == 0 and emptied["status"] == "LIVE"  # kept alive for a while
    peers = (await rtk("list_session_participants", session_id=SEED.session_live))["participants"]
    assert peers and all(p["left_at"] for p in peers)

    keep_alive = (await rtk("get_meeting", meeting_id=live))["session_keep_alive_time_in_secs"]
    rtk.clock.advance(seconds=keep_alive - 1)
    assert (await rtk("get_active_session", meeting_id=live))["status"] == "LIVE"
    rtk.clock.advance(seconds=1)
    assert "404" in await rtk.error("get_active_session", meeting_id=live)
    ended = (await rtk("get_session", session_id=SEED.session_live))["session"]
    assert ended["status"] == "ENDED" and ended["ended_at"] == rtk.clock_iso()
    assert ended["minutes_consumed"] == round(sum(p["duration"] for p in peers), 2) > 0
    assert SEED.session_live in {s["id"] for s in (await rtk("list_sessions", status="ENDED"))["sessions"]}
    assert "no active session" in (await rtk.error("start_recording", meeting_id=live)).lower()
    assert "no active session" in (await rtk.error("start_meeting_livestream", meeting_id=live)).lower()


async def session_reads(rtk: Tools) -> None:
    ended = {s["id"] for s in (await rtk("list_sessions", status="ENDED"))["sessions"]}
    assert {SEED.session_ended, SEED.session_no_summary} <= ended and SEED.session_live not in ended
    assert [s["id"] for s in (await rtk("list_sessions", status="LIVE"))["sessions"]] == [SEED.session_live]

    session = (await rtk("get_session", session_id=SEED.session_ended))["session"]
    assert session["associated_id"] == SEED.meeting_team_sync and session["status"] == "ENDED"

    peers = (await rtk("list_session_participants", session_id=SEED.session_ended))["participants"]
    alice = next(p for p in peers if p["id"] == SEED.peer_id)
    assert alice["display_name"] == "Alice Chen"
    detail = (await rtk("get_session_participant", session_id=SEED.session_ended,
                        participant_id=SEED.peer_id))["participant"]
    assert detail["display_name"] == "Alice Chen" and detail["peer_stats"]["device_info"]["browser"]

    chat = await rtk("get_session_chat", session_id=SEED.session_ended)
    assert SEED.session_ended in chat["chat_download_url"]
    transcript = await rtk("get_session_transcript", session_id=SEED.session_ended)
    assert SEED.session_ended in transcript["transcript_download_url"]
    summary = await rtk("get_session_summary", session_id=SEED.session_ended)
    assert SEED.session_ended in summary["summaryDownloadUrl"]

    missing = await rtk.error("get_session_summary", session_id=SEED.session_no_summary)
    assert "404" in missing
    assert "id" not in await rtk("generate_session_summary", session_id=SEED.session_no_summary)  # void
    assert "404" in await rtk.error("get_session_summary", session_id=SEED.session_no_summary)  # still generating
    rtk.clock.advance(seconds=20)
    generated = await rtk("get_session_summary", session_id=SEED.session_no_summary)
    assert SEED.session_no_summary in generated["summaryDownloadUrl"]

    report = (await rtk("get_peer_report", peer_id=SEED.peer_id))["participant"]
    assert report["id"] == SEED.peer_id and report["display_name"] == "Alice Chen"
    assert "404" in await rtk.error("get_peer_report", peer_id="no-such-peer")


async def apps(rtk: Tools) -> None:
    before = (await rtk("list_apps"))["data"]
    assert [(a["id"], a["name"]) for a in before] == [(SANDBOX_APP_ID, "Sandbox App")]
    created = (await rtk("create_app", name="Second App"))["app"]
    assert UUID_RE.match(created["id"]) and created["name"] == "Second App"
    after = (await rtk("list_apps"))["data"]
    assert {a["id"] for a in after} == {SANDBOX_APP_ID, created["id"]}
    # The new app is usable and empty: meetings live per app.
    assert (await rtk("list_meetings", app_id=created["id"]))["data"] == []


FLOWS: dict[str, Flow] = {
    "meeting_lifecycle": meeting_lifecycle,
    "participant_lifecycle": participant_lifecycle,
    "recording_lifecycle": recording_lifecycle,
    "livestream_lifecycle": livestream_lifecycle,
    "preset_crud": preset_crud,
    "webhook_crud": webhook_crud,
    "active_session": active_session,
    "session_reads": session_reads,
    "apps": apps,
}


# --------------------------------------------------------------------------- tests


async def test_a_meeting_is_created_found_patched_then_replaced() -> None:
    await run_flow(meeting_lifecycle)


async def test_a_participant_is_added_updated_given_a_new_token_and_deleted() -> None:
    await run_flow(participant_lifecycle)


async def test_a_recording_goes_invoked_recording_uploading_uploaded_on_the_sandbox_clock() -> None:
    await run_flow(recording_lifecycle)


async def test_a_meeting_livestream_goes_live_after_invoked_stops_and_shows_in_analytics() -> None:
    await run_flow(livestream_lifecycle)


async def test_a_preset_is_created_patched_used_and_deleted() -> None:
    await run_flow(preset_crud)


async def test_a_webhook_is_created_patched_replaced_and_deleted() -> None:
    await run_flow(webhook_crud)


async def test_a_live_session_emptied_by_kicks_ends_after_its_keep_alive_time() -> None:
    await run_flow(active_session)


async def test_an_ended_sessions_artefacts_can_be_read_and_a_summary_arrives_after_a_delay() -> None:
    await run_flow(session_reads)


async def test_a_new_app_is_listed_next_to_the_sandbox_app() -> None:
    await run_flow(apps)


async def test_the_flows_together_call_every_tool() -> None:
    used: set[str] = set()
    for flow in FLOWS.values():
        await run_flow(flow, used)
    assert len(ALL_TOOLS) == 53
    assert sorted(ALL_TOOLS - used) == [], "tools no flow calls successfully"
    assert used <= ALL_TOOLS
    async with sandbox_client() as client:
        served = {tool.name for tool in (await client.list_tools()).tools}
    assert served == ALL_TOOLS


# --------------------------------------------------------------------------- the helper itself


async def test_sandbox_state_file_is_shared_by_servers_opened_on_it(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.db"
    with anyio.fail_after(TIME_LIMIT):
        async with sandbox_client(state) as first:
            meeting = await call(first, "create_meeting", {"title": "Persisted"})
            await call(first, "delete_webhook", {"webhook_id": SEED.webhook_id})
        assert state.exists()
        async with sandbox_client(str(state)) as second:
            assert (await call(second, "get_meeting", {"meeting_id": meeting["id"]}))["title"] == "Persisted"
            assert "404" in await call_error(second, "get_webhook", {"webhook_id": SEED.webhook_id})
        async with sandbox_client() as fresh:  # without a state file: the seed again
            assert "404" in await call_error(fresh, "get_meeting", {"meeting_id": meeting["id"]})
            assert (await call(fresh, "get_webhook", {"webhook_id": SEED.webhook_id}))["id"] == SEED.webhook_id


async def test_call_raises_an_assertion_error_carrying_the_agents_error_text() -> None:
    async with sandbox_client() as client:
        with pytest.raises(ToolError) as caught:
            await call(client, "get_meeting", {"meeting_id": "nope"})
        assert isinstance(caught.value, AssertionError)
        assert caught.value.tool == "get_meeting" and "404" in caught.value.message
        assert "list_meetings" in str(caught.value)
        with pytest.raises(AssertionError, match="expected to fail"):
            await call_error(client, "list_apps")


async def test_sandbox_client_selects_tools_like_the_command_line() -> None:
    async with sandbox_client(read_only=True) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == {ep.name for ep in ENDPOINTS if ep.read_only}
        assert "Unknown tool" in await call_error(client, "create_meeting", {"title": "x"})
    async with sandbox_client(toolsets=["webhooks"], exclude_tools=["delete_*"]) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert names == {"list_webhooks", "create_webhook", "get_webhook", "replace_webhook", "update_webhook"}


async def test_a_preset_read_with_get_preset_can_be_created_again_under_a_new_name() -> None:
    async with sandbox_client() as client:
        host = await call(client, "get_preset", {"preset_id": SEED.preset_host})
        copy = {key: host[key] for key in ("config", "ui", "permissions")} | {"name": "host_copy"}
        created = await call(client, "create_preset", copy)
        assert (await call(client, "get_preset", {"preset_id": created["id"]}))["ui"] == host["ui"]
