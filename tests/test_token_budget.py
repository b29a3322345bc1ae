"""Every tool definition is paid for, in tokens, in every conversation: the catalogue has a budget.

The budget is measured the way a client pays it: the ``tools/list`` result, as served over MCP,
serialised as compact JSON and counted with the o200k tokenizer in ``../shared/tokenizer`` (beside
the checkout, offline). For comparison, FastMCP's OpenAPI-to-MCP generator over the same endpoints
costs about 62,000 tokens (``tools/benchmark.py`` measures both).
"""

from __future__ import annotations

import json
from pathlib import Path
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from mcp import Client

from rtk_mcp.catalog import ENDPOINTS
from rtk_mcp.tokens import token_counter
from rtk_mcp.selection import select
from rtk_mcp.server import build_server
from tests.conftest import FakeAPI, settings

#: The whole catalogue as served by default, with every documented parameter, every node typed
#: (Gemini/Vertex clients need that) and all five annotations on every tool. The goal, and the limit.
BUDGET = 10_000

@pytest.fixture(scope="module")
def count() -> Callable[[str], int]:
    counter = token_counter()
    assert counter is not None, "no tokenizer: expected ../shared/tokenizer beside the checkout (or RTK_TOKENIZER_DIR)"
    return counter


def catalogue(**build: Any) -> str:
    """The ``tools/list`` result exactly as a client receives it, as compact JSON."""

    async def fetch() -> str:
        server = build_server(settings(), transport=FakeAPI().transport, **build)
        async with Client(server) as client:
            result = await client.list_tools()
        return json.dumps(result.model_dump(mode="json", by_alias=True, exclude_none=True), separators=(",", ":"))

    return anyio.run(fetch)


def test_the_full_catalogue_fits_the_budget(count: Callable[[str], int]) -> None:
    text = catalogue()
    assert len(json.loads(text)["tools"]) == len(ENDPOINTS) == 53
    tokens = count(text)
    assert tokens <= BUDGET, f"tools/list costs {tokens} tokens, over the {BUDGET} budget"


def test_no_single_tool_dominates(count: Callable[[str], int]) -> None:
    """The biggest definition (create_preset, the whole preset body) stays under 15% of the budget."""
    for tool in json.loads(catalogue())["tools"]:
        tokens = count(json.dumps(tool, separators=(",", ":")))
        assert tokens <= 0.15 * BUDGET, (tool["name"], tokens)


def test_selection_and_options_move_the_cost_the_right_way(count: Callable[[str], int]) -> None:
    full = count(catalogue())
    read_only = count(catalogue(endpoints=select(read_only=True)))
    default = count(catalogue(endpoints=select(toolsets=["default"])))
    assert read_only < full / 2 and default < full / 2
    # Opt-in extras cost more; they are off by default for that reason.
    assert count(catalogue(output_schemas=True)) > full
    assert count(catalogue(full_schemas=True)) > full + 2_000  # nested objects shared by several tools
    assert count(catalogue(lean_schemas=True)) < full


def test_the_shipped_schema_cache_matches_the_catalog() -> None:
    """Otherwise every start regenerates 53 schemas (~0.1-0.25 s before tools/list): after editing
    ``rtk_mcp/catalog/``, run ``python tools/gen_schema_cache.py``."""
    from rtk_mcp.catalog import endpoint

    shipped = json.loads(endpoint.SCHEMA_CACHE.read_text())
    assert shipped["key"] == endpoint.schema_cache_key(), "stale rtk_mcp/catalog/schemas.json: run tools/gen_schema_cache.py"
    assert shipped == endpoint.generate_schema_cache([ep.params for ep in ENDPOINTS])


def test_the_schema_cache_is_used_only_when_it_matches_the_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``rtk_mcp/catalog/schemas.json`` only saves start-up time: it never changes a schema."""
    from rtk_mcp.catalog import endpoint

    models = [ep.params for ep in ENDPOINTS]
    fresh = endpoint.generate_schema_cache(models)
    assert fresh["key"] == endpoint.schema_cache_key()
    for model in models:
        for lean in (False, True):
            assert fresh["schemas"][endpoint._model_key(model, lean)] == endpoint._generate(model, lean)
    # A cache written from other sources is ignored (and a matching one is served).
    stale = tmp_path / "schemas.json"
    stale.write_text(json.dumps({"key": "something else", "schemas": {k: {"bogus": True} for k in fresh["schemas"]}}))
    monkeypatch.setattr(endpoint, "SCHEMA_CACHE", stale)
    endpoint._schema_cache.cache_clear()
    try:
        assert endpoint.input_schema(models[0]) == endpoint._generate(models[0], False)
        stale.write_text(json.dumps({**fresh, "schemas": {k: {"served": k} for k in fresh["schemas"]}}))
        endpoint._schema_cache.cache_clear()
        assert endpoint.input_schema(models[0]) == {"served": endpoint._model_key(models[0], False)}
    finally:
        endpoint._schema_cache.cache_clear()
