"""Command line: serve MCP (the default), list tools, call one tool, or watch a demo.

stdout belongs to JSON-RPC when serving over stdio, so everything else (logs, the startup line)
goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

import anyio

from rtk_mcp import __version__
from rtk_mcp.catalog import Endpoint
from rtk_mcp.config import Settings
from rtk_mcp.selection import TOOLSETS, SelectionError, select, split_list

__all__ = ["main", "build_parser"]

logger = logging.getLogger("rtk_mcp")

_ENV_HELP = """\
environment:
  CLOUDFLARE_API_TOKEN   API token with the Realtime / Realtime Admin permission (required, unless --sandbox)
  CLOUDFLARE_ACCOUNT_ID  Cloudflare account ID (required, unless --sandbox)
  RTK_APP_ID             default app_id for every tool (optional; list_apps shows ids)
  RTK_API_BASE_URL       API base URL (default https://api.cloudflare.com/client/v4)
  RTK_TOOLSETS, RTK_TOOLS, RTK_EXCLUDE_TOOLS, RTK_READ_ONLY=1, RTK_LOG_LEVEL
                         the same as the flags of those names
"""


def _add_common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # On subcommands the defaults are suppressed, so a flag given before the subcommand is not
    # overwritten by the subcommand's default (argparse's known quirk with shared options).
    default = (lambda value: value) if top else (lambda value: argparse.SUPPRESS)
    parser.add_argument("--sandbox", action="store_true", default=default(False),
                        help="use the built-in offline RealtimeKit emulator (no account, no network)")
    parser.add_argument("--sandbox-state", metavar="PATH", default=default(None),
                        help="keep the sandbox's state in this file across restarts")
    parser.add_argument("--toolsets", action="append", metavar="LIST", default=default(None),
                        help=f"comma-separated toolsets to expose: {', '.join(TOOLSETS)} (default: all)")
    parser.add_argument("--tools", action="append", metavar="LIST", default=default(None),
                        help="comma-separated tool names or globs to expose (added to --toolsets)")
    parser.add_argument("--exclude-tools", action="append", metavar="LIST", default=default(None),
                        help="comma-separated tool names or globs to hide")
    parser.add_argument("--read-only", action="store_true", default=default(False),
                        help="expose only read-only tools (wins over every other selection)")
    parser.add_argument("--log-level", default=default(None), choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        type=str.upper, help="log level on stderr (default WARNING; env RTK_LOG_LEVEL)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rtk-mcp",
        description="MCP server for the Cloudflare RealtimeKit REST API. With no command, serves MCP over stdio.",
        epilog=_ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rtk-mcp {__version__}")
    _add_common(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve MCP over stdio (the default)")
    _add_common(serve, top=False)

    tools = commands.add_parser("tools", help="list the selected tools and what they cost in context")
    tools.add_argument("--json", action="store_true", help="print the MCP tool definitions as JSON")
    _add_common(tools, top=False)

    call = commands.add_parser("call", help="call one tool and print the result an agent would get")
    call.add_argument("tool", help="tool name, e.g. list_meetings")
    call.add_argument("arguments", nargs="?", default="{}", help="JSON object of arguments (default {})")
    _add_common(call, top=False)

    demo = commands.add_parser("demo", help="a scripted walkthrough against the sandbox")
    _add_common(demo, top=False)
    return parser


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def selected_endpoints(args: argparse.Namespace) -> list[Endpoint]:
    """Flags win over environment variables, one setting at a time."""
    return select(
        toolsets=split_list(args.toolsets or os.environ.get("RTK_TOOLSETS")),
        tools=split_list(args.tools or os.environ.get("RTK_TOOLS")),
        exclude=split_list(args.exclude_tools or os.environ.get("RTK_EXCLUDE_TOOLS")),
        read_only=args.read_only or _env_flag("RTK_READ_ONLY"),
    )


def _make_server(args: argparse.Namespace, endpoints: list[Endpoint]) -> Any:
    from rtk_mcp.server import build_server

    if args.sandbox or args.command == "demo":
        from rtk_mcp.sandbox import sandbox_settings, sandbox_transport

        return build_server(sandbox_settings(), endpoints=endpoints, transport=sandbox_transport(args.sandbox_state))
    return build_server(Settings.from_env(), endpoints=endpoints)


def _configure_logging(args: argparse.Namespace) -> None:
    level = args.log_level or os.environ.get("RTK_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, level, logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The HTTP stack logs full URLs at INFO/DEBUG; our own one line per request is enough.
    for noisy in ("httpx2", "httpcore", "httpcore2", "mcp"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args)
    try:
        endpoints = selected_endpoints(args)
    except SelectionError as exc:
        parser.error(str(exc))
    if args.command == "tools":
        return _print_tools(endpoints, as_json=args.json)
    if args.command == "call":
        return anyio.run(_call_once, args, endpoints)
    if args.command == "demo":
        from rtk_mcp.demo import run_demo

        return anyio.run(run_demo, _make_server(args, endpoints))
    return anyio.run(_serve_stdio, args, endpoints)


async def _serve_stdio(args: argparse.Namespace, endpoints: list[Endpoint]) -> int:
    from mcp.server.stdio import stdio_server

    server = _make_server(args, endpoints)
    mode = "sandbox" if args.sandbox else "live"
    print(f"rtk-mcp {__version__}: serving {len(endpoints)} tools over stdio ({mode})", file=sys.stderr)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
    return 0


async def _call_once(args: argparse.Namespace, endpoints: list[Endpoint]) -> int:
    from mcp import Client

    try:
        arguments = json.loads(args.arguments)
    except ValueError as exc:
        print(f"error: arguments must be a JSON object ({exc})", file=sys.stderr)
        return 2
    if not isinstance(arguments, dict):
        print("error: arguments must be a JSON object", file=sys.stderr)
        return 2
    async with Client(_make_server(args, endpoints)) as client:
        result = await client.call_tool(args.tool, arguments)
    text = "".join(block.text for block in result.content if block.type == "text")
    print(text)
    return 1 if result.is_error else 0


def _print_tools(endpoints: list[Endpoint], *, as_json: bool) -> int:
    from rtk_mcp.server import tool_definition
    from rtk_mcp.shaping import to_json

    definitions = [tool_definition(ep).model_dump(mode="json", by_alias=True, exclude_none=True) for ep in endpoints]
    if as_json:
        print(json.dumps(definitions, indent=2))
        return 0
    for ep in endpoints:
        access = "read-only" if ep.read_only else ("destructive" if ep.destructive else "write")
        print(f"{ep.name:34} {access:11} {ep.description.split('. ')[0].rstrip('.')}")
    size = len(to_json({"tools": definitions}))
    print(f"\n{len(endpoints)} tools; catalogue {size} characters of JSON, about {size // 4} tokens", file=sys.stderr)
    return 0
