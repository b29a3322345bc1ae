"""Every tool definition, as ``tools/list`` serves it, through the providers' own conversion code.

Hosts turn MCP tools into function declarations for their model with the provider SDKs, and a
provider that refuses one schema refuses the whole request, so one bad definition breaks every tool.
Each path below runs the SDK code a host runs (offline: nothing is sent) and then the documented
rules that SDK leaves to the provider's API:

- OpenAI: the Agents SDK's MCP conversion (``MCPUtil.to_function_tool``), plain and with
  ``convert_schemas_to_strict`` (which falls back to non-strict silently, so the test checks it
  stayed strict); then Structured Outputs' rules: string ``format`` only from the documented list,
  no ``allOf``/``not``/``if``, ``additionalProperties: false`` on every object, nesting at most 10.
- Anthropic: the SDK's MCP helper (``mcp_tool``), plain and ``strict=True``; for strict, the SDK's
  ``transform_schema`` must have nothing to move into a description (what it moves is what the
  strict grammar refuses: numeric and length bounds, ``minItems`` above 1, unknown formats), and every
  object must say ``additionalProperties: false``. ``pattern`` is the one exception: the strict
  grammar takes simple patterns, the SDK's transform moves it to the description anyway.
- Gemini ``parameters`` (the OpenAPI-subset ``Schema``): the SDK's ``Schema.from_json_schema`` with
  ``raise_error_on_unsupported_field``; then the documented subset: string ``format`` only ``enum``
  or ``date-time``, every object with properties.
- Gemini ``parametersJsonSchema``: the SDK's ``FunctionDeclaration`` and its ``JSONSchema`` model
  (which refuses keywords outside the supported subset, e.g. ``const``).

google-genai's own MCP helper (``mcp_to_gemini_tools``, used when a ``ClientSession`` is passed as
a tool) crashes on *any* ``additionalProperties: false`` (googleapis/python-genai#2393, open), which
strict OpenAI and Anthropic need on every object; the README shows the workaround that
:func:`test_google_genai_mcp_helper_workaround` runs.

``python tests/catalog/test_portability.py`` prints the matrix as a table.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
from anthropic import transform_schema
from anthropic.lib.tools.mcp import mcp_tool
from google.genai import types as genai
from mcp import Client

from rtk_mcp.catalog import ENDPOINTS
from rtk_mcp.config import Settings
from rtk_mcp.server import build_server

# OpenAI Structured Outputs, "Supported properties": the string formats it accepts.
OPENAI_FORMATS = {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
OPENAI_UNSUPPORTED = {"allOf", "not", "if", "then", "else", "dependentRequired", "dependentSchemas",
                      "patternProperties"}
OPENAI_MAX_DEPTH = 10
# Gemini function declarations, Schema: "Supported formats: for STRING type: enum, date-time".
GEMINI_STRING_FORMATS = {"enum", "date-time"}


def _nodes(node: Any, depth: int = 1) -> Iterator[tuple[dict[str, Any], int]]:
    """Every schema node (not property-name maps) with its object nesting depth."""
    if isinstance(node, list):
        for item in node:
            yield from _nodes(item, depth)
        return
    if not isinstance(node, dict):
        return
    yield node, depth
    for key, value in node.items():
        if key == "properties":
            for sub in value.values():
                yield from _nodes(sub, depth + 1)
        elif key in {"items", "anyOf", "additionalProperties"}:
            yield from _nodes(value, depth)


def _is_object(node: dict[str, Any]) -> bool:
    return node.get("type") == "object" or "properties" in node


def _problems(schema: dict[str, Any], rule: Callable[[dict[str, Any], int], str | None]) -> str | None:
    found = [problem for node, depth in _nodes(schema) if (problem := rule(node, depth))]
    return "; ".join(sorted(set(found))[:3]) or None


def _openai_rule(node: dict[str, Any], depth: int) -> str | None:
    if node.get("format") and node["format"] not in OPENAI_FORMATS:
        return f"format {node['format']!r} is not accepted"
    if OPENAI_UNSUPPORTED & node.keys():
        return f"unsupported {sorted(OPENAI_UNSUPPORTED & node.keys())}"
    return None


def _openai_strict_rule(node: dict[str, Any], depth: int) -> str | None:
    if depth > OPENAI_MAX_DEPTH:
        return "nested deeper than 10"
    return _openai_rule(node, depth) or _closed_objects(node, depth)


def _closed_objects(node: dict[str, Any], depth: int) -> str | None:
    if _is_object(node) and node.get("additionalProperties") is not False:
        return "an object without additionalProperties: false"
    return None


def _gemini_rule(node: dict[str, Any], depth: int) -> str | None:
    if node.get("type") == "string" and node.get("format") and node["format"] not in GEMINI_STRING_FORMATS:
        return f"string format {node['format']!r}"
    if _is_object(node) and not node.get("properties"):
        return "an object without properties"
    return None


def _moved_to_description(original: Any, transformed: Any) -> list[str]:
    """Keywords of ``original`` that Anthropic's ``transform_schema`` did not keep (it appends them
    to the description: the strict grammar refuses them), ``pattern`` aside."""
    if isinstance(original, list):
        return [k for a, b in zip(original, transformed) for k in _moved_to_description(a, b)]
    if not isinstance(original, dict):
        return []
    lost = [key for key in original if key not in transformed and key not in {"pattern", "type"}]
    for key, value in original.items():
        if key == "properties":
            lost += [k for name, sub in value.items() for k in _moved_to_description(sub, transformed[key][name])]
        elif key in {"items", "anyOf"} and key in transformed:
            lost += _moved_to_description(value, transformed[key])
    return lost


def _openai(tool: Any, strict: bool) -> str | None:
    from agents.mcp import MCPServerStdio, MCPUtil

    server = MCPServerStdio(params={"command": "rtk-mcp"}, name="rtk")  # never started: conversion only
    converted = MCPUtil.to_function_tool(tool, server, strict)
    if strict and not converted.strict_json_schema:
        return "the SDK could not make it strict (it fell back to a non-strict schema)"
    return _problems(converted.params_json_schema, _openai_strict_rule if strict else _openai_rule)


def _anthropic(tool: Any, strict: bool) -> str | None:
    param = mcp_tool(tool, None, strict=strict or None).to_dict()  # type: ignore[arg-type]
    schema = param["input_schema"]
    if schema.get("type") != "object":
        return "input_schema is not an object"
    if not strict:
        return None
    lost = _moved_to_description(schema, transform_schema(copy.deepcopy(schema)))
    if lost:
        return f"the strict grammar refuses {sorted(set(lost))}"
    return _problems(schema, _closed_objects)


def _gemini_parameters(tool: Any) -> str | None:
    genai.Schema.from_json_schema(json_schema=genai.JSONSchema(**copy.deepcopy(tool.input_schema)),
                                  raise_error_on_unsupported_field=True)
    return _problems(tool.input_schema, _gemini_rule)


def _gemini_json_schema(tool: Any) -> str | None:
    schema = copy.deepcopy(tool.input_schema)
    genai.JSONSchema(**schema)
    genai.FunctionDeclaration(name=tool.name, description=tool.description, parameters_json_schema=schema)
    return None


PATHS: dict[str, Callable[[Any], str | None]] = {
    "OpenAI": lambda tool: _openai(tool, strict=False),
    "OpenAI strict": lambda tool: _openai(tool, strict=True),
    "Anthropic": lambda tool: _anthropic(tool, strict=False),
    "Anthropic strict": lambda tool: _anthropic(tool, strict=True),
    "Gemini parameters": _gemini_parameters,
    "Gemini parametersJsonSchema": _gemini_json_schema,
}


async def _listed_tools() -> list[Any]:
    settings = Settings(api_token="t", account_id="a")
    async with Client(build_server(settings)) as client:
        return (await client.list_tools()).tools


@pytest.fixture(scope="module")
def listed_tools() -> list[Any]:
    return anyio.run(_listed_tools)


def refusals(path: str, tools: list[Any]) -> dict[str, str]:
    """Tool name -> why ``path`` refuses it."""
    out = {}
    for tool in tools:
        try:
            problem = PATHS[path](tool)
        except Exception as exc:  # the SDK's own conversion refused it
            problem = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        if problem:
            out[tool.name] = problem
    return out


@pytest.mark.parametrize("path", list(PATHS))
def test_every_tool_definition_passes_the_providers_conversion(path: str, listed_tools: list[Any]) -> None:
    assert len(listed_tools) == len(ENDPOINTS) == 53
    assert refusals(path, listed_tools) == {}


def test_google_genai_mcp_helper_workaround(listed_tools: list[Any]) -> None:
    """The helper crashes on additionalProperties: false (their bug); passing the schema as
    parametersJsonSchema, as the helper itself does for Agent Platform tools, works for every tool."""
    from google.genai._mcp_utils import mcp_to_gemini_tools

    declared = mcp_to_gemini_tools(listed_tools, is_agent_platform=True)
    names = [tool.function_declarations[0].name for tool in declared]  # type: ignore[index]
    assert names == [tool.name for tool in listed_tools]
    with pytest.raises(AttributeError, match="'bool' object has no attribute 'items'"):
        mcp_to_gemini_tools(listed_tools[:1])  # still broken upstream: when this passes, drop the workaround


def test_a_refused_keyword_is_caught_on_each_strict_path(listed_tools: list[Any]) -> None:
    """The checks can fail: a definition with what strict modes refuse is reported on those paths."""
    tool = next(t for t in listed_tools if t.name == "create_webhook")
    schema = copy.deepcopy(tool.input_schema)
    schema["properties"]["url"]["format"] = "uri"
    schema["properties"]["name"]["minLength"] = 1
    schema["properties"]["nested"] = {"type": "object", "description": "open"}
    broken = [tool.model_copy(update={"input_schema": schema})]
    assert set(refusals("OpenAI strict", broken)) == {"create_webhook"}
    assert set(refusals("Anthropic strict", broken)) == {"create_webhook"}
    assert set(refusals("Gemini parameters", broken)) == {"create_webhook"}


def matrix_table(tools: list[Any]) -> str:
    rows = ["| path | tools accepted |", "| --- | --- |"]
    for path in PATHS:
        refused = refusals(path, tools)
        rows.append(f"| {path} | {len(tools) - len(refused)}/{len(tools)} |")
    return "\n".join(rows)


if __name__ == "__main__":
    logging.disable(logging.INFO)
    print(matrix_table(anyio.run(_listed_tools)))
