"""Command line: serve MCP (the default), list tools, call one tool, or watch a demo.

stdout belongs to JSON-RPC when serving over stdio, so everything else (logs, the startup line)
goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio

from rtk_mcp import __version__
from rtk_mcp.catalog import Endpoint
from rtk_mcp.catalog.selection import SelectionError, select, split_list
from rtk_mcp.config import COMMON, SERVE, Option, Settings, options

__all__ = ["build_parser", "main", "o200k_counter"]

logger = logging.getLogger("rtk_mcp")


def _environment_help() -> str:
    """The variables that have no flag; each flag's help names its own."""
    lines = ["environment (a flag wins over its variable):"]
    for name, option in options():
        if option.env and not option.flag:
            default = Settings.__dataclass_fields__[name].default
            lines.append(f"  {option.env:22} {option.help}" + (f" (default {default})" if default else ""))
    return "\n".join(lines) + "\n"


def _flag_help(name: str, option: Option) -> str:
    default = Settings.__dataclass_fields__[name].default
    notes = [f"default {default}"] if default not in (None, False, ()) else []
    if option.env:
        notes.append(f"env {option.env}" + {"flag": "=1", "off": "=0"}.get(option.kind, ""))
    return option.help + (f" ({'; '.join(notes)})" if notes else "")


def _typed(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return convert


def _add_flags(parser: argparse.ArgumentParser, scopes: set[str]) -> None:
    """The declared flags of ``scopes``. No defaults: a flag that was not given is absent, so one given
    before the subcommand is not overwritten, and the environment can still apply."""
    for name, option in options():
        if option.flag is None or option.scope not in scopes:
            continue
        given: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS, "help": _flag_help(name, option)}
        if option.kind in ("flag", "off"):
            parser.add_argument(option.flag, action="store_true" if option.kind == "flag" else "store_false", **given)
        elif option.kind == "list":
            parser.add_argument(option.flag, action="append", metavar=option.metavar, **given)
        else:
            parser.add_argument(option.flag, type=_typed(option.parse), metavar=option.metavar,
                                choices=option.choices, **given)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rtk-mcp",
        description="MCP server for the Cloudflare RealtimeKit REST API. With no command, serves MCP over stdio.",
        epilog=_environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rtk-mcp {__version__}")
    _add_flags(parser, {COMMON, SERVE})
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve MCP over stdio (the default) or Streamable HTTP")
    _add_flags(serve, {COMMON, SERVE})

    tools = commands.add_parser("tools", help="list the selected tools and what they cost in context")
    tools.add_argument("--json", action="store_true", help="print the MCP tool definitions as JSON")
    _add_flags(tools, {COMMON})

    call = commands.add_parser("call", help="call one tool and print the result an agent would get")
    call.add_argument("tool", help="tool name, e.g. list_meetings")
    call.add_argument("arguments", nargs="?", default="{}", help="JSON object of arguments (default {})")
    _add_flags(call, {COMMON})

    demo = commands.add_parser("demo", help="a scripted walkthrough against the sandbox")
    _add_flags(demo, {COMMON})

    # Every argument after `sandbox` goes to the emulator's own parser (rtk_mcp.sandbox.cli, built when
    # used), so starting an MCP server never imports the emulator; NUL as prefix: no argument is an option here.
    sandbox = commands.add_parser(
        "sandbox", help="the offline emulator itself: serve it over HTTP, faults, people, time, scenarios, webhooks",
        add_help=False, prefix_chars="\0")
    sandbox.add_argument("sandbox_args", nargs=argparse.REMAINDER)
    return parser


def load_settings(args: argparse.Namespace) -> Settings:
    """The one frozen :class:`Settings` for this run: flags, then the environment, then defaults; the
    sandbox's backend when asked for it (``demo`` always is)."""
    given = vars(args)
    flags: dict[str, Any] = {}
    for name, option in options():
        if name in given:
            value = given[name]
            flags[name] = tuple(split_list(value)) if option.kind == "list" else value
    settings = Settings.load(flags)
    if args.command == "demo":
        settings = replace(settings, sandbox=True)
    if settings.sandbox:
        from rtk_mcp.sandbox import sandbox_settings

        settings = settings.with_backend(sandbox_settings())
    return settings


