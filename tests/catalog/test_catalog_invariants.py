"""Rules every tool must follow, checked over the whole catalogue as served over MCP."""

from __future__ import annotations

import importlib
import json
import re
from typing import Any

import anyio
import pytest

from rtk_mcp.catalog import BY_NAME, ENDPOINTS, GROUPS, PATH_PREFIX
from tests.conftest import REFERENCE, FakeAPI, connect

VERBS = ("list", "get", "create", "update", "replace", "delete", "add", "start", "stop", "kick", "refresh", "generate")
NAME = re.compile(rf"^({'|'.join(VERBS)})_[a-z]+(_[a-z]+)*$")


@pytest.fixture
def tools() -> list[dict[str, Any]]:
    """The definitions exactly as a client receives them over MCP."""

    async def fetch() -> list[dict[str, Any]]:
        async with connect(FakeAPI()) as client:
            listed = await client.list_tools()
        return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in listed.tools]

    return anyio.run(fetch)


def _walk(node: Any, path: str = "$"):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")


def _normalise(path: str) -> str:
    return re.sub(r"{[^}]+}", "{}", path)


def test_every_documented_operation_has_exactly_one_tool() -> None:
    documented = json.loads(REFERENCE.read_text())["endpoints"]
    assert len(documented) == 54
    ours = {(ep.method, _normalise(ep.full_path)) for ep in ENDPOINTS}
    theirs = {(op["method"], _normalise(op["path"])) for op in documented}
    assert ours == theirs
    assert len(ENDPOINTS) == len(theirs) == 53


def test_every_documented_parameter_is_a_tool_argument() -> None:
    for op in json.loads(REFERENCE.read_text())["endpoints"]:
        endpoint = next(ep for ep in ENDPOINTS if (ep.method, _normalise(ep.full_path)) == (op["method"], _normalise(op["path"])))
        documented = set((op["params_schema"] or {}).get("properties", {})) | {p.replace("-", "_") for p in op["path_params"]}
        documented.discard("account_id")
        assert documented <= set(endpoint.params.model_fields), (endpoint.name, documented - set(endpoint.params.model_fields))


def test_each_toolset_is_exactly_the_rows_of_its_catalog_module() -> None:
    """A tool's group is the module its params model lives in: a row listed in one module with a model
    from another would land in the wrong toolset."""
    for group in GROUPS:
        module = importlib.import_module(f"rtk_mcp.catalog.{group}")
        assert [ep.name for ep in module.ENDPOINTS] == [ep.name for ep in ENDPOINTS if ep.group == group], group


def test_names_are_unique_snake_case_verb_noun_and_short(tools: list[dict[str, Any]]) -> None:
    names = [tool["name"] for tool in tools]
    assert len(names) == len(set(names)) == 53
    for name in names:
        assert NAME.match(name), name
        assert len(name) <= 40, name


def test_descriptions_are_present_and_concise(tools: list[dict[str, Any]]) -> None:
    for tool in tools:
        assert 20 <= len(tool["description"]) <= 400, tool["name"]


def test_every_tool_spells_out_every_meaningful_annotation(tools: list[dict[str, Any]]) -> None:
    for tool in tools:
        annotations = tool["annotations"]
        # destructiveHint and idempotentHint mean something only when readOnlyHint is false (MCP spec).
        meaningful = {"title", "readOnlyHint", "openWorldHint"}
        if not annotations["readOnlyHint"]:
            meaningful |= {"destructiveHint", "idempotentHint"}
        assert set(annotations) == meaningful, tool["name"]
        assert annotations["title"], tool["name"]


def test_annotations_follow_the_method_and_the_verb(tools: list[dict[str, Any]]) -> None:
    for tool in tools:
        endpoint, hints = BY_NAME[tool["name"]], tool["annotations"]
        assert hints["readOnlyHint"] is (endpoint.method == "GET"), tool["name"]
        assert hints["openWorldHint"], tool["name"]
        if endpoint.method == "GET":
            assert endpoint.idempotent and not endpoint.destructive, tool["name"]
        if tool["name"].startswith(("delete_", "kick_", "stop_")):
            assert hints["destructiveHint"], tool["name"]
        if tool["name"].startswith(("create_", "add_", "start_", "generate_")):
            assert not hints["idempotentHint"], tool["name"]
        if endpoint.method in {"PUT", "DELETE"}:
            assert hints["idempotentHint"], tool["name"]


