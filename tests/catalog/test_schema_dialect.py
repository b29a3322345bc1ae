"""What the schemas no longer say (because a provider refuses the keyword) validation still enforces,
before anything is sent; and what the reference documents is what the definitions say."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import PRESET, FakeAPI, connect, text_of


async def _refused(fake_api: FakeAPI, tool: str, arguments: dict[str, Any]) -> str:
    async with connect(fake_api) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error, (tool, arguments)
    assert fake_api.requests == [], "nothing may be sent for invalid arguments"
    return text_of(result)


async def _sent(fake_api: FakeAPI, tool: str, arguments: dict[str, Any]) -> Any:
    async with connect(fake_api) as client:
        result = await client.call_tool(tool, arguments)
    assert not result.is_error, text_of(result)
    return fake_api.requests[-1]


@pytest.mark.parametrize(
    ("tool", "arguments", "names"),
    [
        ("list_meetings", {"start_time": "yesterday"}, "ISO 8601 date-time"),
        ("list_sessions", {"end_time": "2025-01-31"}, "with a time"),
        ("create_meeting", {"ai_config": {"summarization": {"word_limit": 100}}}, "word_limit"),
        ("start_recording", {"meeting_id": "m1", "video_config": {"width": 2000}}, "video_config.width"),
        ("start_recording", {"meeting_id": "m1", "max_seconds": 30}, "max_seconds"),
        ("create_webhook", {"name": "w", "url": "h.example/x", "events": ["meeting.started"]}, "absolute URL"),
        ("add_participant", {"meeting_id": "m1", "custom_participant_id": "a", "preset_name": "p",
                             "picture": "h.example/a.png"}, "absolute URL"),
        ("update_preset", {"preset_id": "p1", "ui": {"config_diff": "{not json"}}, "JSON object"),
        ("start_track_recording", {"meeting_id": "m1", "layers": [{"name": "a"}, {"name": "a"}]}, "unique"),
    ],
)
async def test_a_rule_the_schema_leaves_to_validation_is_refused_before_sending(
    fake_api: FakeAPI, tool: str, arguments: dict[str, Any], names: str
) -> None:
    assert names in await _refused(fake_api, tool, arguments)


async def test_a_bound_left_out_of_the_schema_is_stated_in_the_description() -> None:
    async with connect(FakeAPI()) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    meeting = tools["create_meeting"].input_schema["properties"]
    assert meeting["session_keep_alive_time_in_secs"]["description"].endswith("60-600")
    assert "maximum" not in json.dumps(meeting) and "minimum" not in json.dumps(meeting)
    # The reference states no base or bounds for pages, so none are stated or imposed.
    assert tools["list_meetings"].input_schema["properties"]["page_no"] == {"type": "integer"}


async def test_a_valid_date_time_is_sent_as_given(fake_api: FakeAPI) -> None:
    request = await _sent(fake_api, "list_meetings", {"start_time": "2025-01-31T09:00:00Z", "page_no": 1})
    assert request.url.params["start_time"] == "2025-01-31T09:00:00Z" and request.url.params["page_no"] == "1"


async def test_an_http_picture_is_accepted(fake_api: FakeAPI) -> None:
    request = await _sent(fake_api, "add_participant", {"meeting_id": "m1", "custom_participant_id": "a",
                                                        "preset_name": "p", "picture": "http://h.example/a.png"})
    assert json.loads(request.content)["picture"] == "http://h.example/a.png"


async def test_open_maps_are_taken_in_a_portable_form_and_sent_as_the_api_expects(fake_api: FakeAPI) -> None:
    layers = [{"name": "default", "file_name_prefix": "t", "outputs": [{"type": "REALTIMEKIT_BUCKET"}]}]
    request = await _sent(fake_api, "start_track_recording", {"meeting_id": "m1", "layers": layers})
    assert json.loads(request.content)["layers"] == {
        "default": {"file_name_prefix": "t", "outputs": [{"type": "REALTIMEKIT_BUCKET"}]}
    }
    ui = {**PRESET["ui"], "config_diff": '{"header": {"hidden": true}}'}
    request = await _sent(fake_api, "create_preset", {**PRESET, "ui": ui})
    assert json.loads(request.content)["ui"]["config_diff"] == {"header": {"hidden": True}}


async def test_replace_tools_say_they_reset_what_is_left_out() -> None:
    async with connect(FakeAPI()) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    for name in ("replace_meeting", "replace_webhook"):
        assert tools[name].annotations is not None and tools[name].annotations.destructive_hint is True
        assert "omitted ones may reset" in (tools[name].description or "")
