"""Choosing the tools: toolsets, names and globs, exclusions and read-only mode change ``tools/list``
exactly as documented (README "What you get"), through MCP and through the command line."""

from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from rtk_mcp.catalog import ENDPOINTS, GROUPS
from rtk_mcp.catalog.selection import DEFAULT_TOOLSET, SelectionError, select
from rtk_mcp.cli import main
from rtk_mcp.server import build_server
from tests.conftest import FakeAPI, settings

ALL = [ep.name for ep in ENDPOINTS]
READ_ONLY = [ep.name for ep in ENDPOINTS if ep.method == "GET"]
ROOT = Path(__file__).resolve().parents[2]


async def listed(**selection: Any) -> list[str]:
    """Tool names a client sees from a server built with ``select(**selection)``."""
    server = build_server(settings(), endpoints=select(**selection), transport=FakeAPI().transport)
    async with Client(server) as client:
        result = await client.list_tools()
    return [tool.name for tool in result.tools]


def in_catalog_order(names: Any) -> list[str]:
    wanted = set(names)
    return [name for name in ALL if name in wanted]


# --- through MCP ---------------------------------------------------------------------------------


async def test_no_selection_lists_every_tool() -> None:
    assert await listed() == ALL


async def test_toolsets_all_and_default() -> None:
    assert await listed(toolsets=["all"]) == ALL
    assert await listed(toolsets=["default"]) == in_catalog_order(DEFAULT_TOOLSET) == [
        "list_apps", "list_meetings", "create_meeting", "get_meeting", "update_meeting", "list_meeting_participants",
        "add_participant", "delete_participant", "refresh_participant_token", "list_presets", "list_sessions",
        "get_session_transcript", "get_session_summary", "start_recording", "update_recording", "get_active_session",
    ]


@pytest.mark.parametrize("group", GROUPS)
async def test_each_group_is_a_toolset(group: str) -> None:
    assert await listed(toolsets=[group]) == [ep.name for ep in ENDPOINTS if ep.group == group]


async def test_toolsets_combine() -> None:
    names = await listed(toolsets=["apps", "webhooks"])
    assert names == [ep.name for ep in ENDPOINTS if ep.group in {"apps", "webhooks"}]


async def test_tools_by_name_and_glob_add_to_toolsets() -> None:
    assert await listed(tools=["get_meeting"]) == ["get_meeting"]
    assert await listed(tools=["*_webhook"]) == in_catalog_order(n for n in ALL if n.endswith("_webhook"))
    names = await listed(toolsets=["apps"], tools=["get_session_*"])
    assert names == in_catalog_order(["list_apps", "create_app", *(n for n in ALL if n.startswith("get_session_"))])


async def test_exclude_removes_names_and_globs() -> None:
    assert await listed(exclude=["delete_*"]) == [n for n in ALL if not n.startswith("delete_")]
    assert await listed(toolsets=["webhooks"], exclude=["replace_webhook", "update_*"]) == [
        "list_webhooks", "create_webhook", "get_webhook", "delete_webhook"
    ]


async def test_read_only_keeps_only_read_only_tools() -> None:
    assert await listed(read_only=True) == READ_ONLY
    assert await listed(toolsets=["meetings"], read_only=True) == [
        ep.name for ep in ENDPOINTS if ep.group == "meetings" and ep.method == "GET"
    ]


async def test_read_only_wins_even_over_tools_named_explicitly() -> None:
    assert await listed(tools=["create_meeting", "delete_preset", "get_meeting"], read_only=True) == ["get_meeting"]
    assert await listed(tools=["create_meeting"], read_only=True) == []


async def test_a_hidden_tool_cannot_be_called() -> None:
    server = build_server(settings(), endpoints=select(read_only=True), transport=FakeAPI().transport)
    async with Client(server) as client:
        result = await client.call_tool("create_meeting", {"title": "x"})
    assert result.is_error


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        ({"toolsets": ["meeting"]}, "unknown toolset 'meeting'; choose from: apps, meetings"),
        ({"tools": ["list_meeting"]}, "no tool matches 'list_meeting'"),
        ({"tools": ["nothing_*"]}, "no tool matches 'nothing_*'"),
        ({"exclude": ["delete_everything"]}, "no tool matches 'delete_everything'"),
    ],
)
def test_unknown_toolsets_and_tools_are_clear_errors(selection: dict[str, Any], message: str) -> None:
    with pytest.raises(SelectionError, match="^" + message.replace("*", r"\*")):
        select(**selection)