def test_schemas_are_flat_strict_and_typed(tools: list[dict[str, Any]]) -> None:
    """Every object closed (strict OpenAI and Anthropic modes need it on each one; pydantic enforces it
    too, naming the path), no references, a type on every node. tests/catalog/test_portability.py runs the
    providers' own conversions."""
    for tool in tools:
        schema = tool["inputSchema"]
        assert schema["type"] == "object" and schema["additionalProperties"] is False, tool["name"]
        assert not {"anyOf", "oneOf", "allOf"} & set(schema), tool["name"]
        assert "account_id" not in schema.get("properties", {})
        for where, node in _walk(schema):
            assert "$ref" not in node and "$defs" not in node, (tool["name"], where)
            assert not isinstance(node.get("title"), str), (tool["name"], where)
            if node.get("type") == "object":
                assert node.get("properties") and node.get("additionalProperties") is False, (tool["name"], where)
            if "properties" in node:
                assert node.get("type") == "object", (tool["name"], where)
            if "enum" in node or "items" in node:  # Gemini/Vertex reject a node without a type
                assert "type" in node, (tool["name"], where)


def test_every_nested_object_is_spelled_out_in_each_tool_that_takes_it(tools: list[dict[str, Any]]) -> None:
    """A host may load one definition at a time: no object is left for another tool's schema to explain,
    and no object is an open map (strict provider modes refuse those; see tests/catalog/test_portability.py)."""
    for tool in tools:
        for where, node in _walk(tool["inputSchema"]):
            if node.get("type") == "object":
                assert node.get("properties"), (tool["name"], where)
            assert "Same fields as" not in str(node.get("description", "")), (tool["name"], where)


#: Arguments whose name (with its enum or pattern) says all a description would: describing them would
#: only repeat the name, in every conversation.
SELF_EVIDENT = {"name", "title", "question", "picture", "search", "status", "sort_order", "include_peer_events",
                "start_time", "end_time", "page_no", "per_page", "sort_by", "file_name_prefix", "action", "audio_config", "video_config", "ai_config", "permissions"}


def test_every_top_level_argument_is_described(tools: list[dict[str, Any]]) -> None:
    """Each tool stands alone: hosts load one definition at a time, and SDK helpers drop the server's
    instructions, so app_id is described in every tool too."""
    for tool in tools:
        for name, prop in tool["inputSchema"].get("properties", {}).items():
            if name not in SELF_EVIDENT:
                assert prop.get("description"), (tool["name"], name)
        if "app_id" in tool["inputSchema"]["properties"]:
            assert "RTK_APP_ID" in tool["inputSchema"]["properties"]["app_id"]["description"], tool["name"]


async def test_app_id_is_described_on_initialize_and_by_its_source() -> None:
    async with connect(FakeAPI()) as client:
        instructions = client.instructions
        listed = await client.list_tools()
    assert instructions is not None and "app_id (optional everywhere) defaults to RTK_APP_ID" in instructions
    list_apps = next(tool for tool in listed.tools if tool.name == "list_apps")
    assert "Source of app_id" in (list_apps.description or "")


def test_descriptions_and_instructions_stay_under_2_kb(tools: list[dict[str, Any]]) -> None:
    from rtk_mcp.server import INSTRUCTIONS

    assert len(INSTRUCTIONS.encode()) < 2048
    for tool in tools:
        assert len(tool["description"].encode()) < 2048, tool["name"]
        for _, node in _walk(tool["inputSchema"]):
            assert len(str(node.get("description", "")).encode()) < 2048, tool["name"]


def test_each_first_sentence_says_what_the_tool_does(tools: list[dict[str, Any]]) -> None:
    """Search indexes show only the first sentence: it starts with the action, in words."""
    actions = ("List", "Get", "Fetch", "Create", "Change", "Replace", "Add", "Edit", "Remove", "Issue", "Update",
               "Delete", "Record", "Pause", "Register", "Start", "Stop", "Generate")
    for tool in tools:
        first = tool["description"].split(". ")[0]
        assert first.startswith(actions), tool["name"]
        assert len(first.split()) >= 2, tool["name"]


def test_path_ids_are_required_and_app_id_is_optional(tools: list[dict[str, Any]]) -> None:
    for tool in tools:
        endpoint = BY_NAME[tool["name"]]
        required = set(tool["inputSchema"].get("required", []))
        for field in endpoint.path_fields:
            if field == "app_id":
                assert field not in required
            else:
                assert field in required, (tool["name"], field)
        assert endpoint.full_path.startswith(PATH_PREFIX)
