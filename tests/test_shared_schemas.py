"""A nested object several tools take is spelled out once per ``tools/list`` and referenced after that.

What must hold: every reference names a tool listed earlier in the same ``tools/list`` and a path in
it that spells out exactly the referenced object (or its all-optional form); a selection without that
tool gets the object in full; ``--full-schemas`` turns sharing off; and validation is untouched, so a
bad nested field of a referenced object is still an error naming it, with no request.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from mcp import Client

from rtk_mcp.catalog import BY_NAME, ENDPOINTS, input_schema
from rtk_mcp.selection import select
from rtk_mcp.server import build_server
from rtk_mcp.sharing import share_repeated_objects
from tests.conftest import FakeAPI, connect, settings, text_of
from tests.test_selection import cli

REFERENCE = re.compile(r"Same fields as (\w+)'s ([\w.]+)(, all optional)?$")


async def listing(**build: Any) -> list[dict[str, Any]]:
    server = build_server(settings(), transport=FakeAPI().transport, **build)
    async with Client(server) as client:
        result = await client.list_tools()
    return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in result.tools]


def references(schema: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], re.Match[str]]]:
    """``(where, match)`` for every referencing node under ``schema``."""
    found = []
    if isinstance(schema, dict):
        match = REFERENCE.search(schema.get("description", ""))
        if match:
            assert set(schema) == {"type", "description"} and schema["type"] == "object", (path, schema)
            found.append((path, match))
        for name, sub in schema.get("properties", {}).items():
            found += references(sub, (*path, name))
        for key in ("items", "additionalProperties"):
            found += references(schema.get(key), (*path, key))
    return found


def at(schema: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    """The node at ``path``; as in a reference's text, ``items``/``additionalProperties`` steps may be left out."""
    for part in path:
        while part not in ("items", "additionalProperties") and part not in schema.get("properties", {}):
            schema = schema["items"] if "items" in schema else schema["additionalProperties"]
        schema = schema[part] if part in ("items", "additionalProperties") else schema["properties"][part]
    return schema


def without(node: Any, *keys: str) -> Any:
    if isinstance(node, dict):
        return {k: without(v, *keys) for k, v in node.items() if k not in keys or not isinstance(v, (list, str))}
    return [without(item, *keys) for item in node] if isinstance(node, list) else node


@pytest.mark.parametrize("selection", [{}, {"toolsets": ["presets"]}, {"toolsets": ["recordings"]},
                                       {"tools": ["create_meeting", "start_recording", "update_meeting"]}])
async def test_every_reference_points_at_the_same_object_spelled_out_earlier(selection: dict[str, Any]) -> None:
    tools = await listing(endpoints=select(**selection))
    order = [tool["name"] for tool in tools]
    seen = 0
    for tool in tools:
        for path, match in references(tool["inputSchema"]):
            seen += 1
            owner, owner_path, all_optional = match.group(1), tuple(match.group(2).split(".")), match.group(3)
            assert order.index(owner) < order.index(tool["name"]), (tool["name"], owner)
            spelled_out = at(next(t for t in tools if t["name"] == owner)["inputSchema"], owner_path)
            assert "properties" in spelled_out and not references(spelled_out)
            # What the referencing tool's own model says, in full:
            own = at(input_schema(BY_NAME[tool["name"]].params), path)
            if all_optional:
                assert "required" not in json.dumps(own)
                assert without(own, "description", "required") == without(spelled_out, "description", "required")
            else:
                assert {k: v for k, v in own.items() if k != "description"} == \
                       {k: v for k, v in spelled_out.items() if k != "description"}
    assert seen, "this selection was chosen because it shares objects"


async def test_the_full_catalogue_shares_the_meeting_preset_and_recording_objects() -> None:
    tools = {tool["name"]: tool for tool in await listing()}
    shared = {(name, ".".join(path)) for name, tool in tools.items() for path, _ in references(tool["inputSchema"])}
    assert shared == {
        ("update_meeting", "ai_config"), ("replace_meeting", "ai_config"), ("replace_meeting", "recording_config"),
        ("update_preset", "config"), ("update_preset", "ui"), ("update_preset", "permissions"),
        ("start_recording", "audio_config"), ("start_recording", "video_config"),
        ("start_recording", "storage_config"),
        ("start_track_recording", "layers.additionalProperties.outputs.items.storage_config"),
    }


async def test_without_the_first_tool_the_next_one_spells_the_object_out() -> None:
    tools = {tool["name"]: tool for tool in await listing(endpoints=select(tools=["update_preset", "replace_meeting"]))}
    for name in tools:
        assert not references(tools[name]["inputSchema"]), name
    assert "can_produce" in json.dumps(tools["update_preset"]["inputSchema"]["properties"]["permissions"])


async def test_full_schemas_spells_out_every_tool() -> None:
    tools = await listing(full_schemas=True)
    assert [tool["inputSchema"] for tool in tools] == [input_schema(ep.params) for ep in ENDPOINTS]


async def test_a_referenced_object_is_still_validated_field_by_field(fake_api: FakeAPI) -> None:
    async with connect(fake_api) as client:
        bad = await client.call_tool("update_preset", {
            "preset_id": "p1", "permissions": {"media": {"video": {"can_produce": "SOMETIMES"}}}})
        typo = await client.call_tool("replace_meeting", {
            "meeting_id": "m1", "recording_config": {"video_config": {"codex": "VP8"}}})
        assert fake_api.requests == []
        good = await client.call_tool("replace_meeting", {
            "meeting_id": "m1", "recording_config": {"video_config": {"codec": "VP8", "width": 1280}}})
    assert bad.is_error and "permissions.media.video.can_produce" in text_of(bad)
    assert typo.is_error and "recording_config.video_config.codex" in text_of(typo)
    assert not good.is_error
    assert fake_api.last_body()["recording_config"] == {"video_config": {"codec": "VP8", "width": 1280}}


@pytest.mark.parametrize(("flags", "env"), [(["--full-schemas"], {}), ([], {"RTK_FULL_SCHEMAS": "1"})])
def test_cli_full_schemas_flag_and_variable(flags: list[str], env: dict[str, str]) -> None:
    shared, full = cli("tools", "--json"), cli("tools", "--json", *flags, env=env)
    assert shared.returncode == full.returncode == 0, shared.stderr + full.stderr
    count = lambda text: sum(len(references(tool["inputSchema"])) for tool in json.loads(text))
    assert count(shared.stdout) == 10 and count(full.stdout) == 0


def test_only_the_same_fields_with_the_same_or_no_requirements_are_shared() -> None:
    fields = {"type": "object", "properties": {f"field_{i}": {"type": "string"} for i in range(12)}}
    first, other, optional = ({"type": "object", "properties": {"o": {**fields, **extra}}}
                              for extra in ({"required": ["field_0"]}, {"required": ["field_1"]}, {}))
    out = share_repeated_objects([("a", first), ("b", other), ("c", optional), ("d", first)])
    assert out[:2] == [first, other]  # other requirements: spelled out
    assert out[2]["properties"]["o"] == {"type": "object", "description": "Same fields as a's o, all optional"}
    assert out[3]["properties"]["o"] == {"type": "object", "description": "Same fields as a's o"}