def _sandbox(settings: Settings) -> Any:
    """The emulator a ``--sandbox`` server runs on (loaded only then), else ``None``."""
    if not settings.sandbox:
        return None
    from rtk_mcp.sandbox import Sandbox

    return Sandbox(settings.sandbox_state)


def _make_server(settings: Settings, endpoints: list[Endpoint], sandbox: Any) -> Any:
    from rtk_mcp.server import build_server

    return build_server(settings, endpoints=endpoints, transport=sandbox.transport() if sandbox else None)


def _configure_logging(level: str) -> None:
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, level, logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The HTTP stack logs full URLs at INFO/DEBUG; our own one line per request is enough.
    for noisy in ("httpx2", "httpcore", "httpcore2", "mcp"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()  # a reader that left shows here, not in the interpreter's flush at exit
        return code
    except KeyboardInterrupt:  # Ctrl-C is how a person stops a server started by hand: no traceback
        return 130
    except BrokenPipeError:
        # The reader left (`rtk-mcp tools | head -2`): what it wanted it has. Point stdout at nothing so
        # the interpreter's final flush cannot fail again, and exit as Python does on EPIPE, quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 1


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = load_settings(args)
    _configure_logging(settings.log_level)
    if args.command == "sandbox":  # the emulator's own commands: no MCP server, no tool selection
        from rtk_mcp.sandbox.cli import sandbox_main

        return sandbox_main(args.sandbox_args, args)
    try:
        endpoints = select(toolsets=settings.toolsets, tools=settings.tools, exclude=settings.exclude_tools,
                           read_only=settings.read_only)
    except SelectionError as exc:
        parser.error(str(exc))
    if args.command == "tools":
        return _print_tools(endpoints, as_json=args.json, output_schemas=settings.output_schemas)
    if not settings.sandbox:
        return _run(args, settings, endpoints)
    from rtk_mcp.sandbox import SandboxStateError

    try:
        return _run(args, settings, endpoints)
    except SandboxStateError as exc:  # a bad --sandbox-state file: one line, before anything is served
        print(f"rtk-mcp: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, settings: Settings, endpoints: list[Endpoint]) -> int:
    if args.command == "call":
        return anyio.run(_call_once, settings, endpoints, args.tool, args.arguments)
    if args.command == "demo":
        from rtk_mcp.demo import run_demo

        return anyio.run(run_demo, _make_server(settings, endpoints, _sandbox(settings)))
    if settings.transport == "http":
        return _serve_http(settings, endpoints)
    return anyio.run(_serve_stdio, settings, endpoints)


def _startup_line(settings: Settings, endpoints: list[Endpoint], where: str) -> str:
    """One line on stderr saying what is being served, where, and against what."""
    from rtk_mcp.catalog import ENDPOINTS

    groups = list(dict.fromkeys(ep.group for ep in endpoints))
    if len(endpoints) == len(ENDPOINTS):
        toolsets = "all toolsets"
    else:
        toolsets = f"toolsets {','.join(groups) or 'none'}"
    read_only = ", read-only" if settings.read_only else ""
    if settings.sandbox:
        backend = "the offline sandbox"
    else:
        missing = settings.missing
        backend = "the live API" + (f" (not configured: {', '.join(missing)} unset)" if missing else "")
        if malformed := settings.malformed():
            backend += f" (misconfigured: {'; '.join(malformed)})"
    share = f", taking {settings.rate_limit_share} of the rate limits" if settings.rate_limit_share != 1 else ""
    return (f"rtk-mcp {__version__}: serving {len(endpoints)} tools ({toolsets}{read_only}) from {backend}{share} "
            f"over {where}")


def _serve_http(settings: Settings, endpoints: list[Endpoint]) -> int:
    from rtk_mcp.transport.http import (
        HEALTH_PATH,
        MCP_PATH,
        BindRefused,
        build_http_app,
        check_bind,
        serve_http,
    )

    token, host, port = settings.http_token, settings.host, settings.port
    try:
        check_bind(host, token)
    except BindRefused as exc:
        print(f"rtk-mcp: error: {exc}", file=sys.stderr)
        return 2
    sandbox = _sandbox(settings)
    app = build_http_app(_make_server(settings, endpoints, sandbox), token=token, stateless=settings.stateless, host=host,
                         allowed_hosts=settings.allowed_hosts, allowed_origins=settings.allowed_origins)
    if sandbox is not None:
        app = _delivering_while_served(app, sandbox)
    shown = f"[{host}]" if ":" in host else host
    details = ", ".join(["stateless" if settings.stateless else "stateful",
                         "bearer token required" if token else "no token", f"health at {HEALTH_PATH}"])
    print(_startup_line(settings, endpoints, f"Streamable HTTP at http://{shown}:{port}{MCP_PATH} ({details})"),
          file=sys.stderr)
    serve_http(app, host, port)
    return 0


def _delivering_while_served(app: Any, sandbox: Any) -> Any:
    """*app*, delivering the sandbox's webhooks for as long as the server runs (its lifespan)."""
    async def served(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            return await app(scope, receive, send)
        async with sandbox.delivering():
            await app(scope, receive, send)
        return None

    return served


async def _serve_stdio(settings: Settings, endpoints: list[Endpoint]) -> int:
    from rtk_mcp.transport.stdio import stdio_transport

    sandbox = _sandbox(settings)
    server = _make_server(settings, endpoints, sandbox)
    print(_startup_line(settings, endpoints, "stdio"), file=sys.stderr)
    # A running sandbox delivers its webhooks as its time passes.
    async with stdio_transport(settings.stdin_grace) as (read_stream, write_stream), \
            (sandbox.delivering() if sandbox else contextlib.nullcontext()):
        await server.run(read_stream, write_stream, server.create_initialization_options())
    return 0


async def _call_once(settings: Settings, endpoints: list[Endpoint], tool: str, arguments_json: str) -> int:
    from mcp import Client

    from rtk_mcp.server import text_of

    try:
        arguments = json.loads(arguments_json, parse_constant=_not_json)
    except ValueError as exc:
        print(f"error: arguments must be a JSON object ({exc})", file=sys.stderr)
        return 2
    if not isinstance(arguments, dict):
        print("error: arguments must be a JSON object", file=sys.stderr)
        return 2
    async with Client(_make_server(settings, endpoints, _sandbox(settings))) as client:
        result = await client.call_tool(tool, arguments)
    print(text_of(result))
    return 1 if result.is_error else 0


def _not_json(constant: str) -> Any:
    """Python's JSON reader takes NaN and Infinity; JSON has neither, and a tool call cannot carry them."""
    raise ValueError(f"{constant} is not a JSON value: write a number, or leave the argument out")


def _print_tools(endpoints: list[Endpoint], *, as_json: bool, output_schemas: bool) -> int:
    from rtk_mcp.server import tool_definitions

    definitions = [tool.model_dump(mode="json", by_alias=True, exclude_none=True)
                   for tool in tool_definitions(endpoints, output_schemas=output_schemas)]
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
    """The exact o200k count when a tokenizer is at hand (``tiktoken`` with the o200k ranks in
    ``RTK_TOKENIZER_DIR``), else the estimate the result cap uses, labelled as the upper bound it is."""
    count = o200k_counter(os.environ.get("RTK_TOKENIZER_DIR", ""))
    if count is not None:
        return f"{count(text)} tokens (o200k, exact)"
    from rtk_mcp.results.shaping import estimate_tokens

    return (f"at most about {estimate_tokens(text)} tokens (o200k; an estimate that errs high — install tiktoken "
            "and set RTK_TOKENIZER_DIR to a folder with o200k_base.tiktoken and o200k_meta.json for the exact count)")


def o200k_counter(folder: str) -> Callable[[str], int] | None:
    """An exact o200k counter from the BPE ranks in ``folder`` (``o200k_base.tiktoken``, ``o200k_meta.json``),
    or ``None`` without tiktoken, or without such a folder."""
    if not (folder := folder.strip()):
        return None
    try:
        import tiktoken
        from tiktoken.load import load_tiktoken_bpe

        meta = json.loads((Path(folder) / "o200k_meta.json").read_text())
        encoding = tiktoken.Encoding(name="o200k_base", pat_str=meta["pat_str"], special_tokens=meta["special_tokens"],
                                     mergeable_ranks=load_tiktoken_bpe(str(Path(folder) / "o200k_base.tiktoken")))
    except Exception as exc:  # tiktoken missing, a broken folder: the caller falls back
        logging.getLogger("rtk_mcp").info("o200k tokenizer in %s unavailable: %s", folder, type(exc).__name__)
        return None
    return lambda text: len(encoding.encode(text, disallowed_special=()))
