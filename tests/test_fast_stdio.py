"""The stdio transport (``rtk_mcp.stdio``): every request read before stdin closes is answered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _requests() -> str:
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "list_apps", "arguments": {}}},
        {"jsonrpc": "2.0", "id": 4, "method": "tools/call",
         "params": {"name": "list_meetings", "arguments": {"fields": ["status"]}}},
    ]
    return "".join(json.dumps(m) + "\n" for m in messages)


def _serve(stdin: int | None, text: str | None) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RTK_", "CLOUDFLARE_"))}
    done = subprocess.run([sys.executable, "-m", "rtk_mcp", "--sandbox"], input=text, stdin=stdin, cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_requests_pending_when_stdin_closes_are_still_answered() -> None:
    replies = _serve(None, _requests())  # a pipe: the fast transport
    assert [r["id"] for r in replies] == [1, 2, 3, 4]
    assert len(replies[1]["result"]["tools"]) == 53
    assert not replies[2]["result"].get("isError") and not replies[3]["result"].get("isError")
    meetings = replies[3]["result"]["structuredContent"]["data"]
    assert meetings and all(set(m) <= {"id", "title", "status"} for m in meetings)


def test_a_regular_file_on_stdin_falls_back_to_the_sdk_transport(tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_text(_requests())
    with requests.open() as handle:
        replies = _serve(handle.fileno(), None)
    assert {r["id"] for r in replies} >= {1, 2}
