"""The HTTP client rtk-mcp builds is closed when the last MCP connection ends, and rebuilt if another comes."""

from __future__ import annotations

import httpx2
from mcp import Client

from rtk_mcp.server import build_server
from tests.conftest import FakeAPI, settings


class ClosableTransport(httpx2.MockTransport):
    """The fake API, counting how often the HTTP client that owns it is closed."""

    closed = 0

    async def aclose(self) -> None:
        type(self).closed += 1
        await super().aclose()


async def test_the_http_client_is_closed_with_the_last_connection_and_rebuilt_after() -> None:
    api = FakeAPI()
    transport = ClosableTransport(api.handle)
    server = build_server(settings(), transport=transport)
    async with Client(server) as first:
        async with Client(server) as second:
            assert not (await second.call_tool("list_apps", {})).is_error
        assert ClosableTransport.closed == 0  # the first connection is still open
        assert not (await first.call_tool("list_apps", {})).is_error
    assert ClosableTransport.closed == 1
    async with Client(server) as third:
        assert not (await third.call_tool("list_apps", {})).is_error
    assert ClosableTransport.closed == 2
    assert len(api.requests) == 3
