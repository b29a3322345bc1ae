"""The command line: ``cli.main([...])`` in-process, with the environment set through ``monkeypatch``
(conftest strips every ``CLOUDFLARE_*`` and ``RTK_*`` variable first); a few real subprocesses where
the process boundary itself is what is tested."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import fields
from fractions import Fraction
from pathlib import Path

import pytest

from rtk_mcp import __version__, cli
from rtk_mcp.catalog import ENDPOINTS
from rtk_mcp.config import Settings, options
from rtk_mcp.sandbox import SANDBOX_APP_ID
from tests.stdio_session import ROOT, clean_env

ALL_TOOLS = [ep.name for ep in ENDPOINTS]
READ_ONLY_TOOLS = [ep.name for ep in ENDPOINTS if ep.read_only]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``rtk-mcp ARGV`` in this process: (exit code, stdout, stderr)."""
    try:
        code = cli.main(list(argv))
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def listed(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    code, out, err = run(capsys, "tools", *argv)
    assert code == 0, err
    return [line.split()[0] for line in out.splitlines()]


# Precedence, for every option at once: a sample value for each (as the environment writes it, and
# as it is read). A new option without a row here fails the first test.
SAMPLES = {
    "api_token": ("tok", "tok"),
    "account_id": ("acc", "acc"),
    "default_app_id": ("app-7", "app-7"),
    "base_url": ("http://127.0.0.1:9/v4/", "http://127.0.0.1:9/v4"),
    "timeout": ("2.5", 2.5),
    "rate_limit_share": ("1/2", Fraction(1, 2)),
    "sandbox": ("1", True),
    "sandbox_state": None,  # no variable: a flag only
    "toolsets": ("apps, meetings", ("apps", "meetings")),
    "tools": ("get_*", ("get_*",)),
    "exclude_tools": ("delete_*,kick_*", ("delete_*", "kick_*")),
    "read_only": ("true", True),
    "max_result_tokens": ("1200", 1200),
    "redact_secrets": ("yes", True),
    "output_schemas": ("on", True),
    "confirm": ("0", False),
    "log_level": ("debug", "DEBUG"),
    "transport": None,
    "stdin_grace": None,
    "host": None,
    "port": None,
    "stateless": None,
    "allowed_hosts": None,
    "allowed_origins": None,
    "http_token": ("secret", "secret"),
    "settings_form": ("1", True),
}


def test_every_variable_is_read_and_loses_to_its_flag() -> None:
    assert set(SAMPLES) == {field.name for field in fields(Settings)}
    environ = {option.env: SAMPLES[name][0] for name, option in options() if option.env}
    assert len(environ) == sum(1 for sample in SAMPLES.values() if sample is not None)
    from_env = Settings.load({}, environ)
    defaults = Settings()
    for name, option in options():
        if option.env:
            assert getattr(from_env, name) == SAMPLES[name][1] != getattr(defaults, name), name
    flagged = Settings.load({"max_result_tokens": 9, "read_only": False, "toolsets": ("presets",)}, environ)
    assert (flagged.max_result_tokens, flagged.read_only, flagged.toolsets) == (9, False, ("presets",))


def test_a_bad_variable_is_reported_and_the_default_used(caplog: pytest.LogCaptureFixture) -> None:
    loaded = Settings.load({}, {"RTK_MAX_RESULT_TOKENS": "lots", "RTK_TIMEOUT": "-1", "RTK_LOG_LEVEL": "LOUD",
                                "RTK_RATE_LIMIT_SHARE": "2", "RTK_APP_ID": "${user_config.app_id}"})
    assert loaded == Settings()
    for name in ("RTK_MAX_RESULT_TOKENS", "RTK_TIMEOUT", "RTK_LOG_LEVEL", "RTK_RATE_LIMIT_SHARE"):
        assert name in caplog.text
    assert "RTK_APP_ID" not in caplog.text  # a host's unfilled placeholder is just "not set"


def test_a_bad_flag_is_refused_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--max-result-tokens", "0", "tools"], ["tools", "--log-level", "LOUD"],
                 ["serve", "--rate-limit-share", "3/2"], ["tools", "--toolsets", "nope"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "" and "error" in err, argv


def test_the_selection_flag_wins_over_its_variable(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RTK_TOOLSETS", "webhooks")
    webhooks = [ep.name for ep in ENDPOINTS if ep.group == "webhooks"]
    assert listed(capsys) == webhooks
    assert listed(capsys, "--toolsets", "apps") == [ep.name for ep in ENDPOINTS if ep.group == "apps"]


def test_read_only_from_the_environment_wins_over_naming_a_write_tool(monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RTK_READ_ONLY", "1")
    assert listed(capsys) == READ_ONLY_TOOLS
    assert listed(capsys, "--tools", "create_meeting,get_meeting") == ["get_meeting"]


def test_a_flag_may_come_before_or_after_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert listed(capsys, "--read-only") == READ_ONLY_TOOLS
    code, out, err = run(capsys, "--read-only", "tools")
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == READ_ONLY_TOOLS


def test_output_schemas_from_flag_or_variable(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    def with_output_schema(*argv: str) -> int:
        code, out, err = run(capsys, "tools", "--json", *argv)
        assert code == 0, err
        return sum("outputSchema" in tool for tool in json.loads(out))

    assert with_output_schema() == 0
    assert with_output_schema("--output-schemas") == 53
    monkeypatch.setenv("RTK_OUTPUT_SCHEMAS", "1")
    assert with_output_schema() == 53


def test_sandbox_from_the_variable_serves_the_emulator(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RTK_SANDBOX", "1")
    code, out, err = run(capsys, "call", "list_apps")
    assert code == 0, err
    assert json.loads(out)["data"][0]["id"] == SANDBOX_APP_ID


def test_the_result_cap_from_the_variable_cuts_a_list(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "call", "list_meetings", "--sandbox")
    assert code == 0 and len(json.loads(out)["data"]) > 1
    monkeypatch.setenv("RTK_MAX_RESULT_TOKENS", "60")
    code, capped, _ = run(capsys, "call", "list_meetings", "--sandbox")
    assert code == 0 and len(capped) < len(out) and "per_page" in capped


def test_a_non_loopback_bind_without_a_token_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--transport", "http", "--host", "0.0.0.0")
    assert code == 2 and out == "" and "RTK_MCP_HTTP_TOKEN" in err


def test_help_describes_exactly_the_declared_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    declared_flags = {option.flag for _, option in options() if option.flag} | {"--help", "--version"}
    declared_env = {option.env for _, option in options() if option.env}
    assert set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", out)) == declared_flags
    assert set(re.findall(r"\b(?:RTK|CLOUDFLARE)_[A-Z_]+", out)) == declared_env
    for command in ("serve", "tools", "call", "demo"):
        assert command in out


def test_the_readme_names_only_declared_variables() -> None:
    readme = (ROOT / "README.md").read_text()
    declared = {option.env for _, option in options() if option.env}
    # Not options of the server: where `rtk-mcp tools` finds its token counter, and maintainer scripts' switches.
    other = {"RTK_TOKENIZER_DIR", "RTK_PACKAGING_FROM_INDEX", "RTK_MCP"}
    assert set(re.findall(r"\b(?:RTK|CLOUDFLARE)_[A-Z_]+\b", readme)) - other <= declared


def test_tools_prints_one_line_per_tool_with_its_access(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "tools")
    assert code == 0
    access = {line.split()[0]: line.split()[1] for line in out.splitlines()}
    assert list(access) == ALL_TOOLS
    assert (access["list_meetings"], access["create_meeting"], access["delete_webhook"]) == (
        "read-only", "write", "destructive")
    assert sorted(name for name, word in access.items() if word == "read-only") == sorted(READ_ONLY_TOOLS)
    assert "53 tools" in err  # the context-cost summary stays off stdout


def test_tools_json_prints_the_mcp_definitions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "tools", "--json")
    definitions = json.loads(out)
    assert code == 0 and [d["name"] for d in definitions] == ALL_TOOLS
    for definition in definitions:
        assert definition["description"] and definition["inputSchema"]["additionalProperties"] is False
    assert [d["name"] for d in definitions if d["annotations"]["readOnlyHint"]] == READ_ONLY_TOOLS


def test_call_of_an_unknown_id_exits_1_with_the_404_an_agent_would_read(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "call", "get_meeting", '{"meeting_id":"nope"}', "--sandbox")
    assert code == 1
    assert "404" in out and "Meeting not found" in out and "list_meetings" in out


def test_sandbox_state_carries_a_meeting_from_one_call_to_the_next(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    state = str(tmp_path / "sandbox.db")
    code, created, err = run(capsys, "call", "create_meeting", '{"title": "Kept"}', "--sandbox", "--sandbox-state", state)
    assert code == 0, err
    meeting = json.dumps({"meeting_id": json.loads(created)["id"]})
    code, again, err = run(capsys, "call", "get_meeting", meeting, "--sandbox", "--sandbox-state", state)
    assert code == 0, err
    assert json.loads(again)["title"] == "Kept"


@pytest.mark.parametrize("arguments", ["{meeting_id: nope", "[1, 2]"])
def test_call_with_arguments_that_are_not_a_json_object_exits_2(capsys: pytest.CaptureFixture[str],
                                                                arguments: str) -> None:
    code, out, err = run(capsys, "call", "get_meeting", arguments, "--sandbox")
    assert (code, out) == (2, "") and "JSON object" in err


def test_call_without_credentials_exits_1_naming_the_missing_variables(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "call", "list_apps")
    assert code == 1 and "CLOUDFLARE_API_TOKEN" in out and "CLOUDFLARE_ACCOUNT_ID" in out


def test_demo_walks_through_the_main_tools_against_the_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "demo")
    assert code == 0, err
    for tool in (
        "list_apps", "create_meeting", "add_participant", "refresh_participant_token", "list_meeting_participants",
        "start_recording", "get_active_recording", "update_recording", "list_sessions",
        "list_session_participants", "get_session_transcript", "get_session_summary",
    ):
        assert f"-> {tool} " in out, tool
    assert "Demo standup" in out and '"status":"INVOKED"' in out and '"status":"UPLOADING"' in out and "Alice Chen" in out
    assert "demo step failed" not in out + err
    # It shows a mistake the way an agent sees it, and ends by reading a past meeting's action items.
    assert "<- ERROR HTTP 404" in out
    ending = out[out.rindex("== What are the action items"):]
    assert '"include_content": true' in ending
    assert "## Action items\n- Bob and Carol: run the database migration dry run on staging" in ending


# The installed entry point, as a shell runs it.


def test_the_module_runs_as_a_program_and_prints_its_version() -> None:
    done = subprocess.run([sys.executable, "-m", "rtk_mcp", "--version"], capture_output=True, text=True,
                          env=clean_env(), cwd=ROOT, timeout=60, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, f"rtk-mcp {__version__}")


def test_a_shell_call_prints_only_the_result_on_stdout() -> None:
    done = subprocess.run([sys.executable, "-m", "rtk_mcp", "call", "list_apps"], capture_output=True, text=True,
                          env=clean_env(RTK_SANDBOX="1", RTK_LOG_LEVEL="DEBUG"), cwd=ROOT, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "data": [{"id": SANDBOX_APP_ID, "name": "Sandbox App", "created_at": "2026-01-15T09:00:00.000Z"}]}
