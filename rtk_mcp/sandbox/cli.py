"""``rtk-mcp sandbox …``: what happens in the sandbox outside its API, on a state file.

People join, speak, chat and leave (RealtimeKit's client SDKs do that, so these are never MCP
tools); ``advance`` moves sandbox time for every process sharing the state file; ``play`` plays a
whole meeting from a scenario; ``deliveries`` and ``public-key`` show what webhooks were sent and
how to verify them. Every action that changes the state sends the webhook deliveries it made due
before it exits (waiting at most :data:`DELIVERY_WAIT_S`).

Each action is one entry of :data:`ACTIONS`: ``name -> (help, add its arguments, run it)``.
``play`` calls tools through an in-process MCP server, as an agent would: that is this command
layer's doing; the emulator itself never imports the catalog.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the emulator loads only when an action runs: `rtk-mcp --help` stays cheap
    from .control import Sandbox

__all__ = ["ACTIONS", "DELIVERY_WAIT_S", "add_sandbox_parser", "run_sandbox"]

#: How long an action waits, at most, for its webhook deliveries (retries included) before exiting.
DELIVERY_WAIT_S = 15.0


def _state(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument("--sandbox-state", dest="sandbox_state", metavar="PATH", required=required,
                        help="the sandbox state file (shared with `rtk-mcp --sandbox --sandbox-state PATH`)"
                        + ("" if required else "; default: a fresh in-memory sandbox"))


def _person(parser: argparse.ArgumentParser, text: bool = False) -> None:
    _state(parser)
    parser.add_argument("meeting_id")
    parser.add_argument("participant", help="participant id or custom_participant_id (see add_participant)")
    if text:
        parser.add_argument("text")


def _open(path: str | None) -> Sandbox:
    from .control import Sandbox

    return Sandbox(path)


async def _deliver_and_report(sandbox: Sandbox) -> None:
    left = await sandbox.deliver(timeout=DELIVERY_WAIT_S)
    if left:
        print(f"rtk-mcp sandbox: {left} webhook deliveries still pending (retrying); any sandbox process on "
              "this state file sends them", file=sys.stderr)


def _people_action(name: str) -> Callable[[argparse.Namespace], Any]:
    async def run(args: argparse.Namespace) -> int:
        sandbox = _open(args.sandbox_state)
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
    if args.seconds < 0:
        from .people import ControlError

        raise ControlError("the sandbox clock only moves forward; give a positive number of seconds")
    sandbox = _open(args.sandbox_state)
    print(f"sandbox time is now {await sandbox.advance(args.seconds)}")
    await _deliver_and_report(sandbox)
    return 0


def _add_play(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", nargs="?", help="scenario JSON file (default: the example standup)")
    _state(parser, required=False)
    parser.add_argument("--webhook", action="append", default=[], metavar="URL",
                        help="register a webhook for every event at URL first (repeatable)")


async def _play(args: argparse.Namespace) -> int:
    from mcp import Client

    from rtk_mcp.sandbox import sandbox_settings
    from rtk_mcp.server import build_server, text_of

    from .events import EVENTS
    from .scenario import ScenarioError, load_scenario, play

    scenario = load_scenario(args.scenario)
    sandbox = _open(args.sandbox_state)
    async with Client(build_server(sandbox_settings(), transport=sandbox.transport())) as client:

        async def call_tool(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
            result = await client.call_tool(tool, arguments)
            if result.is_error:
                raise ScenarioError(f"{tool} failed: {text_of(result)}")
            return result.structured_content or {}

        for url in args.webhook:
            hook = await call_tool("create_webhook", {"name": "rtk-mcp sandbox play", "url": url, "events": list(EVENTS)})
            print(f"webhook {hook['id']} -> {url}")
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
    deliveries = _open(args.sandbox_state).deliveries(args.webhook_id)
    if args.json:
        print(json.dumps(deliveries, indent=2))
        return 0
    for d in deliveries:
        answers = ", ".join(str(a["status_code"] or a["error"]) for a in d["attempts"]) or "-"
        print(f"{d['at']}  {d['event']:27} {d['status']:9} {d['id']}  {d['url']}  answers: {answers}")
    _print_deliveries(deliveries)
    return 0


def _add_public_key(parser: argparse.ArgumentParser) -> None:
    _state(parser)


async def _public_key(args: argparse.Namespace) -> int:
    print(_open(args.sandbox_state).public_key(), end="")
    return 0


#: name -> (help, add its arguments, run it)
ACTIONS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], Any]]] = {
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
    "public-key": ("the PEM public key that verifies the rtk-signature header", _add_public_key, _public_key),
}


def add_sandbox_parser(commands: Any) -> None:
    """Add ``sandbox`` and its actions to the ``rtk-mcp`` subcommands."""
    parser = commands.add_parser("sandbox", help="drive the offline sandbox: people, time, scenarios, webhooks")
    actions = parser.add_subparsers(dest="sandbox_action", metavar="ACTION", required=True)
    for name, (help_text, add_arguments, _) in ACTIONS.items():
        add_arguments(actions.add_parser(name, help=help_text, description=help_text))


def run_sandbox(args: argparse.Namespace) -> int:
    """Run the chosen action; a refusal is one line on stderr, exit status 1 (2 for an unusable state file)."""
    import anyio

    from .people import ControlError
    from .scenario import ScenarioError
    from .store import SandboxStateError

    try:
        return anyio.run(ACTIONS[args.sandbox_action][2], args)
    except SandboxStateError as exc:
        print(f"rtk-mcp sandbox: {exc}", file=sys.stderr)
        return 2
    except (ControlError, ScenarioError) as exc:
        print(f"rtk-mcp sandbox: error: {exc}", file=sys.stderr)
        return 1
