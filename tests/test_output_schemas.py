"""``--output-schemas``: every tool gets an ``outputSchema`` and every result validates against it.

The sandbox flows of ``tests/test_sandbox_flows.py`` call every tool successfully; here they run
against a server with output schemas on, and each structured result is checked with jsonschema.
"""

from __future__ import annotations

from typing import Any

import jsonschema
from mcp import Client

from rtk_mcp.catalog import ENDPOINTS
from rtk_mcp.sandbox import ManualClock, sandbox_settings, sandbox_transport
from rtk_mcp.server import build_server
from tests.conftest import FakeAPI, settings
from tests.test_sandbox_flows import FLOWS, Tools

ALL_TOOLS = {ep.name for ep in ENDPOINTS}


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
        server = build_server(sandbox_settings(), transport=sandbox_transport(clock=clock), output_schemas=True)
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
    server = build_server(sandbox_settings(), transport=sandbox_transport(None), output_schemas=True)
    async with Client(server) as client:
        schemas = {tool.name: tool.output_schema for tool in (await client.list_tools()).tools}
        for name in ("list_meetings", "list_sessions", "list_presets", "list_webhooks", "list_apps"):
            result = await client.call_tool(name, {})
            assert not result.is_error
            (items_key,) = [k for k, v in schemas[name]["properties"].items() if v.get("type") == "array"]
            assert isinstance(result.structured_content[items_key], list) and result.structured_content[items_key]
