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
from collections.abc import Callable, Sequence
from dataclasses import replace
from fractions import Fraction
from typing import Any

import anyio

from rtk_mcp import __version__
from rtk_mcp.catalog import Endpoint
from rtk_mcp.config import Settings
from rtk_mcp.ratelimit import parse_share
from rtk_mcp.selection import TOOLSETS, SelectionError, select, split_list

__all__ = ["main", "build_parser"]

logger = logging.getLogger("rtk_mcp")

_ENV_HELP = """\
environment:
  CLOUDFLARE_API_TOKEN   API token with the Realtime / Realtime Admin permission (required, unless --sandbox)
  CLOUDFLARE_ACCOUNT_ID  Cloudflare account ID (required, unless --sandbox)
  RTK_APP_ID             default app_id for every tool (optional; list_apps shows ids)
  RTK_API_BASE_URL       API base URL (default https://api.cloudflare.com/client/v4)
  RTK_SANDBOX=1, RTK_TOOLSETS, RTK_TOOLS, RTK_EXCLUDE_TOOLS, RTK_READ_ONLY=1, RTK_LOG_LEVEL,
  RTK_REDACT_SECRETS=1, RTK_MAX_RESULT_TOKENS, RTK_OUTPUT_SCHEMAS=1
                         the same as the flags of those names
  RTK_TIMEOUT            seconds per HTTP attempt (default 30; connecting: 5)
  RTK_RATE_LIMIT_SHARE   this replica's share of the per-token rate limits, e.g. 1/2 for two replicas
  RTK_MCP_HTTP_TOKEN     --transport http: bearer token every request must carry (required to bind
                         a non-loopback --host)
"""


def _defaults(top: bool) -> Callable[[Any], Any]:
    """On subcommands the defaults are suppressed, so a flag given before the subcommand is not
    overwritten by the subcommand's default (argparse's known quirk with shared options)."""
    return (lambda value: value) if top else (lambda value: argparse.SUPPRESS)


def _add_common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    default = _defaults(top)
    parser.add_argument("--sandbox", action="store_true", default=default(False),
                        help="use the built-in offline RealtimeKit emulator (no account, no network; env RTK_SANDBOX=1)")
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
    parser.add_argument("--redact-secrets", action="store_true", default=default(False),
                        help="mask participant tokens, stream keys, download-URL signatures and echoed storage "
                             "credentials in results (env RTK_REDACT_SECRETS=1)")
    parser.add_argument("--max-result-tokens", type=_positive_int, metavar="N", default=default(None),
                        help="cap each result at about N tokens; lists are cut item-wise "
                             "(default 25000; env RTK_MAX_RESULT_TOKENS)")
    parser.add_argument("--output-schemas", action="store_true", default=default(False),
                        help="add each tool's outputSchema (more tokens per conversation; env RTK_OUTPUT_SCHEMAS=1)")


