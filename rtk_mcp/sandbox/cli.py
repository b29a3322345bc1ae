"""``rtk-mcp sandbox …``: commands that work on the sandbox itself rather than through MCP.

Each subcommand is one ``add_*_parser(subparsers)`` that declares it and one ``*_command(args) ->
int`` that runs it (the exit status); :func:`build_sandbox_parser` lists them, and :mod:`rtk_mcp.cli`
hands every argument after ``sandbox`` to :func:`sandbox_main`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["add_fault_parser", "add_serve_parser", "build_sandbox_parser", "fault_command", "sandbox_main",
           "serve_command"]


def build_sandbox_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rtk-mcp sandbox", description="Work on the offline RealtimeKit emulator.")
    commands = parser.add_subparsers(dest="sandbox_command", metavar="COMMAND", required=True)
    add_serve_parser(commands)
    add_fault_parser(commands)
    return parser


def sandbox_main(argv: list[str], given: argparse.Namespace | None = None) -> int:
    """Run ``rtk-mcp sandbox ARGV``; *given* holds what the top-level parser read (e.g. ``--sandbox-state``)."""
    args = build_sandbox_parser().parse_args(argv, namespace=argparse.Namespace(**vars(given or argparse.Namespace())))
    return int(args.sandbox_run(args))


def _state_flag(parser: argparse.ArgumentParser, help: str) -> None:
    # SUPPRESS: a --sandbox-state given before `sandbox` (the top-level flag) is kept.
    parser.add_argument("--sandbox-state", dest="sandbox_state", metavar="PATH", default=argparse.SUPPRESS, help=help)


def _fail(message: str) -> int:
    print(f"rtk-mcp: {message}", file=sys.stderr)
    return 2


# ---------------------------------------------------------------------- serve

def add_serve_parser(subparsers: Any) -> None:
    from .serve import DEFAULT_HOST, DEFAULT_PORT

    serve = subparsers.add_parser(
        "serve", help="serve the emulator over HTTP at the live API's paths, for any RealtimeKit client",
        description="Serve the RealtimeKit API emulator at http://HOST:PORT/client/v4 (give that as the base URL "
                    "to the cloudflare SDK, curl or another MCP server).")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST}; the emulator "
                       "asks for no credentials, so keep it on loopback)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT,
                       help=f"port (default {DEFAULT_PORT}; 0 picks a free one, shown at startup)")
    _state_flag(serve, "keep the state in this file, shared with every sandbox opened on it (default: in memory)")
    serve.set_defaults(sandbox_run=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    from .app import sandbox_app
    from .serve import describe, listen, serve
    from .store import SandboxStateError

    state_path = getattr(args, "sandbox_state", None)
    if not 0 <= args.port <= 65535:
        return _fail(f"--port {args.port} is not a port number (0 to 65535)")
    try:
        app = sandbox_app(state_path)
    except SandboxStateError as exc:  # before anything is served
        return _fail(str(exc))
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc}); choose another --port, "
                     "or --port 0 for a free one")
    with sock:
        print(describe(sock, state_path), file=sys.stderr, flush=True)
        serve(sock, app)
    return 0


# ---------------------------------------------------------------------- fault

def add_fault_parser(subparsers: Any) -> None:
    fault = subparsers.add_parser(
        "fault", help="switch failures on and off (401, 403, 429, 5xx, an ERRORED recording)",
        description="Make every sandbox using the state file fail on demand. Faults live in the state file, so "
                    "give the same --sandbox-state as the sandbox under test.")
    _state_flag(fault, "the sandbox's state file (required)")
    actions = fault.add_subparsers(dest="fault_action", metavar="ACTION", required=True)

    on = actions.add_parser("on", help="answer a status to matching requests")
    on.add_argument("status", type=int, help="401, 403, 429, or 500-599")
    on.add_argument("--operation", help="only this operation (a tool name, e.g. create_meeting)")
    on.add_argument("--path", help="only request paths matching this glob, e.g. '*/recordings*'")
    on.add_argument("--times", type=int, help="only this many requests (default: until switched off)")
    on.add_argument("--retry-after", type=float, help="seconds in Retry-After (429 default: 300)")
    on.add_argument("--message", help="the error message in the body")
    _state_flag(on, "the sandbox's state file")

    recording = actions.add_parser("recording", help="end a recording ERRORED")
    recording.add_argument("recording_id", nargs="?", help="this recording (default: the next one in progress)")
    _state_flag(recording, "the sandbox's state file")

    off = actions.add_parser("off", help="switch off one fault, or all")
    off.add_argument("fault_id", nargs="?", help="the fault's id (default: all)")
    _state_flag(off, "the sandbox's state file")

    listed = actions.add_parser("list", help="the faults switched on, one JSON object a line")
    _state_flag(listed, "the sandbox's state file")
    fault.set_defaults(sandbox_run=fault_command)


def fault_command(args: argparse.Namespace) -> int:
    from .faults import FaultError, Faults
    from .store import SandboxStateError

    state_path = getattr(args, "sandbox_state", None)
    if not state_path:
        return _fail("faults live in the sandbox's state file: give --sandbox-state PATH, the file the sandbox "
                     "under test uses")
    faults = Faults(state_path)
    try:
        if args.fault_action == "on":
            fault_id = faults.fail(args.status, operation=args.operation, path=args.path, times=args.times,
                                   retry_after=args.retry_after, message=args.message)
            print(fault_id)
        elif args.fault_action == "recording":
            print(faults.fail_recording(args.recording_id))
        elif args.fault_action == "off":
            count = faults.clear(args.fault_id)
            if args.fault_id and not count:
                return _fail(f"no fault {args.fault_id!r} is on (`rtk-mcp sandbox fault list` shows them)")
        else:
            for fault in faults.list():
                print(json.dumps(fault, separators=(",", ":")))
    except (FaultError, SandboxStateError) as exc:
        return _fail(str(exc))
    return 0
