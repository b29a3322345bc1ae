"""What hosts' strict modes do with this catalogue, and how the server reads ``null`` ("not given").

The README's "Strict modes" section states these facts; the tests keep them true: OpenAI's strict
conversion (the Agents SDK's, run here) requires every argument; Anthropic's strict tool use has
limits (20 strict tools, 24 optional parameters per request) no toolset but the smallest fits; and
``null`` for an optional argument is "not given", so a host that makes arguments nullable can leave
one out, while ``null`` for a required one is refused.
"""

from __future__ import annotations

import copy
import typing
from pathlib import Path
from typing import Any

import pytest
from agents.strict_schema import ensure_strict_json_schema
from pydantic import BaseModel

from rtk_mcp.catalog import BY_NAME, ENDPOINTS
from rtk_mcp.catalog.selection import select
from rtk_mcp.server import tool_definition, tool_definitions
from tests.conftest import FakeAPI, connect, text_of

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
#: Anthropic's strict tool use, per request (the limits the README names).
ANTHROPIC_STRICT_TOOLS, ANTHROPIC_STRICT_OPTIONAL = 20, 24


def optional_arguments(schema: dict[str, Any]) -> int:
    """Optional parameters of a tool: top-level properties not in ``required``."""
    return len(set(schema.get("properties", {})) - set(schema.get("required", [])))


def test_openai_strict_conversion_makes_every_optional_argument_required() -> None:
    """Why the README says to keep OpenAI's strict conversion off: renaming a participant, the model
    would have to send a picture and a preset too (strings, not null), and the call would change them."""
    schema = tool_definition(BY_NAME["update_participant"]).input_schema
    strict = ensure_strict_json_schema(copy.deepcopy(schema))
    assert set(strict["required"]) == set(strict["properties"]) > set(schema["required"])
    assert strict["properties"]["picture"]["type"] == "string"  # no null: "not given" cannot be said


@pytest.mark.parametrize("toolsets", [("all",), ("default",)])
def test_anthropic_strict_limits_leave_out_the_whole_and_the_default_catalogue(toolsets: tuple[str, ...]) -> None:
    definitions = tool_definitions(select(toolsets=toolsets))
    tools, optional = len(definitions), sum(optional_arguments(d.input_schema) for d in definitions)
    assert tools > ANTHROPIC_STRICT_TOOLS or optional > ANTHROPIC_STRICT_OPTIONAL
    assert f"`{toolsets[0]}`: {tools} tools, {optional} optional" in README


def test_the_toolsets_the_readme_names_for_anthropic_strict_fit_its_limits() -> None:
    for toolset in ("active_session", "webhooks", "apps", "analytics"):
        definitions = tool_definitions(select(toolsets=(toolset,)))
        optional = sum(optional_arguments(d.input_schema) for d in definitions)
        assert len(definitions) <= ANTHROPIC_STRICT_TOOLS and optional <= ANTHROPIC_STRICT_OPTIONAL, toolset
        assert f"`{toolset}` ({optional})" in README


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for info in model.model_fields.values():
        for part in (info.annotation, *typing.get_args(info.annotation)):
            for inner in (part, *typing.get_args(part)):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    _models(inner, seen)


def test_every_optional_argument_at_every_depth_takes_null_as_not_given() -> None:
    seen: set[type[BaseModel]] = set()
    for ep in ENDPOINTS:
        _models(ep.params, seen)
    for model in seen:
        for name, info in model.model_fields.items():
            if not info.is_required():
                assert info.default is None and type(None) in typing.get_args(info.annotation), \
                    f"{model.__name__}.{name}"


async def test_null_for_an_optional_argument_is_left_out_of_the_request(fake_api: FakeAPI) -> None:
    async with connect(fake_api) as client:
        result = await client.call_tool("update_participant", {
            "meeting_id": "m1", "participant_id": "p1", "name": "Ada", "picture": None, "preset_name": None,
            "app_id": None})
    assert not result.is_error, text_of(result)
    [request] = fake_api.requests
    assert fake_api.last_body() == {"name": "Ada"}
    assert "/app-1/" in request.url.path  # app_id null: the default app, as when it is left out


async def test_null_for_a_nested_optional_argument_is_left_out_too(fake_api: FakeAPI) -> None:
    async with connect(fake_api) as client:
        result = await client.call_tool("start_recording", {
            "meeting_id": "m1", "video_config": {"codec": None, "watermark": None}, "audio_config": None})
    assert not result.is_error, text_of(result)
    assert fake_api.last_body() == {"meeting_id": "m1", "video_config": {}}


async def test_null_for_a_required_argument_is_refused_unsent(fake_api: FakeAPI) -> None:
    async with connect(fake_api) as client:
        result = await client.call_tool("add_participant", {"meeting_id": "m1", "custom_participant_id": "ada",
                                                            "preset_name": None})
    assert result.is_error and "'preset_name'" in text_of(result), text_of(result)
    assert fake_api.requests == []