def _add_serve(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """How to serve MCP: stdio (what desktop clients launch) or Streamable HTTP."""
    default = _defaults(top)
    parser.add_argument("--transport", choices=["stdio", "http"], default=default("stdio"),
                        help="stdio (default), or Streamable HTTP at http://HOST:PORT/mcp")
    parser.add_argument("--host", default=default("127.0.0.1"),
                        help="--transport http: address to bind (default 127.0.0.1; any other than loopback "
                             "needs RTK_MCP_HTTP_TOKEN)")
    parser.add_argument("--port", type=_port, default=default(8000), help="--transport http: port (default 8000)")
    parser.add_argument("--stateless", action="store_true", default=default(False),
                        help="--transport http: no sessions, so several instances can share a load balancer")
    parser.add_argument("--allowed-hosts", action="append", metavar="LIST", default=default(None),
                        help="--transport http: extra Host header values to accept (DNS-rebinding protection; "
                             "loopback names and --host are always accepted), e.g. mcp.example.com")
    parser.add_argument("--rate-limit-share", type=_share, metavar="SHARE", default=default(None),
                        help="this replica's share of the API rate limits, which are per token: 1/N for each of N "
                             "replicas sharing one token (default 1; env RTK_RATE_LIMIT_SHARE)")
    parser.add_argument("--allowed-origins", action="append", metavar="LIST", default=default(None),
                        help="--transport http: extra browser Origins to accept, e.g. https://app.example.com")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rtk-mcp",
        description="MCP server for the Cloudflare RealtimeKit REST API. With no command, serves MCP over stdio.",
        epilog=_ENV_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rtk-mcp {__version__}")
    _add_common(parser, top=True)
    _add_serve(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve MCP over stdio (the default) or Streamable HTTP")
    _add_common(serve, top=False)
    _add_serve(serve, top=False)

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


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535)")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def _share(text: str) -> Fraction:
    try:
        return parse_share(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _env_positive_int(name: str, default: int) -> int:
    """A bad value must not stop the server from starting: say so on stderr and use the default."""
    text = os.environ.get(name, "").strip()
    try:
        return _positive_int(text) if text else default
    except ValueError:
        logger.warning("ignoring %s=%r: not a positive integer; using %d", name, text, default)
        return default


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _schema_options(args: argparse.Namespace) -> dict[str, bool]:
    """How tool definitions are written: the flag wins over RTK_OUTPUT_SCHEMAS."""
    return {"output_schemas": args.output_schemas or _env_flag("RTK_OUTPUT_SCHEMAS")}


def selected_endpoints(args: argparse.Namespace) -> list[Endpoint]:
    """Flags win over environment variables, one setting at a time."""
    return select(
        toolsets=split_list(args.toolsets or os.environ.get("RTK_TOOLSETS")),
        tools=split_list(args.tools or os.environ.get("RTK_TOOLS")),
        exclude=split_list(args.exclude_tools or os.environ.get("RTK_EXCLUDE_TOOLS")),
        read_only=args.read_only or _env_flag("RTK_READ_ONLY"),
    )


def _uses_sandbox(args: argparse.Namespace) -> bool:
    return args.sandbox or _env_flag("RTK_SANDBOX") or args.command == "demo"


def _backend_settings(args: argparse.Namespace) -> Settings:
    """The sandbox's settings, or the environment's (read once: a bad value is warned about once)."""
    if _uses_sandbox(args):
        from rtk_mcp.sandbox import sandbox_settings

        settings = sandbox_settings()
    else:
        settings = Settings.from_env()
    share = getattr(args, "rate_limit_share", None)
    return settings if share is None else replace(settings, rate_limit_share=share)


def _make_server(args: argparse.Namespace, endpoints: list[Endpoint], settings: Settings | None = None) -> Any:
    from rtk_mcp.server import build_server
    from rtk_mcp.shaping import DEFAULT_MAX_TOKENS

    shaping: dict[str, Any] = {
        "redact_secrets": args.redact_secrets or _env_flag("RTK_REDACT_SECRETS"),
        "max_result_tokens": args.max_result_tokens or _env_positive_int("RTK_MAX_RESULT_TOKENS", DEFAULT_MAX_TOKENS),
        **_schema_options(args),
    }
    transport = None
    if _uses_sandbox(args):
        from rtk_mcp.sandbox import sandbox_transport

        transport = sandbox_transport(args.sandbox_state)
    return build_server(settings or _backend_settings(args), endpoints=endpoints, transport=transport, **shaping)


def _configure_logging(args: argparse.Namespace) -> None:
    level = args.log_level or os.environ.get("RTK_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, level, logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The HTTP stack logs full URLs at INFO/DEBUG; our own one line per request is enough.
    for noisy in ("httpx2", "httpcore", "httpcore2", "mcp"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C is how a person stops a server started by hand: no traceback
        return 130


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args)
    try:
        endpoints = selected_endpoints(args)
    except SelectionError as exc:
        parser.error(str(exc))
    if args.command == "tools":
        return _print_tools(endpoints, as_json=args.json, **_schema_options(args))
    if not _uses_sandbox(args):
        return _run(args, endpoints)
    from rtk_mcp.sandbox import SandboxStateError

    try:
        return _run(args, endpoints)
    except SandboxStateError as exc:  # a bad --sandbox-state file: one line, before anything is served
        print(f"rtk-mcp: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, endpoints: list[Endpoint]) -> int:
    if args.command == "call":
        return anyio.run(_call_once, args, endpoints)
    if args.command == "demo":
        from rtk_mcp.demo import run_demo

        return anyio.run(run_demo, _make_server(args, endpoints))
    if args.transport == "http":
        return _serve_http(args, endpoints)
    return anyio.run(_serve_stdio, args, endpoints)


def _startup_line(args: argparse.Namespace, endpoints: list[Endpoint], settings: Settings, where: str) -> str:
    """One line on stderr saying what is being served, where, and against what."""
    from rtk_mcp.catalog import ENDPOINTS

    groups = list(dict.fromkeys(ep.group for ep in endpoints))
    if len(endpoints) == len(ENDPOINTS):
        toolsets = "all toolsets"
    else:
        toolsets = f"toolsets {','.join(groups) or 'none'}"
    read_only = ", read-only" if args.read_only or _env_flag("RTK_READ_ONLY") else ""
    if _uses_sandbox(args):
        backend = "the offline sandbox"
    else:
        missing = settings.missing
        backend = "the live API" + (f" (not configured: {', '.join(missing)} unset)" if missing else "")
        if malformed := settings.malformed():
            backend += f" (misconfigured: {'; '.join(malformed)})"
    share = f", taking {settings.rate_limit_share} of the rate limits" if settings.rate_limit_share != 1 else ""
    return (f"rtk-mcp {__version__}: serving {len(endpoints)} tools ({toolsets}{read_only}) from {backend}{share} "
            f"over {where}")


def _serve_http(args: argparse.Namespace, endpoints: list[Endpoint]) -> int:
    from rtk_mcp.http import HEALTH_PATH, MCP_PATH, TOKEN_ENV, BindRefused, build_http_app, check_bind, serve_http

    token = os.environ.get(TOKEN_ENV, "").strip() or None
    try:
        check_bind(args.host, token)
    except BindRefused as exc:
        print(f"rtk-mcp: error: {exc}", file=sys.stderr)
        return 2
    settings = _backend_settings(args)
    app = build_http_app(_make_server(args, endpoints, settings), token=token, stateless=args.stateless, host=args.host,
                         allowed_hosts=split_list(args.allowed_hosts), allowed_origins=split_list(args.allowed_origins))
    host = f"[{args.host}]" if ":" in args.host else args.host
    details = ", ".join(["stateless" if args.stateless else "stateful",
                         "bearer token required" if token else "no token", f"health at {HEALTH_PATH}"])
    print(_startup_line(args, endpoints, settings, f"Streamable HTTP at http://{host}:{args.port}{MCP_PATH} ({details})"),
          file=sys.stderr)
    serve_http(app, args.host, args.port)
    return 0


async def _serve_stdio(args: argparse.Namespace, endpoints: list[Endpoint]) -> int:
    from rtk_mcp.stdio import stdio_transport

    settings = _backend_settings(args)
    server = _make_server(args, endpoints, settings)
    print(_startup_line(args, endpoints, settings, "stdio"), file=sys.stderr)
    async with stdio_transport() as (read_stream, write_stream):
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


def _print_tools(endpoints: list[Endpoint], *, as_json: bool, **schema_options: bool) -> int:
    from rtk_mcp.server import tool_definitions

    definitions = [tool.model_dump(mode="json", by_alias=True, exclude_none=True)
                   for tool in tool_definitions(endpoints, **schema_options)]
    if as_json:
        print(json.dumps(definitions, indent=2))
        return 0
    for ep in endpoints:
        access = "read-only" if ep.read_only else ("destructive" if ep.destructive else "write")
        print(f"{ep.name:34} {access:11} {ep.description.split('. ')[0].rstrip('.')}")
    # Exactly what a client receives: the tools/list result as compact JSON.
    catalogue = json.dumps({"tools": definitions}, separators=(",", ":"))
    print(f"\n{len(endpoints)} tools; catalogue {len(catalogue)} characters of JSON, {_token_cost(catalogue)}",
          file=sys.stderr)
    return 0


def _token_cost(text: str) -> str:
    """``N tokens (o200k, exact)`` when the tokenizer is available, else a labelled estimate."""
    from rtk_mcp.tokens import token_counter

    count = token_counter()
    if count is not None:
        return f"{count(text)} tokens (o200k, exact)"
    from rtk_mcp.shaping import estimate_tokens

    return f"about {estimate_tokens(text)} tokens (o200k, estimated; set RTK_TOKENIZER_DIR for an exact count)"