# --- through the command line --------------------------------------------------------------------


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str, env: dict[str, str] | None = None) -> Done:
    """``rtk-mcp ARGS`` run in this process (as the entry point runs it), in an environment holding only ``env``
    of our variables: the command line's own parsing, selection and printing, without a process per case."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, redirect_stdout(out), redirect_stderr(err):
        for name in os.environ:
            if name.startswith(("RTK_", "CLOUDFLARE_")):
                patch.delenv(name)
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 1
    return Done(code, out.getvalue(), err.getvalue())


def cli_tools(*args: str, env: dict[str, str] | None = None) -> list[str]:
    done = cli("tools", "--json", *args, env=env)
    assert done.returncode == 0, done.stderr
    return [tool["name"] for tool in json.loads(done.stdout)]


@pytest.mark.parametrize(
    ("flags", "env", "expected"),
    [
        ([], {}, ALL),
        (["--toolsets", "default"], {}, in_catalog_order(DEFAULT_TOOLSET)),
        ([], {"RTK_TOOLSETS": "default"}, in_catalog_order(DEFAULT_TOOLSET)),
        (["--toolsets", "apps,webhooks"], {}, [e.name for e in ENDPOINTS if e.group in {"apps", "webhooks"}]),
        (["--toolsets", "apps", "--toolsets", "webhooks"], {},
         [e.name for e in ENDPOINTS if e.group in {"apps", "webhooks"}]),
        (["--tools", "get_meeting,list_*s"], {}, in_catalog_order(["get_meeting", *(n for n in ALL
                                                                                   if n.startswith("list_") and n.endswith("s"))])),
        ([], {"RTK_TOOLS": "get_meeting"}, ["get_meeting"]),
        (["--toolsets", "webhooks", "--exclude-tools", "delete_*"], {},
         ["list_webhooks", "create_webhook", "get_webhook", "replace_webhook", "update_webhook"]),
        ([], {"RTK_TOOLSETS": "webhooks", "RTK_EXCLUDE_TOOLS": "delete_*,replace_*"},
         ["list_webhooks", "create_webhook", "get_webhook", "update_webhook"]),
        (["--read-only"], {}, READ_ONLY),
        ([], {"RTK_READ_ONLY": "1"}, READ_ONLY),
        (["--tools", "create_meeting,get_meeting", "--read-only"], {}, ["get_meeting"]),
        (["--tools", "create_meeting,get_meeting"], {"RTK_READ_ONLY": "true"}, ["get_meeting"]),
        # A flag wins over the variable of the same setting, one setting at a time.
        (["--toolsets", "apps"], {"RTK_TOOLSETS": "webhooks", "RTK_EXCLUDE_TOOLS": "create_*"}, ["list_apps"]),
    ],
)
def test_cli_flags_and_environment_select_tools(flags: list[str], env: dict[str, str], expected: list[str]) -> None:
    assert cli_tools(*flags, env=env) == expected


def test_cli_flags_work_before_the_subcommand_too() -> None:
    done = cli("--read-only", "tools", "--json")
    assert done.returncode == 0, done.stderr
    assert [tool["name"] for tool in json.loads(done.stdout)] == READ_ONLY


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--toolsets", "nope"], {}, "unknown toolset 'nope'; choose from:"),
        ([], {"RTK_TOOLSETS": "nope"}, "unknown toolset 'nope'"),
        (["--tools", "list_meeting"], {}, "no tool matches 'list_meeting'"),
        (["--exclude-tools", "zzz"], {}, "no tool matches 'zzz'"),
    ],
)
def test_cli_unknown_selection_is_a_usage_error(args: list[str], env: dict[str, str], message: str) -> None:
    done = cli("tools", *args, env=env)
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stdout == ""


def test_cli_tools_prints_the_exact_token_cost_with_a_tokenizer_and_labels_the_estimate_without() -> None:
    tokenizer = ROOT.parent / "shared" / "tokenizer"
    done = cli("tools", "--read-only", env={"RTK_TOKENIZER_DIR": str(tokenizer)})
    assert done.returncode == 0, done.stderr
    assert f"{len(READ_ONLY)} tools;" in done.stderr
    assert "tokens (o200k, exact)" in done.stderr
    estimated = cli("tools", "--read-only")
    assert "at most about" in estimated.stderr and "errs high" in estimated.stderr
    assert "exact)" not in estimated.stderr
