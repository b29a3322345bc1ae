"""The command line as a user runs it: ``python -m rtk_mcp ...`` in a real subprocess.

The environment is stripped of every ``CLOUDFLARE_*`` and ``RTK_*`` variable, so the developer's own
credentials or selection settings never leak in. Each run starts a Python process (about a second),
so every case here is one or two runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from rtk_mcp import __version__
from rtk_mcp.catalog import ENDPOINTS
from rtk_mcp.sandbox import SANDBOX_APP_ID

ALL_TOOLS = [ep.name for ep in ENDPOINTS]
READ_ONLY_TOOLS = [ep.name for ep in ENDPOINTS if ep.read_only]


def rtk(*args: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("CLOUDFLARE_", "RTK_"))}
    return subprocess.run(
        [sys.executable, "-m", "rtk_mcp", *args],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False,
    )


def test_version_prints_the_package_version() -> None:
    run = rtk("--version")
    assert run.returncode == 0
    assert run.stdout.strip() == f"rtk-mcp {__version__}"


def test_help_mentions_every_option_command_and_credential_variable() -> None:
    run = rtk("--help")
    assert run.returncode == 0
    for word in (
        "--version", "--sandbox", "--sandbox-state", "--toolsets", "--tools", "--exclude-tools", "--read-only",
        "--log-level", "serve", "tools", "call", "demo", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID",
        "RTK_APP_ID", "RTK_API_BASE_URL", "--output-schemas", "RTK_OUTPUT_SCHEMAS",
    ):
        assert word in run.stdout, word


def test_tools_prints_one_line_per_tool_with_its_access() -> None:
    run = rtk("tools")
    assert run.returncode == 0
    lines = run.stdout.splitlines()
    assert len(lines) == 53
    assert [line.split()[0] for line in lines] == ALL_TOOLS
    access = {line.split()[0]: line.split()[1] for line in lines}
    assert access["list_meetings"] == "read-only"
    assert access["create_meeting"] == "write"
    assert access["delete_webhook"] == "destructive"
    assert sorted(name for name, word in access.items() if word == "read-only") == sorted(READ_ONLY_TOOLS)
    assert "53 tools" in run.stderr  # the context-cost summary stays off stdout


def test_tools_json_prints_the_mcp_definitions() -> None:
    run = rtk("tools", "--json")
    assert run.returncode == 0
    definitions = json.loads(run.stdout)
    assert len(definitions) == 53
    assert [d["name"] for d in definitions] == ALL_TOOLS
    for definition in definitions:
        assert definition["description"]
        assert definition["inputSchema"]["type"] == "object"
        assert definition["inputSchema"]["additionalProperties"] is False
    assert [d["name"] for d in definitions if d["annotations"]["readOnlyHint"]] == READ_ONLY_TOOLS


def test_tools_read_only_lists_only_read_only_tools() -> None:
    run = rtk("tools", "--read-only")
    assert run.returncode == 0
    lines = run.stdout.splitlines()
    assert [line.split()[0] for line in lines] == READ_ONLY_TOOLS
    assert all(line.split()[1] == "read-only" for line in lines)


def test_call_in_the_sandbox_prints_the_result_as_json() -> None:
    run = rtk("call", "list_apps", "--sandbox")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {
        "data": [{"id": SANDBOX_APP_ID, "name": "Sandbox App", "created_at": "2026-01-15T09:00:00.000Z"}]
    }


def test_call_of_an_unknown_id_exits_1_with_the_404_an_agent_would_read() -> None:
    run = rtk("call", "get_meeting", '{"meeting_id":"nope"}', "--sandbox")
    assert run.returncode == 1
    assert "404" in run.stdout and "Meeting not found" in run.stdout and "list_meetings" in run.stdout


def test_sandbox_state_carries_a_meeting_from_one_call_to_the_next(tmp_path: Path) -> None:
    state = str(tmp_path / "sandbox.db")
    created = rtk("call", "create_meeting", '{"title": "Kept"}', "--sandbox", "--sandbox-state", state)
    assert created.returncode == 0, created.stdout + created.stderr
    meeting_id = json.loads(created.stdout)["id"]
    again = rtk("call", "get_meeting", json.dumps({"meeting_id": meeting_id}), "--sandbox", "--sandbox-state", state)
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads(again.stdout)["title"] == "Kept"


def test_call_with_arguments_that_are_not_json_exits_2() -> None:
    run = rtk("call", "get_meeting", "{meeting_id: nope", "--sandbox")
    assert run.returncode == 2
    assert "JSON object" in run.stderr
    assert run.stdout == ""


def test_call_without_credentials_exits_1_naming_the_missing_variable() -> None:
    run = rtk("call", "list_apps")
    assert run.returncode == 1
    assert "CLOUDFLARE_API_TOKEN" in run.stdout + run.stderr


def test_demo_walks_through_the_main_tools_against_the_sandbox() -> None:
    run = rtk("demo")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    for tool in (
        "list_apps", "create_meeting", "add_participant", "refresh_participant_token", "list_meeting_participants",
        "start_recording", "get_active_recording", "update_recording", "list_sessions",
        "list_session_participants", "get_session_transcript", "get_session_summary",
    ):
        assert f"-> {tool} " in out, tool
    assert "Demo standup" in out and '"status":"INVOKED"' in out and '"status":"UPLOADING"' in out and "Alice Chen" in out
    assert "demo step failed" not in out + run.stderr
    # It shows a mistake the way an agent sees it, and ends by reading a past meeting's action items.
    assert "<- ERROR HTTP 404" in out
    ending = out[out.rindex("== What are the action items"):]
    assert '"include_content": true' in ending
    assert "## Action items\n- Bob and Carol: run the database migration dry run on staging" in ending
