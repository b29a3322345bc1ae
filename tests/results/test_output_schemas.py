"""``--output-schemas``: every tool gets an ``outputSchema`` and every result validates against it.

The sandbox flows of ``tests/sandbox/test_sandbox_flows.py`` call every tool successfully; here they run
against a server with output schemas on, and each structured result is checked with jsonschema.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from mcp import Client

from rtk_mcp.catalog import ENDPOINTS
from rtk_mcp.sandbox import ManualClock, sandbox_settings, sandbox_transport
from rtk_mcp.server import build_server
from tests.conftest import FakeAPI, settings
from tests.sandbox.test_sandbox_flows import FLOWS, Tools

ALL_TOOLS = {ep.name for ep in ENDPOINTS}
ROOT = Path(__file__).resolve().parents[2]


class CheckedTools(Tools):
    """Like the flows' ``Tools``, but every successful result is validated against its tool's schema."""

    def __init__(self, client: Client, used: set[str], clock: ManualClock, schemas: dict[str, dict[str, Any]]) -> None:
        super().__init__(client, used, clock)
        self.schemas = schemas
        self.checked: set[str] = set()

    async def __call__(self, tool: str, **arguments: Any) -> dict[str, Any]:
        result = await super().__call__(tool, **arguments)
        jsonschema.validate(result, self.schemas[tool], cls=jsonschema.Draft202012Validator)
        self.checked.add(tool)
        return result


async def test_output_schemas_are_off_by_default() -> None:
    async with Client(build_server(settings(), transport=FakeAPI().transport)) as client:
        tools = (await client.list_tools()).tools
    assert all(tool.output_schema is None for tool in tools)


async def test_every_result_validates_against_its_tools_output_schema() -> None:
    used: set[str] = set()
    checked: set[str] = set()
    for flow in FLOWS.values():
        clock = ManualClock()
        server = build_server(replace(sandbox_settings(), output_schemas=True), transport=sandbox_transport(clock=clock))
        async with Client(server) as client:
            listed = (await client.list_tools()).tools
            schemas = {tool.name: tool.output_schema for tool in listed}
            assert all(schema and schema["type"] == "object" for schema in schemas.values())
            for schema in schemas.values():
                jsonschema.Draft202012Validator.check_schema(schema)
            tools = CheckedTools(client, used, clock, schemas)
            await flow(tools)
            checked |= tools.checked
    assert checked == ALL_TOOLS


async def test_list_results_put_their_items_where_the_schema_says() -> None:
    server = build_server(replace(sandbox_settings(), output_schemas=True), transport=sandbox_transport(None))
    async with Client(server) as client:
        schemas = {tool.name: tool.output_schema for tool in (await client.list_tools()).tools}
        for name in ("list_meetings", "list_sessions", "list_presets", "list_webhooks", "list_apps"):
            result = await client.call_tool(name, {})
            assert not result.is_error
            (list_field,) = [k for k, v in schemas[name]["properties"].items() if v.get("type") == "array"]
            assert isinstance(result.structured_content[list_field], list) and result.structured_content[list_field]


def test_the_shipped_reference_file_is_what_the_generator_writes_from_the_reference() -> None:
    """rtk_mcp/reference.json (request and response schemas) is what tools/gen_reference.py writes from ../shared."""
    check = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_reference.py"), "--check"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


async def test_results_carry_the_documented_fields_under_their_schema() -> None:
    server = build_server(replace(sandbox_settings(), output_schemas=True), transport=sandbox_transport(None))
    async with Client(server) as client:
        schemas = {tool.name: tool.output_schema for tool in (await client.list_tools()).tools}
        listed = await client.call_tool("list_meetings", {})
    item_fields = schemas["list_meetings"]["properties"]["data"]["items"]["properties"]
    assert {"id", "title", "status", "created_at"} <= set(item_fields)
    assert set(listed.structured_content["data"][0]) <= set(item_fields)
    meeting = schemas["get_meeting"]["properties"]
    assert meeting["recording_config"]["properties"]["video_config"]["properties"]["width"] == {"type": "number"}
    assert '"required"' not in json.dumps(schemas) and '"enum"' not in json.dumps(schemas)


#: tools/benchmark.py's peer environment: FastMCP 2 needs mcp 1.x, so it cannot share the test venv.
PEER_PYTHON = ROOT / ".bench" / "fastmcp-venv" / "bin" / "python"


def test_a_fastmcp_2_client_gets_typed_fields_for_meetings() -> None:
    """FastMCP 2 builds result classes from outputSchema: with the documented fields, list_meetings'
    items and get_meeting's result have them (not the empty classes a loose schema gave)."""
    if not PEER_PYTHON.exists():
        message = f"no FastMCP 2 environment at {PEER_PYTHON} (the README's test command creates it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "RTK_"))}
    run = subprocess.run([str(PEER_PYTHON), str(ROOT / "tests" / "fastmcp_typed_client.py"), sys.executable,
                          "-m", "rtk_mcp", "--sandbox", "--output-schemas"],
                         capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert {"data", "paging"} <= set(seen["list_fields"])
    assert {"id", "title", "status", "created_at", "updated_at"} <= set(seen["item_fields"])
    assert {"id", "title", "recording_config", "ai_config"} <= set(seen["meeting_fields"])
    assert seen["meeting_title"] and seen["meeting_id_matches"]
