"""The first run in a real host: the example config as copied, a token pasted badly, Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from mcp import Client

from rtk_mcp.config import Settings
from rtk_mcp.server import build_server
from tests.conftest import FakeAPI, text_of
from tests.stdio_session import clean_env, stdio_session

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.json"


def _example_entry() -> dict:
    return json.loads(EXAMPLE.read_text())["mcpServers"]["realtimekit"]


def test_the_example_config_names_the_server_by_full_path() -> None:
    """Desktop hosts don't see the shell's PATH: a bare command name is not found there."""
    command = _example_entry()["command"]
    assert command.startswith("/") and command.endswith("/rtk-mcp")


async def test_the_example_placeholders_count_as_not_configured(fake_api: FakeAPI) -> None:
    settings = Settings.from_env(_example_entry()["env"])
    assert settings.missing == ["CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID"]
    async with Client(build_server(settings, transport=fake_api.transport)) as client:
        result = await client.call_tool("list_apps", {})
    assert result.is_error
    assert "CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID are not set" in text_of(result)
    assert "placeholder" in text_of(result)
    assert fake_api.requests == []


async def test_the_placeholders_are_reported_at_start_up() -> None:
    async with stdio_session(env=clean_env(**_example_entry()["env"])) as session:
        await session.initialize()
        assert await session.end_input() == 0
    assert "not configured: CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID unset" in session.stderr


async def test_a_token_pasted_with_curly_quotes_is_a_configuration_error_naming_the_variable(
    fake_api: FakeAPI,
) -> None:
    pasted = "\u201cabc123-token\u201d"
    settings = Settings.from_env({"CLOUDFLARE_API_TOKEN": pasted, "CLOUDFLARE_ACCOUNT_ID": "acc"})
    async with Client(build_server(settings, transport=fake_api.transport)) as client:
        result = await client.call_tool("list_apps", {})
    text = text_of(result)
    assert result.is_error
    assert "CLOUDFLARE_API_TOKEN" in text and "misconfigured" in text
    assert "internally" not in text and "abc123" not in text
    assert fake_api.requests == []


def test_ctrl_c_on_stdio_exits_without_a_traceback() -> None:
    process = subprocess.Popen([sys.executable, "-m", "rtk_mcp", "--sandbox"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stderr is not None
    started = process.stderr.readline()  # the start-up line: the server is serving
    assert b"serving" in started
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 130
    assert b"Traceback" not in stderr and stdout == b""
