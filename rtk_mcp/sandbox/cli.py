"""``rtk-mcp sandbox …``: commands that work on the sandbox itself rather than through MCP.

``serve`` runs the emulator over HTTP for any RealtimeKit client (and delivers its webhooks while
it runs); ``fault`` switches failures on and off. People join, speak, chat and leave (RealtimeKit's
client SDKs do that, so these are never MCP tools); ``advance`` moves sandbox time for every
process sharing the state file; ``play`` plays a whole meeting from a scenario; ``deliveries`` and
``public-key`` show what webhooks were sent and how to verify them. Every action that changes the
state sends the webhook deliveries it made due before it exits (waiting at most
:data:`DELIVERY_WAIT_S`).

Each command is one entry of :data:`ACTIONS`: ``name -> (help, add its arguments, run it)``, run
as a coroutine. :mod:`rtk_mcp.cli` hands every argument after ``sandbox`` to :func:`sandbox_main`,
so this module (and the emulator, loaded only when a command runs) is never imported by an MCP
server. ``play`` calls tools through an in-process MCP server, as an agent would: that is this
command layer's doing; the emulator itself never imports the catalog.

A refusal is one line on stderr, ``rtk-mcp sandbox: error: …``: exit status 2 when the command
cannot run as given (its arguments, or an unusable state file), 1 when the sandbox refused what it
was asked to do (a participant who is not there, a scenario step that failed).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the emulator loads only when a command runs
    from .control import Sandbox

__all__ = ["ACTIONS", "DELIVERY_WAIT_S", "build_sandbox_parser", "sandbox_main"]

#: How long an action waits, at most, for its webhook deliveries (retries included) before exiting.
DELIVERY_WAIT_S = 15.0


class UsageError(Exception):
    """The command cannot run as given (one sentence saying what to give instead)."""


def build_sandbox_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rtk-mcp sandbox", description="Work on the offline RealtimeKit emulator.")
    commands = parser.add_subparsers(dest="sandbox_command", metavar="COMMAND", required=True)
    for name, (help_text, add_arguments, _) in ACTIONS.items():
        add_arguments(commands.add_parser(name, help=help_text, description=help_text))
    return parser


def sandbox_main(argv: list[str], given: argparse.Namespace | None = None) -> int:
    """Run ``rtk-mcp sandbox ARGV``; *given* holds what the top-level parser read (e.g. ``--sandbox-state``)."""
    import anyio

    from .faults import FaultError
    from .people import ControlError
    from .scenario import ScenarioError
    from .store import SandboxStateError

    args = build_sandbox_parser().parse_args(argv, namespace=argparse.Namespace(**vars(given or argparse.Namespace())))
    try:
        return int(anyio.run(ACTIONS[args.sandbox_command][2], args))
    except Exception as raised:
        error = raised
        while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:  # raised inside a client
            error = error.exceptions[0]
        if isinstance(error, (UsageError, SandboxStateError, FaultError)):
            return _refuse(error, 2)
        if isinstance(error, (ControlError, ScenarioError)):
            return _refuse(error, 1)
        raise


def _refuse(exc: Exception, status: int) -> int:
    print(f"rtk-mcp sandbox: error: {exc}", file=sys.stderr)
    return status


# ---------------------------------------------------------------------- arguments shared by commands

def _state(parser: argparse.ArgumentParser, help: str = "the sandbox state file (shared with "
           "`rtk-mcp --sandbox --sandbox-state PATH`)") -> None:
    # SUPPRESS: a --sandbox-state given before `sandbox` (the top-level flag) is kept.
    parser.add_argument("--sandbox-state", dest="sandbox_state", metavar="PATH", default=argparse.SUPPRESS, help=help)


def _state_path(args: argparse.Namespace, why: str = "this command works on a sandbox state file") -> str:
    path = getattr(args, "sandbox_state", None)
    if not path:
        raise UsageError(f"{why}: give --sandbox-state PATH")
    return str(path)


def _open(path: str | None) -> Sandbox:
    from .control import Sandbox

    return Sandbox(path)


async def _deliver_and_report(sandbox: Sandbox) -> None:
    left = await sandbox.deliver(timeout=DELIVERY_WAIT_S)
    if left:
        print(f"rtk-mcp sandbox: {left} webhook deliveries still pending (retrying); any sandbox process on "
              "this state file sends them", file=sys.stderr)


# ---------------------------------------------------------------------- serve

def _add_serve(parser: argparse.ArgumentParser) -> None:
    from .serve import DEFAULT_HOST, DEFAULT_PORT

    parser.description = ("Serve the RealtimeKit API emulator at http://HOST:PORT/client/v4 (give that as the base URL "
                          "to the cloudflare SDK, curl or another MCP server), and deliver its webhooks while it runs.")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST}; the emulator "
                        "asks for no credentials, so keep it on loopback)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT}; 0 picks a free one, shown at startup)")
    _state(parser, "keep the state in this file, shared with every sandbox opened on it (default: in memory)")


async def _serve(args: argparse.Namespace) -> int:
    from .serve import describe, listen, serve

    state_path = getattr(args, "sandbox_state", None)
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a port number (0 to 65535)")
    sandbox = _open(state_path)  # an unusable state file is refused here, before anything is served
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc}); choose another --port, "
                         "or --port 0 for a free one") from None
    with sock:
        print(describe(sock, state_path), file=sys.stderr, flush=True)
        await serve(sock, sandbox.app(), sandbox.deliver_forever)
    return 0


# ---------------------------------------------------------------------- fault

def _add_fault(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Make every sandbox using the state file fail on demand. Faults live in the state file, so "
                          "give the same --sandbox-state as the sandbox under test.")
    _state(parser, "the sandbox's state file (required)")
    actions = parser.add_subparsers(dest="fault_action", metavar="ACTION", required=True)

    on = actions.add_parser("on", help="answer a status to matching requests")
    on.add_argument("status", type=int, help="401, 403, 429, or 500-599")
    on.add_argument("--operation", help="only this operation (a tool name, e.g. create_meeting)")
    on.add_argument("--path", help="only request paths matching this glob, e.g. '*/recordings*'")
    on.add_argument("--times", type=int, help="only this many requests (default: until switched off)")
    on.add_argument("--retry-after", type=float, help="seconds in Retry-After (429 default: 300)")
    on.add_argument("--message", help="the error message in the body")

    recording = actions.add_parser("recording", help="end a recording ERRORED")
    recording.add_argument("recording_id", nargs="?", help="this recording (default: the next one in progress)")

    off = actions.add_parser("off", help="switch off one fault, or all")
    off.add_argument("fault_id", nargs="?", help="the fault's id (default: all)")

    actions.add_parser("list", help="the faults switched on, one JSON object a line")
    for action in (on, recording, off, actions.choices["list"]):
        _state(action, "the sandbox's state file")


async def _fault(args: argparse.Namespace) -> int:
    from .faults import Faults

    faults = Faults(_state_path(args, "faults live in the sandbox's state file, the one the sandbox under test uses"))
    if args.fault_action == "on":
        print(faults.fail(args.status, operation=args.operation, path=args.path, times=args.times,
                          retry_after=args.retry_after, message=args.message))
    elif args.fault_action == "recording":
        print(faults.fail_recording(args.recording_id))
    elif args.fault_action == "off":
        if not faults.clear(args.fault_id) and args.fault_id:
            raise UsageError(f"no fault {args.fault_id!r} is on (`rtk-mcp sandbox fault list` shows them)")
    else:
        for fault in faults.list():
            print(json.dumps(fault, separators=(",", ":")))
    return 0


# ---------------------------------------------------------------------- people and time

def _person(parser: argparse.ArgumentParser, text: bool = False) -> None:
    _state(parser)
    parser.add_argument("meeting_id")
    parser.add_argument("participant", help="participant id or custom_participant_id (see add_participant)")
    if text:
        parser.add_argument("text")


def _people_action(name: str) -> Callable[[argparse.Namespace], Awaitable[int]]:
    async def run(args: argparse.Namespace) -> int:
        sandbox = _open(_state_path(args))
        control = getattr(sandbox, name)
        extra = (args.text,) if name in ("say", "chat") else ()
        print(json.dumps(await control(args.meeting_id, args.participant, *extra), indent=2))
        await _deliver_and_report(sandbox)
        return 0

    return run


def _add_advance(parser: argparse.ArgumentParser) -> None:
    _state(parser)
    parser.add_argument("seconds", type=float, help="how far to move sandbox time forward")


async def _advance(args: argparse.Namespace) -> int:
    sandbox = _open(_state_path(args))
    try:
        moved = await sandbox.advance(args.seconds)
    except ValueError as exc:  # the step itself (a step back, NaN, beyond a century): nothing was opened
        raise UsageError(str(exc)) from None
    print(f"sandbox time is now {moved}")
    await _deliver_and_report(sandbox)
    return 0


# ---------------------------------------------------------------------- scenarios

def _add_play(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", nargs="?", help="scenario JSON file (default: the example standup)")
    _state(parser, "the sandbox state file (default: a fresh in-memory sandbox)")
    parser.add_argument("--webhook", action="append", default=[], metavar="URL",
                        help="register a webhook for every event at URL first (repeatable)")


async def _play(args: argparse.Namespace) -> int:
    from mcp import Client

    from rtk_mcp.sandbox import sandbox_settings
    from rtk_mcp.server import build_server, text_of

    from .events import EVENTS
    from .scenario import ScenarioError, load_scenario, play

    scenario = load_scenario(args.scenario)
    sandbox = _open(getattr(args, "sandbox_state", None))
    async with Client(build_server(sandbox_settings(), transport=sandbox.transport())) as client:

        async def call_tool(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
            result = await client.call_tool(tool, arguments)
            if result.is_error:
                raise ScenarioError(f"{tool} failed: {text_of(result)}")
            return result.structured_content or {}

        registered = {hook["url"]: hook for hook in (await call_tool("list_webhooks", {})).get("data", [])}
        for url in args.webhook:  # a second play on the same file reuses the webhook rather than doubling events
            hook = registered.get(url) or await call_tool(
                "create_webhook", {"name": "rtk-mcp sandbox play", "url": url, "events": list(EVENTS)})
            print(f"webhook {hook['id']} -> {url}" + (" (already registered)" if url in registered else ""))
        if scenario.get("description"):
            print(scenario["description"])
        variables = await play(scenario, sandbox, call_tool)
        await _deliver_and_report(sandbox)
        await _report(call_tool, variables["meeting_id"])
    _print_deliveries(sandbox.deliveries())
    return 0


async def _report(call_tool: Callable[..., Any], meeting_id: str) -> None:
    """What the play left behind, read through the API as an agent would."""
    sessions = (await call_tool("list_sessions", {"associated_id": meeting_id, "sort_order": "ASC"}))["sessions"]
    recordings = (await call_tool("list_recordings", {"meeting_id": meeting_id}))["data"]
    for session in sessions:
        recorded = [r["status"] for r in recordings if r["session_id"] == session["id"]]
        print(f"session {session['id']}: {session['status']}, {session['minutes_consumed']} minutes, "
              f"recording {', '.join(recorded) or 'none'}")


# ---------------------------------------------------------------------- webhooks

def _print_deliveries(deliveries: list[dict[str, Any]]) -> None:
    counts: dict[str, int] = {}
    for delivery in deliveries:
        counts[delivery["status"]] = counts.get(delivery["status"], 0) + 1
    print("webhook deliveries: " + (", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none"))


def _add_deliveries(parser: argparse.ArgumentParser) -> None:
    _state(parser)
    parser.add_argument("--webhook-id", help="only this webhook's deliveries")
    parser.add_argument("--json", action="store_true", help="every delivery as JSON, with its body and attempts")


async def _deliveries(args: argparse.Namespace) -> int:
    deliveries = _open(_state_path(args)).deliveries(args.webhook_id)
    if args.json:
        print(json.dumps(deliveries, indent=2))
        return 0
    for d in deliveries:
        answers = ", ".join(str(a["status_code"] or a["error"]) for a in d["attempts"]) or "-"
        print(f"{d['at']}  {d['event']:27} {d['status']:9} {d['id']}  {d['url']}  answers: {answers}")
    _print_deliveries(deliveries)
    return 0


async def _public_key(args: argparse.Namespace) -> int:
    print(_open(_state_path(args)).public_key(), end="")
    return 0


#: name -> (help, add its arguments, run it)
ACTIONS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], Awaitable[int]]]] = {
    "serve": ("serve the emulator over HTTP at the live API's paths, for any RealtimeKit client, delivering its webhooks",
              _add_serve, _serve),
    "fault": ("switch failures on and off (401, 403, 429, 5xx, an ERRORED recording)", _add_fault, _fault),
    "join": ("a participant joins a meeting (the first join starts a session)", _person, _people_action("join")),
    "say": ("a participant who has joined says TEXT (a transcript line)", lambda p: _person(p, text=True),
            _people_action("say")),
    "chat": ("a participant who has joined writes TEXT in the chat", lambda p: _person(p, text=True),
             _people_action("chat")),
    "leave": ("a participant leaves (the last leave starts the keep-alive countdown)", _person, _people_action("leave")),
    "advance": ("move sandbox time forward SECONDS for every process on the state file", _add_advance, _advance),
    "play": ("play a meeting from a scenario file on the sandbox clock (no file: the example standup)", _add_play, _play),
    "deliveries": ("webhook deliveries: what was sent where, and how each attempt was answered", _add_deliveries,
                   _deliveries),
    "public-key": ("the PEM public key that verifies the rtk-signature header", _state, _public_key),
}
