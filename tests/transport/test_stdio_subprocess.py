"""rtk-mcp as an assistant runs it: a real subprocess speaking JSON-RPC over stdio."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.conftest import TOKEN
from tests.stdio_session import JsonHandler, clean_env, loopback_api, stdio_session


class _FakeRealtimeKit(JsonHandler):
    seen: list[tuple[str, str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.seen.append(("GET", self.path, self.headers.get("Authorization", "")))
        self.answer({"success": True, "data": [{"id": "m-1", "title": "Standup", "gone": None}],
                     "paging": {"total_count": 1, "start_offset": 0, "end_offset": 0}})


@pytest.fixture
def fake_api_url() -> Iterator[str]:
    with loopback_api(_FakeRealtimeKit) as url:
        yield url


async def test_stdio_server_lists_tools_and_calls_one_against_a_local_api(fake_api_url: str) -> None:
    env = clean_env(CLOUDFLARE_API_TOKEN=TOKEN, CLOUDFLARE_ACCOUNT_ID="acc-9", RTK_APP_ID="app-9",
                    RTK_API_BASE_URL=fake_api_url, RTK_LOG_LEVEL="DEBUG")
    async with stdio_session(env=env) as session:
        init = await session.initialize()
        assert init["serverInfo"]["name"] == "rtk-mcp"
        assert "list_apps" in init["instructions"]
        listed = await session.request("tools/list", {})
        assert len(listed["result"]["tools"]) == 53
        result = await session.call("list_meetings", {"per_page": 5})
        assert result.get("isError") is not True
        assert json.loads(result["content"][0]["text"]) == {
            "data": [{"id": "m-1", "title": "Standup"}],
            "paging": {"total_count": 1, "start_offset": 0, "end_offset": 0},
        }
        assert result["structuredContent"] == json.loads(result["content"][0]["text"])
        assert await session.end_input() == 0
    assert _FakeRealtimeKit.seen[-1] == ("GET", "/client/v4/accounts/acc-9/realtime/kit/app-9/meetings?per_page=5",
                                          f"Bearer {TOKEN}")
    for line in session.stdout_lines:
        assert json.loads(line)["jsonrpc"] == "2.0"
    assert TOKEN not in session.stderr
    assert "tool=list_meetings GET" in session.stderr
