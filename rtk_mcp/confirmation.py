"""Destructive calls confirmed with the person, through MCP elicitation, before anything is sent.

The question is asked of the person through their client, never of the model: there is no ``confirm``
argument an agent could fill in itself. It says exactly what will happen, with names ("Remove all 4 people
from meeting "Customer Support Standup"?"), which come from read calls (GETs) made before asking; when a read
fails the question names ids instead.

One table says, for each destructive tool, the sentence and which reads fill it. How the question travels
depends on the protocol the client speaks:

- up to 2025-11-25, as an ``elicitation/create`` request in the middle of the call;
- from 2026-07-28, as an ``input_required`` result: the client asks the person and calls again with the
  answer, which counts only for the same tool and arguments it was asked about (``request_state`` carries a
  digest of them). The state only ever lets the client answer a question it could have answered anyway, so
  it needs no sealing.

A client that declares no elicitation (or a connection that cannot carry a request to the client, such as
stateless HTTP before 2026-07-28) gets the call sent as without this step, and so does every call when the
option is off (``--no-confirm``, ``RTK_CONFIRM=0``): unattended automation has nobody to ask.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import mcp_types as types
from mcp_types.version import is_version_at_least

from rtk_mcp.api.errors import RtkError
from rtk_mcp.sanitize import shortened, strip_invisible

__all__ = ["QUESTIONS", "Fill", "Question", "confirm"]

logger = logging.getLogger("rtk_mcp")

#: The name the question travels under in an ``input_required`` round.
_INPUT_KEY = "rtk_confirm"
#: The first protocol version in which a server asks through an ``input_required`` result.
_INPUT_REQUIRED_SINCE = "2026-07-28"
#: A yes/no question: the answer is the action (accept, decline, cancel), no form fields.
_NO_FIELDS: dict[str, Any] = {"type": "object", "properties": {}}
#: Names from the API are written by people: shown cleaned, on one line, and short.
_MAX_NAME_CHARS = 80

#: Reads a tool (a GET) with arguments and returns its result as the agent would get it.
Read = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Fill:
    """One placeholder of a question, filled from a read: ``field`` (dotted) of ``tool``'s result,
    shown through ``shown``; ``otherwise`` (formatted with the call's arguments) when the read fails."""

    tool: str
    field: str
    shown: str | Callable[[Any], str]
    otherwise: str


@dataclass(frozen=True)
class Question:
    """What a destructive tool asks: ``sentence`` formatted with the call's arguments, the ``fills``
    and ``derived`` values; asked only when ``asks`` says so for the call's arguments."""

    sentence: str
    fills: Mapping[str, Fill] = field(default_factory=dict)
    derived: Callable[[dict[str, Any]], dict[str, str]] = lambda values: {}
    asks: Callable[[dict[str, Any]], bool] = lambda values: True


def _people(count: Any) -> str:
    return "the 1 person" if count == 1 else f"all {count} people"


def _listed(values: dict[str, Any]) -> dict[str, str]:
    ids = [*values.get("participant_ids", []), *values.get("custom_participant_ids", [])]
    shown = ", ".join(_clean(str(i)) for i in ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
    return {"listed": f"{len(ids)} participant{'s' if len(ids) != 1 else ''} ({shown})"}


_MEETING = Fill("get_meeting", "title", 'meeting "{}"', "meeting {meeting_id}")
_LIVE_MEETING = Fill("get_active_session", "meeting_display_name", 'meeting "{}"', "meeting {meeting_id}")
_WEBHOOK = Fill("get_webhook", "name", 'webhook "{}"', "webhook {webhook_id}")
_RESET = " Every setting this call leaves out is reset."

#: Every tool annotated destructive, and what it asks (tests hold the two lists equal).
QUESTIONS: dict[str, Question] = {
    "kick_all_participants": Question(
        "Remove {people} from {meeting}?",
        {"people": Fill("get_active_session", "live_participants", _people, "everyone"), "meeting": _LIVE_MEETING}),
    "kick_participants": Question("Remove {listed} from {meeting}?", {"meeting": _LIVE_MEETING}, derived=_listed),
    "delete_participant": Question(
        "Delete {participant} from {meeting}?",
        {"participant": Fill("get_participant", "name", 'participant "{}"', "participant {participant_id}"),
         "meeting": _MEETING}),
    "replace_meeting": Question("Replace {meeting}?" + _RESET, {"meeting": _MEETING}),
    "update_recording": Question(
        "Stop recording {recording_id} of {meeting}?",
        {"meeting": Fill("get_recording", "meeting.title", 'meeting "{}"', "its meeting")},
        asks=lambda values: values.get("action") == "stop"),
    "stop_meeting_livestream": Question("Stop the livestream of {meeting}?", {"meeting": _MEETING}),
    "replace_webhook": Question("Replace {webhook}?" + _RESET, {"webhook": _WEBHOOK}),
    "delete_webhook": Question("Delete {webhook}? Its URL stops receiving events.", {"webhook": _WEBHOOK}),
    "delete_preset": Question(
        "Delete {preset}?", {"preset": Fill("get_preset", "name", 'preset "{}"', "preset {preset_id}")}),
}


async def confirm(
    ctx: Any, params: types.CallToolRequestParams, tool: str, values: dict[str, Any], read: Read
) -> types.InputRequiredResult | None:
    """Ask the person about the call ``tool`` with (validated) ``values``, if it is a question to ask and
    their client can be asked. ``None``: go ahead and send. From 2026-07-28, the question itself comes
    back, for the client to put to them. Raises :class:`RtkError` when the person did not say yes."""
    question = QUESTIONS.get(tool)
    if question is None or not question.asks(values) or not _can_elicit(ctx):
        return None
    state = _digest(tool, values)
    if is_version_at_least(str(ctx.protocol_version), _INPUT_REQUIRED_SINCE):
        answer = (params.input_responses or {}).get(_INPUT_KEY)
        if isinstance(answer, types.ElicitResult) and params.request_state == state:
            _outcome(answer.action, tool, None)
            return None
        message = await _sentence(question, values, read)
        ask = types.ElicitRequest(params=types.ElicitRequestFormParams(message=message, requested_schema=_NO_FIELDS))
        return types.InputRequiredResult(input_requests={_INPUT_KEY: ask}, request_state=state)
    if not ctx.session.can_send_request:
        logger.info("%s: the client takes elicitation, but this connection cannot carry the question; sent "
                    "without asking", tool)
        return None
    message = await _sentence(question, values, read)
    try:
        answered = await ctx.session.elicit_form(message, _NO_FIELDS, related_request_id=ctx.request_id)
    except Exception as exc:  # the client failed to ask: nobody said yes
        logger.info("%s: the confirmation request failed (%s); not sent", tool, type(exc).__name__)
        _outcome("failed", tool, message)
    _outcome(answered.action, tool, message)
    return None


def _can_elicit(ctx: Any) -> bool:
    """Whether the client declared form elicitation (a bare ``elicitation: {}``, from before modes, counts)."""
    capabilities = ctx.session.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def _digest(tool: str, values: dict[str, Any]) -> str:
    """Which call a question was about: an answer counts only for the same tool and arguments."""
    text = json.dumps({"tool": tool, "arguments": values}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


async def _sentence(question: Question, values: dict[str, Any], read: Read) -> str:
    """The question with names from the reads (each read made once), or ids where a read fails."""
    ids = {key: value for key, value in values.items() if key.endswith("_id")}
    results: dict[str, dict[str, Any] | None] = {}
    filled: dict[str, str] = {}
    for name, fill in question.fills.items():
        if fill.tool not in results:
            try:
                results[fill.tool] = await read(fill.tool, ids)
            except Exception as exc:  # a name we could not get: ask with the id
                if getattr(exc, "details", {}).get("status") == 404:
                    raise  # what the call acts on is not there (or nothing runs): nothing to ask about
                logger.info("confirmation: %s failed (%s); asking with ids", fill.tool, type(exc).__name__)
                results[fill.tool] = None
        found = _field(results[fill.tool], fill.field)
        if found is None:
            filled[name] = fill.otherwise.format_map(values)
        elif callable(fill.shown):
            filled[name] = fill.shown(found)
        else:
            filled[name] = fill.shown.format(_clean(str(found)))
    return question.sentence.format_map({**values, **question.derived(values), **filled})


def _field(result: dict[str, Any] | None, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(result, dict):
            return None
        result = result.get(key)
    return None if result in ("", None) else result


def _clean(text: str) -> str:
    return shortened(" ".join(strip_invisible(text).split()), _MAX_NAME_CHARS)


def _outcome(action: str, tool: str, message: str | None) -> None:
    """Nothing for a yes; otherwise the error that says nothing was sent, and why (``confirmed: false``)."""
    if action == "accept":
        return
    asked = f' when asked "{message}"' if message else ""
    why = {
        "decline": f"the person declined{asked}",
        "cancel": f"the person dismissed the question{asked} without answering",
    }.get(action, "the person could not be asked to confirm it")
    raise RtkError(f"{tool} was not sent: {why}. Nothing was changed. Don't try again unless the person asks for it.",
                   confirmed=False)
