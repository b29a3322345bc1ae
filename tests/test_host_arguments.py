"""Arguments a host adds on its own are not the agent's mistake; an agent's typo still is.

Gemini CLI adds ``wait_for_previous`` to every tool's schema and forwards it with each call, so a
server that refuses unknown arguments would refuse every call it makes. Driven here as Gemini CLI
drives it: a real stdio subprocess, the call carrying the extra argument.
"""

from __future__ import annotations

import json

from tests.stdio_session import StdioSession


def test_a_gemini_cli_call_with_wait_for_previous_succeeds_and_a_typo_is_still_refused() -> None:
    session = StdioSession("--sandbox", "--log-level", "DEBUG", env={})
    try:
        session.initialize()
        listed = session.send("tools/list")
        assert listed is not None and "wait_for_previous" not in json.dumps(listed)  # never advertised by us
        reply = session.send("tools/call", {"name": "list_meetings",
                                            "arguments": {"per_page": 2, "wait_for_previous": True}})
        assert reply is not None
        result = reply["result"]
        assert not result.get("isError"), result
        assert result["structuredContent"]["data"], result

        typo = session.send("tools/call", {"name": "list_meetings",
                                           "arguments": {"per_page": 2, "wait_for_previos": True}})
        assert typo is not None
        assert typo["result"]["isError"] is True
        assert "unknown argument 'wait_for_previos'" in typo["result"]["content"][0]["text"]
    finally:
        _, stderr = session.close()
    assert "list_meetings: ignoring wait_for_previous, added by the host" in stderr
