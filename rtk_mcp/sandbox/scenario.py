"""Playing a whole meeting from a scenario file, on the sandbox clock, without waiting in real time.

A scenario is JSON::

    {
      "description": "what it shows",
      "meeting": {"title": "Daily standup", "record_on_start": true},      # create_meeting arguments
      "participants": [{"custom_participant_id": "ada", "name": "Ada", "preset_name": "group_call_host"}],
      "steps": [
        {"at": 0, "join": "ada"},
        {"at": 5, "say": "ada", "text": "Good morning"},
        {"at": 9, "chat": "ada", "text": "Agenda: https://notes.example.com"},
        {"at": 30, "call": "create_poll", "arguments": {"meeting_id": "{meeting_id}", "question": "Lunch?",
                                                        "options": ["yes", "no"]}, "save": "poll"},
        {"at": 90, "leave": "ada"}
      ],
      "end_at": 300
    }

``at`` is seconds of sandbox time after the play starts; steps run in that order, the sandbox clock
(shared with every process on the state file) moved forward to each. ``join``/``say``/``chat``/
``leave`` name a participant by ``custom_participant_id``. ``call`` runs one MCP tool through the
API; strings in its ``arguments`` may use ``{meeting_id}`` and the results of earlier steps saved
with ``save`` (``{poll[poll][id]}``). After the last step the clock moves on to ``end_at``, so what
the meeting set off (sessions ending, uploads, summaries) has happened when the play ends.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from .clock import MAX_STEP_S, parse_ts
from .control import Sandbox

__all__ = ["EXAMPLE", "ScenarioError", "load_scenario", "play"]

#: The scenario ``rtk-mcp sandbox play`` plays when given no file.
EXAMPLE = "standup.json"

CallTool = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
Say = Callable[[str], None]
_PEOPLE_STEPS = ("join", "say", "chat", "leave")


class ScenarioError(Exception):
    """The scenario cannot be played (one sentence saying which step and why)."""


def load_scenario(path: str | Path | None = None) -> dict[str, Any]:
    """The scenario in *path*, or the shipped example; checked before anything is played."""
    try:
        if path is None:
            text = (resources.files("rtk_mcp.sandbox") / "scenarios" / EXAMPLE).read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        scenario = json.loads(text)
    except (OSError, ValueError) as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc}") from None
    _check(scenario)
    return scenario


def _check(scenario: Any) -> None:
    if not isinstance(scenario, dict) or not isinstance(scenario.get("steps"), list):
        raise ScenarioError("a scenario is a JSON object with a list of steps")
    if not isinstance(scenario.get("meeting", {}), dict) or not isinstance(scenario.get("participants", []), list):
        raise ScenarioError("'meeting' must be an object and 'participants' a list")
    last = 0.0
    for n, step in enumerate(scenario["steps"], 1):
        kinds = [k for k in (*_PEOPLE_STEPS, "call") if k in step] if isinstance(step, dict) else []
        if len(kinds) != 1:
            raise ScenarioError(f"step {n}: needs exactly one of join, say, chat, leave, call")
        at = step.get("at")
        if isinstance(at, bool) or not isinstance(at, (int, float)) or not last <= at <= MAX_STEP_S:
            raise ScenarioError(f"step {n}: 'at' must be a number of seconds (at most {MAX_STEP_S}), not before the "
                                "step before it")
        if kinds[0] in ("say", "chat") and not isinstance(step.get("text"), str):
            raise ScenarioError(f"step {n}: {kinds[0]} needs a 'text'")
        last = at
    end_at = scenario.get("end_at", last)
    if isinstance(end_at, bool) or not isinstance(end_at, (int, float)) or not last <= end_at <= MAX_STEP_S:
        raise ScenarioError("'end_at' must be a number of seconds, not before the last step")


def _fill(value: Any, variables: dict[str, Any]) -> Any:
    """*value* with ``{name}`` placeholders in its strings replaced from *variables*."""
    if isinstance(value, str):
        try:
            return value.format_map(variables)
        except (KeyError, IndexError, ValueError) as exc:
            raise ScenarioError(f"{value!r}: nothing to fill in for {exc}") from None
    if isinstance(value, list):
        return [_fill(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, variables) for k, v in value.items()}
    return value


async def play(scenario: dict[str, Any], sandbox: Sandbox, call_tool: CallTool, say: Say = print) -> dict[str, Any]:
    """Play *scenario* on *sandbox*, calling tools with *call_tool* and reporting each step with *say*.

    Answers the variables of the play (``meeting_id`` and every saved result).
    """
    meeting = await call_tool("create_meeting", scenario.get("meeting", {}))
    variables: dict[str, Any] = {"meeting_id": meeting["id"]}
    say(f"meeting {meeting['id']} ({meeting.get('title') or 'untitled'})")
    for person in scenario.get("participants", []):
        await call_tool("add_participant", {"meeting_id": meeting["id"], **person})
    start = parse_ts(sandbox.now())
    for n, step in enumerate(scenario["steps"], 1):
        await _move_to(sandbox, start, step["at"])
        try:
            await _step(step, sandbox, call_tool, variables, say)
        except ScenarioError:
            raise
        except Exception as exc:
            raise ScenarioError(f"step {n} (at {step['at']} s): {exc}") from None
        await sandbox.deliver(timeout=0)  # what is due goes out as the play passes it; retries wait for the end
    await _move_to(sandbox, start, scenario.get("end_at", scenario["steps"][-1]["at"] if scenario["steps"] else 0))
    return variables


async def _move_to(sandbox: Sandbox, start: datetime, at: float) -> None:
    behind = (start - parse_ts(sandbox.now())).total_seconds() + at
    if behind > 0:
        await sandbox.advance(behind)


async def _step(step: dict[str, Any], sandbox: Sandbox, call_tool: CallTool, variables: dict[str, Any], say: Say) -> None:
    meeting_id = variables["meeting_id"]
    when = f"+{step['at']:g}s"
    if "call" in step:
        result = await call_tool(step["call"], _fill(step.get("arguments", {}), variables))
        if step.get("save"):
            variables[step["save"]] = result
        say(f"{when:>7} {step['call']}")
    elif "join" in step:
        await sandbox.join(meeting_id, step["join"])
        say(f"{when:>7} {step['join']} joins")
    elif "leave" in step:
        await sandbox.leave(meeting_id, step["leave"])
        say(f"{when:>7} {step['leave']} leaves")
    elif "say" in step:
        await sandbox.say(meeting_id, step["say"], step["text"])
        say(f"{when:>7} {step['say']}: {step['text']}")
    else:
        await sandbox.chat(meeting_id, step["chat"], step["text"])
        say(f"{when:>7} {step['chat']} (chat): {step['text']}")
