"""Every tool definition is paid for, in tokens, in every conversation: the catalogue has a budget.

The budget is measured the way a client pays it: the ``tools/list`` result, as served over MCP,
serialised as compact JSON and counted with the o200k tokenizer in ``../shared/tokenizer`` (beside
the checkout, offline). For comparison, FastMCP's OpenAPI-to-MCP generator over the same endpoints
costs about 62,000 tokens (``tools/benchmark.py`` measures both).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from mcp import Client

from rtk_mcp.catalog import ENDPOINTS
from rtk_mcp.catalog.selection import select
from rtk_mcp.server import build_server
from tests.conftest import FakeAPI, settings
from tools.tokens import token_counter

#: The whole catalogue as served, with every documented parameter, every nested object spelled out in
#: every tool that takes it, every node typed and every meaningful annotation on every tool.
BUDGET = 12_500

@pytest.fixture(scope="module")
def count() -> Callable[[str], int]:
    counter = token_counter()
    assert counter is not None, "no tokenizer: expected ../shared/tokenizer beside the checkout (or RTK_TOKENIZER_DIR)"
    return counter


def catalogue(endpoints: Any = None, **options: Any) -> str:
    """The ``tools/list`` result exactly as a client receives it, as compact JSON."""

    async def fetch() -> str:
        server = build_server(settings(**options), endpoints=endpoints, transport=FakeAPI().transport)
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
