"""List tools take ``fields``: which fields of each item come back (ids and names always do).

It is ours, not the API's: applied to the response in shaping, never sent.
"""

from __future__ import annotations

from mcp import Client

from rtk_mcp.catalog import BY_NAME, ENDPOINTS
from rtk_mcp.results.shaping import select_fields
from rtk_mcp.sandbox import sandbox_settings, sandbox_transport
from rtk_mcp.server import build_server
from tests.conftest import FakeAPI, connect

LIST_TOOLS = {
    "list_meetings", "list_meeting_participants", "list_presets", "list_sessions", "list_session_participants",
    "list_recordings", "list_webhooks", "list_livestreams", "list_apps",
}


def test_exactly_the_list_tools_take_fields() -> None:
    assert {ep.name for ep in ENDPOINTS if ep.list_result} == LIST_TOOLS
    for endpoint in ENDPOINTS:
        assert ("fields" in endpoint.params.model_fields) is (endpoint.name in LIST_TOOLS), endpoint.name


async def test_fields_is_not_sent_to_the_api(fake_api: FakeAPI) -> None:
    async with connect(fake_api) as client:
        result = await client.call_tool("list_meetings", {"fields": ["status"], "per_page": 5})
    assert not result.is_error
    query = dict(fake_api.requests[-1].url.params)
    assert "fields" not in query and query["per_page"] == "5"


async def test_fields_must_be_a_list_of_strings(fake_api: FakeAPI) -> None:
    async with connect(fake_api) as client:
        result = await client.call_tool("list_meetings", {"fields": "status"})
    assert result.is_error and "fields" in result.content[0].text
    assert fake_api.requests == []


async def test_fields_trims_items_but_keeps_ids_and_names() -> None:
    async with Client(build_server(sandbox_settings(), transport=sandbox_transport(None))) as client:
        full = (await client.call_tool("list_meetings", {})).structured_content
        lean = (await client.call_tool("list_meetings", {"fields": ["status"]})).structured_content
        assert lean["paging"] == full["paging"]
        assert len(lean["data"]) == len(full["data"])
        for before, after in zip(full["data"], lean["data"], strict=True):
            assert set(after) == {"id", "title", "status"} & set(before)
            assert after == {k: before[k] for k in after}
        # Items nested one level down (the documented shape of list_sessions) are trimmed too.
        sessions = (await client.call_tool("list_sessions", {"fields": ["status"]})).structured_content
        for item in sessions["sessions"]:
            assert "id" in item and "status" in item
            assert set(item) <= {"status"} | {k for k in item if k in {"id", "name", "title"} or k.endswith(("_id", "_name"))}


def test_select_fields_leaves_single_objects_and_unselected_calls_alone() -> None:
    payload = {"success": True, "data": {"id": "m1", "title": "T", "status": "ACTIVE"}}
    assert select_fields(payload, ["status"]) == payload
    listed = {"success": True, "data": [{"id": "a", "x": 1, "y": 2, "preset_name": "p"}], "paging": {"total_count": 1}}
    assert select_fields(listed, None) is listed
    assert select_fields(listed, ["y"]) == {**listed, "data": [{"id": "a", "y": 2, "preset_name": "p"}]}
    assert BY_NAME["list_apps"].list_result and not BY_NAME["get_meeting"].list_result
