"""Errors and empty states name the next step: a 409 on a taken name or id names the tool that finds and
resolves the existing object, and "nothing running" answers say so first, with the tool that starts it,
before asking to check ids.

Through the offline sandbox (the API's error bodies as the emulator gives them) and, where the live
API's body is undocumented, a faked HTTP transport.
"""

from __future__ import annotations

import httpx2
import pytest

from rtk_mcp.api.messages import _CONFLICT, _NOTHING_RUNNING
from rtk_mcp.catalog import BY_NAME
from rtk_mcp.testing import SEED, call, call_error, sandbox_client
from tests.conftest import PRESET, FakeAPI, connect, text_of


def test_every_tool_named_in_a_next_step_text_exists() -> None:
    for tool in [*_CONFLICT, *_NOTHING_RUNNING]:
        assert tool in BY_NAME, tool
    for text in [*_CONFLICT.values(), *_NOTHING_RUNNING.values()]:
        named = [word.strip("(),;:.") for word in text.split() if "_" in word]
        assert named, text
        for word in named:
            assert word in BY_NAME or word in {"custom_participant_id", "preset_id", "webhook_id",
                                               "allow_multiple_recordings", "ingest_server", "stream_key"}, word


async def test_a_preset_name_taken_names_update_preset_and_where_its_id_is() -> None:
    async with sandbox_client() as client:
        text = await call_error(client, "create_preset", {**PRESET, "name": "group_call_host"})
    assert text.startswith("HTTP 409 Conflict")
    assert "list_presets shows its preset_id; update_preset changes it" in text
    assert "Fix the arguments" not in text


async def test_a_custom_participant_id_taken_names_the_tools_that_find_and_reuse_the_participant() -> None:
    async with sandbox_client() as client:
        text = await call_error(client, "add_participant", {
            "meeting_id": SEED.meeting_team_sync, "custom_participant_id": "alice.chen", "preset_name": "group_call_host"})
    assert text.startswith("HTTP 409 Conflict")
    assert "list_meeting_participants shows its id" in text
    assert "get_participant or refresh_participant_token gives its token" in text


async def test_a_second_recording_names_the_running_one_and_how_to_stop_it() -> None:
    async with sandbox_client() as client:
        await call(client, "start_recording", {"meeting_id": SEED.meeting_live})
        text = await call_error(client, "start_recording", {"meeting_id": SEED.meeting_live})
    assert "get_active_recording shows its id; update_recording stops it" in text


async def test_a_409_from_a_tool_without_a_known_conflict_keeps_the_generic_advice(fake_api: FakeAPI) -> None:
    # The live API's 409 body is undocumented: whatever it says is quoted, the advice is ours.
    fake_api.responder = lambda request: httpx2.Response(409, json={"success": False, "error": {"message": "busy"}})
    async with connect(fake_api) as client:
        result = await client.call_tool("update_meeting", {"meeting_id": "m1", "title": "x"})
    assert text_of(result) == "HTTP 409: the API rejected the request: busy. Fix the arguments and call again."


async def test_a_409_on_a_preset_name_through_http_names_the_next_tools(fake_api: FakeAPI) -> None:
    fake_api.responder = lambda request: httpx2.Response(409, json={"errors": [{"message": "Preset exists"}]})
    async with connect(fake_api) as client:
        result = await client.call_tool("create_preset", PRESET)
    assert text_of(result) == ("HTTP 409 Conflict: Preset exists. A preset with this name may exist: list_presets "
                               "shows its preset_id; update_preset changes it, or pick another name.")


@pytest.mark.parametrize(("tool", "first", "starter"), [
    ("get_active_session", "No session is running in this meeting now", "add_participant"),
    ("get_active_recording", "No recording is running in this meeting now", "start_recording"),
    ("get_meeting_active_livestream", "No livestream is running in this meeting now", "start_meeting_livestream"),
    ("kick_all_participants", "No session is running in this meeting now", "add_participant"),
])
async def test_nothing_running_is_said_first_with_the_tool_that_starts_it(tool: str, first: str, starter: str) -> None:
    async with sandbox_client() as client:
        text = await call_error(client, tool, {"meeting_id": SEED.meeting_team_sync})
    assert text.startswith("HTTP 404 Not Found")
    said = text.index(first)
    assert said < text.index(starter) < text.index("check the ids") < text.index("list_meetings shows valid")


async def test_a_404_on_another_read_only_asks_to_check_ids() -> None:
    async with sandbox_client() as client:
        text = await call_error(client, "get_meeting", {"meeting_id": "no-such-meeting"})
    assert "running" not in text
    assert text.endswith("Check app_id, meeting_id; list_apps shows valid app_id values; list_meetings shows valid "
                         "meeting_id values.")
