"""Arguments a host adds on its own are not the agent's mistake; an agent's typo still is.

Gemini CLI adds ``wait_for_previous`` to every tool's schema and forwards it with each call, so a
server that refuses unknown arguments would refuse every call it makes. Driven here as Gemini CLI
drives it: a real stdio subprocess, the call carrying the extra argument.
"""

from __future__ import annotations

import json

from tests.stdio_session import stdio_session


async def test_a_gemini_cli_call_with_wait_for_previous_succeeds_and_a_typo_is_still_refused() -> None:
    async with stdio_session("--sandbox", "--log-level", "DEBUG") as session:
        await session.initialize()
        listed = await session.request("tools/list")
        assert "wait_for_previous" not in json.dumps(listed)  # never advertised by us
        result = await session.call("list_meetings", {"per_page": 2, "wait_for_previous": True})
        assert not result.get("isError"), result
        assert result["structuredContent"]["data"], result

        typo = await session.call("list_meetings", {"per_page": 2, "wait_for_previos": True})
        assert typo["isError"] is True
        assert "unknown argument 'wait_for_previos'" in typo["content"][0]["text"]
        assert await session.end_input() == 0
    assert "list_meetings: ignoring wait_for_previous, added by the host" in session.stderr
