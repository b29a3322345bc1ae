"""For every tool: the exact HTTP request built from a representative argument set, and what an
agent reads when that request fails in a way only the tool's own row can explain.

Expected paths are written out literally from the reference rather than derived from the catalog,
so a wrong template in the catalog fails here. Every catalog row needs a case here: a new endpoint
is one row, one params model and one case.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx2
import pytest

from rtk_mcp.catalog import BY_NAME, ENDPOINTS
from tests.conftest import PRESET, FakeAPI, connect, text_of

KIT = "/client/v4/accounts/acc123/realtime/kit"

RECORDING_CONFIG = {
    "file_name_prefix": "standup",
    "max_seconds": 3600,
    "audio_config": {"channel": "stereo", "codec": "AAC"},
    "video_config": {"codec": "H264", "width": 1280, "height": 720},
    "storage_config": {"type": "aws", "bucket": "b", "region": "us-east-1", "access_key": "AK", "secret": "S"},
}
AI_CONFIG = {
    "summarization": {"summary_type": "team_meeting", "text_format": "markdown", "word_limit": 300},
    "transcription": {"language": "en-US", "keywords": ["RealtimeKit"], "profanity_filter": True},
}
WEBHOOK = {"name": "events", "url": "https://example.com/hook", "events": ["meeting.started", "meeting.ended"]}

# tool -> (arguments, method, path under KIT, query, body)
CASES: dict[str, tuple[dict[str, Any], str, str, dict[str, list[str]], Any]] = {
    "list_apps": ({}, "GET", "/apps", {}, None),
    "create_app": ({"name": "Prod"}, "POST", "/apps", {}, {"name": "Prod"}),
    "list_meetings": (
        {"search": "standup", "page_no": 2, "per_page": 10, "start_time": "2026-01-01T00:00:00Z"},
        "GET", "/app-1/meetings",
        {"search": ["standup"], "page_no": ["2"], "per_page": ["10"], "start_time": ["2026-01-01T00:00:00Z"]}, None,
    ),
    "create_meeting": (
        {"title": "Standup", "record_on_start": True, "session_keep_alive_time_in_secs": 120,
         "ai_config": AI_CONFIG, "recording_config": RECORDING_CONFIG},
        "POST", "/app-1/meetings", {},
        {"title": "Standup", "record_on_start": True, "session_keep_alive_time_in_secs": 120,
         "ai_config": AI_CONFIG, "recording_config": RECORDING_CONFIG},
    ),
    "get_meeting": ({"meeting_id": "m1", "name": "Ann"}, "GET", "/app-1/meetings/m1", {"name": ["Ann"]}, None),
    "update_meeting": (
        {"meeting_id": "m1", "title": "New", "status": "INACTIVE"}, "PATCH", "/app-1/meetings/m1", {},
        {"title": "New", "status": "INACTIVE"},
    ),
    "replace_meeting": (
        {"meeting_id": "m1", "title": "All", "persist_chat": False}, "PUT", "/app-1/meetings/m1", {},
        {"title": "All", "persist_chat": False},
    ),
    "list_meeting_participants": (
        {"meeting_id": "m1", "per_page": 50}, "GET", "/app-1/meetings/m1/participants", {"per_page": ["50"]}, None,
    ),
    "add_participant": (
        {"meeting_id": "m1", "custom_participant_id": "u-7", "preset_name": "host", "name": "Ann",
         "picture": "https://example.com/a.png"},
        "POST", "/app-1/meetings/m1/participants", {},
        {"custom_participant_id": "u-7", "preset_name": "host", "name": "Ann", "picture": "https://example.com/a.png"},
    ),
    "get_participant": ({"meeting_id": "m1", "participant_id": "p1"}, "GET", "/app-1/meetings/m1/participants/p1", {}, None),
    "update_participant": (
        {"meeting_id": "m1", "participant_id": "p1", "name": "Bo"}, "PATCH", "/app-1/meetings/m1/participants/p1", {},
        {"name": "Bo"},
    ),
    "delete_participant": (
        {"meeting_id": "m1", "participant_id": "p1"}, "DELETE", "/app-1/meetings/m1/participants/p1", {}, None,
    ),
    "refresh_participant_token": (
        {"meeting_id": "m1", "participant_id": "p1"}, "POST", "/app-1/meetings/m1/participants/p1/token", {}, None,
    ),
    "list_presets": ({"page_no": 1}, "GET", "/app-1/presets", {"page_no": ["1"]}, None),
    "create_preset": (PRESET, "POST", "/app-1/presets", {}, PRESET),
    "get_preset": ({"preset_id": "pr1"}, "GET", "/app-1/presets/pr1", {}, None),
    "delete_preset": ({"preset_id": "pr1"}, "DELETE", "/app-1/presets/pr1", {}, None),
    "update_preset": ({"preset_id": "pr1", "name": "cohost"}, "PATCH", "/app-1/presets/pr1", {}, {"name": "cohost"}),
    "list_sessions": (
        {"status": "ENDED", "sort_by": "createdAt", "sort_order": "DESC", "associated_id": "m1"},
        "GET", "/app-1/sessions",
        {"status": ["ENDED"], "sort_by": ["createdAt"], "sort_order": ["DESC"], "associated_id": ["m1"]}, None,
    ),
    "get_session": (
        {"session_id": "s1", "include_breakout_rooms": True}, "GET", "/app-1/sessions/s1",
        {"include_breakout_rooms": ["true"]}, None,
    ),
    "list_session_participants": (
        {"session_id": "s1", "view": "consolidated", "include_peer_events": False}, "GET",
        "/app-1/sessions/s1/participants", {"view": ["consolidated"], "include_peer_events": ["false"]}, None,
    ),
    "get_session_participant": (
        {"session_id": "s1", "participant_id": "p1", "filters": ["device_info", "quality_stats"]}, "GET",
        "/app-1/sessions/s1/participants/p1", {"filters": ["device_info,quality_stats"]}, None,
    ),
    "get_session_chat": ({"session_id": "s1"}, "GET", "/app-1/sessions/s1/chat", {}, None),
    "get_session_transcript": ({"session_id": "s1"}, "GET", "/app-1/sessions/s1/transcript", {}, None),
    "get_session_summary": ({"session_id": "s1"}, "GET", "/app-1/sessions/s1/summary", {}, None),
    "generate_session_summary": ({"session_id": "s1"}, "POST", "/app-1/sessions/s1/summary", {}, None),
    "get_peer_report": (
        {"peer_id": "peer1", "filters": ["device_info"]}, "GET", "/app-1/sessions/peer-report/peer1",
        {"filters": ["device_info"]}, None,
    ),
    "list_recordings": (
        {"meeting_id": "m1", "status": ["RECORDING", "UPLOADED"], "expired": False}, "GET", "/app-1/recordings",
        {"meeting_id": ["m1"], "status": ["RECORDING", "UPLOADED"], "expired": ["false"]}, None,
    ),
    "start_recording": (
        {"meeting_id": "m1", "max_seconds": 600, "audio_config": {"channel": "mono"}},
        "POST", "/app-1/recordings", {}, {"meeting_id": "m1", "max_seconds": 600, "audio_config": {"channel": "mono"}},
    ),
    "get_active_recording": ({"meeting_id": "m1"}, "GET", "/app-1/recordings/active-recording/m1", {}, None),
    "get_recording": ({"recording_id": "r1"}, "GET", "/app-1/recordings/r1", {}, None),
    "update_recording": ({"recording_id": "r1", "action": "pause"}, "PUT", "/app-1/recordings/r1", {}, {"action": "pause"}),
    "start_track_recording": (
        {"meeting_id": "m1", "layers": {"default": {"file_name_prefix": "t", "outputs": [{"type": "REALTIMEKIT_BUCKET"}]}}},
        "POST", "/app-1/recordings/track", {},
        {"meeting_id": "m1", "layers": {"default": {"file_name_prefix": "t", "outputs": [{"type": "REALTIMEKIT_BUCKET"}]}}},
    ),
    "list_webhooks": ({}, "GET", "/app-1/webhooks", {}, None),
    "create_webhook": (WEBHOOK, "POST", "/app-1/webhooks", {}, WEBHOOK),
    "get_webhook": ({"webhook_id": "w1"}, "GET", "/app-1/webhooks/w1", {}, None),
    "replace_webhook": ({"webhook_id": "w1", **WEBHOOK, "enabled": False}, "PUT", "/app-1/webhooks/w1", {},
                        {**WEBHOOK, "enabled": False}),
    "update_webhook": ({"webhook_id": "w1", "enabled": True}, "PATCH", "/app-1/webhooks/w1", {}, {"enabled": True}),
    "delete_webhook": ({"webhook_id": "w1"}, "DELETE", "/app-1/webhooks/w1", {}, None),
    "get_active_session": ({"meeting_id": "m1"}, "GET", "/app-1/meetings/m1/active-session", {}, None),
    "kick_participants": (
        {"meeting_id": "m1", "participant_ids": ["p1"], "custom_participant_ids": []}, "POST",
        "/app-1/meetings/m1/active-session/kick", {}, {"participant_ids": ["p1"], "custom_participant_ids": []},
    ),
    "kick_all_participants": ({"meeting_id": "m1"}, "POST", "/app-1/meetings/m1/active-session/kick-all", {}, None),
    "create_poll": (
        {"meeting_id": "m1", "question": "Lunch?", "options": ["Yes", "No"], "anonymous": True}, "POST",
        "/app-1/meetings/m1/active-session/poll", {}, {"question": "Lunch?", "options": ["Yes", "No"], "anonymous": True},
    ),
    "create_livestream": ({"name": "Town hall"}, "POST", "/app-1/livestreams", {}, {"name": "Town hall"}),
    "list_livestreams": (
        {"status": "LIVE", "exclude_meetings": True, "sort_order": "DSC"}, "GET", "/app-1/livestreams",
        {"status": ["LIVE"], "exclude_meetings": ["true"], "sort_order": ["DSC"]}, None,
    ),
    "stop_meeting_livestream": ({"meeting_id": "m1"}, "POST", "/app-1/meetings/m1/active-livestream/stop", {}, None),
    "start_meeting_livestream": (
        {"meeting_id": "m1", "name": "Live", "video_config": {"width": 1280, "height": 720}}, "POST",
        "/app-1/meetings/m1/livestreams", {}, {"name": "Live", "video_config": {"width": 1280, "height": 720}},
    ),
    "get_livestream_analytics": (
        {"start_time": "2026-01-01T00:00:00Z", "end_time": "2026-02-01T00:00:00Z"}, "GET",
        "/app-1/analytics/livestreams/overall",
        {"start_time": ["2026-01-01T00:00:00Z"], "end_time": ["2026-02-01T00:00:00Z"]}, None,
    ),
    "get_meeting_active_livestream": ({"meeting_id": "m1"}, "GET", "/app-1/meetings/m1/active-livestream", {}, None),
    "get_livestream_session": ({"livestream_session_id": "ls1"}, "GET", "/app-1/livestreams/sessions/ls1", {}, None),
    "get_active_livestream_session": (
        {"livestream_id": "l1"}, "GET", "/app-1/livestreams/l1/active-livestream-session", {}, None,
    ),
    "get_livestream": ({"livestream_id": "l1", "per_page": 5}, "GET", "/app-1/livestreams/l1", {"per_page": ["5"]}, None),
    "get_daywise_analytics": (
        {"start_date": "2026-01-01", "end_date": "2026-01-31", "app_id": "app-2"}, "GET", "/app-2/analytics/daywise",
        {"start_date": ["2026-01-01"], "end_date": ["2026-01-31"]}, None,
    ),
}


def test_every_catalog_row_has_a_request_case() -> None:
    missing = {ep.name for ep in ENDPOINTS} - set(CASES)
    assert not missing, f"endpoints without a request case in tests/api/test_requests.py: {sorted(missing)}"
    assert set(CASES) <= {ep.name for ep in ENDPOINTS}


@pytest.mark.parametrize("name", sorted(CASES))
async def test_tool_sends_the_documented_request(fake_api: FakeAPI, name: str) -> None:
    async with connect(fake_api) as client:
        arguments, method, path, query, body = CASES[name]
        result = await client.call_tool(name, arguments)
        assert not result.is_error, text_of(result)
        assert len(fake_api.requests) == 1
        request = fake_api.requests[0]
        assert request.method == method
        assert request.url.host == "api.test"
        assert request.url.path == KIT + path
        sent_query: dict[str, list[str]] = {}
        for key, value in request.url.params.multi_items():
            sent_query.setdefault(key, []).append(value)
        assert sent_query == query
        assert fake_api.last_body() == body
        if body is not None:
            assert request.headers["content-type"] == "application/json"
        assert json.loads(text_of(result)) == {"id": "x1"}


def _failing_with(status: int, message: str) -> FakeAPI:
    return FakeAPI(responder=lambda request: httpx2.Response(status, json={"success": False,
                                                                            "error": {"message": message}}))


@pytest.mark.parametrize("name", [ep.name for ep in ENDPOINTS if ep.path_fields])
async def test_a_404_names_the_tool_that_lists_each_id_the_tool_took(name: str) -> None:
    """Each id in the path gets "<tool> shows valid <id> values", naming a read-only tool of the listing
    that does not itself need that id, and the same tool the id's own description names."""
    async with connect(_failing_with(404, "Not found")) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        result = await client.call_tool(name, CASES[name][0])
    message = text_of(result)
    assert result.is_error and "HTTP 404" in message
    properties = listed[name].input_schema["properties"]
    for id_field in BY_NAME[name].path_fields:
        found = re.search(rf"(\w+(?: or \w+)*) shows valid {id_field} values", message)
        assert found, f"{name}: the 404 hint names no tool listing {id_field}: {message}"
        sources = found.group(1).split(" or ")  # a listing tool, and maybe the tool that creates the id
        assert any(source in listed and listed[source].annotations.read_only_hint for source in sources), (
            name, id_field)
        for source in sources:
            assert source in listed and f"{{{id_field}}}" not in BY_NAME[source].path, (name, id_field, source)
            if "description" in properties[id_field]:
                assert source in properties[id_field]["description"], (name, id_field, source)


@pytest.mark.parametrize("name", [ep.name for ep in ENDPOINTS if ep.method in {"POST", "PATCH"}])
async def test_a_write_with_an_unknown_outcome_names_the_read_tool_that_shows_it(name: str) -> None:
    fake_api = _failing_with(502, "Bad gateway")
    async with connect(fake_api) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
        result = await client.call_tool(name, CASES[name][0])
    message = text_of(result)
    assert result.is_error and "outcome is unknown" in message and len(fake_api.requests) == 1  # never resent
    found = re.search(r"check with (\w+)", message)
    assert found, f"{name}: no read tool to check the outcome with: {message}"
    assert found.group(1) in listed and listed[found.group(1)].annotations.read_only_hint, (name, found.group(1))
