"""Failures on demand: make the sandbox answer 401, 403, 429 or a 5xx, or end a recording ``ERRORED``.

A fault is a row of the state (the ``faults`` collection), so every sandbox sharing a state file —
``rtk-mcp sandbox serve``, an MCP server started with ``--sandbox-state``, a test — sees it as
soon as it is switched on, and a count it carries is used up once across all of them.

* A **status fault** answers matching requests with its status instead of serving them. It matches
  every request, or one operation (``operation``: the tool / handler name, e.g. ``create_meeting``),
  or request paths matching a glob (``path``: ``*/recordings*``), or both. It holds for ``times``
  requests, or until switched off. A 429 carries ``Retry-After`` (default 300 s: "over it, 429 for
  5 minutes", the published Cloudflare API limit); a 5xx carries one only when given.
* A **recording fault** ends a recording ``ERRORED`` (stop reason ``INTERNAL_ERROR``): the one
  named, or else the next recording seen in progress (invoked, recording, paused or uploading).
  It is used up by that one recording, which sends its ``recording.statusUpdate`` webhook like
  any status change. Recording faults act wherever the sandbox's lifecycles move on (every
  request, and every pass of the webhook delivery loop), in
  :func:`~rtk_mcp.sandbox.handlers.recordings.break_recordings`.

Faults are checked in the request's own transaction, before anything else (as the live API
checks the token before the body), and when several match, the oldest answers.

Error bodies: the reference leaves them undocumented, so these are the sandbox's choice —
Cloudflare's v4 ``errors[]`` envelope (one of the shapes the reference says to expect), with the
code and message Cloudflare's API gateway answers for a token it refuses (``10000``,
"Authentication error") and for its rate limit (``971``, "Please wait and consider throttling your
request speed"), and the status's reason phrase for a 5xx. A fault can carry its own message.

From Python, :class:`Faults` switches faults in a state file (``rtk_mcp.testing`` re-exports it);
from the command line, ``rtk-mcp sandbox fault``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from os import PathLike
from typing import Any

from .handlers import ROUTES
from .handlers.recordings import IN_PROGRESS
from .store import State, Store

__all__ = [
    "OPERATIONS",
    "STATUSES",
    "FaultError",
    "Faults",
    "add_recording_fault",
    "add_status_fault",
    "answer_fault",
    "remove_faults",
]

Record = dict[str, Any]

#: Every operation a status fault can be scoped to: the handler (and tool) names.
OPERATIONS = frozenset(handler.__name__ for _, _, handler in ROUTES)
#: The statuses a status fault can answer.
STATUSES = (401, 403, 429, *range(500, 600))
#: The published Cloudflare API limit blocks a token for five minutes once it is exceeded.
DEFAULT_RETRY_AFTER_S = 300
#: (code, message) in the body of each status, where Cloudflare's API has its own.
_GATEWAY_ERRORS = {
    401: (10000, "Authentication error"),
    403: (10000, "Authentication error"),
    429: (971, "Please wait and consider throttling your request speed"),
}


class FaultError(ValueError):
    """A fault that cannot be switched on as asked (one sentence saying why)."""


def _next_id(state: State) -> str:
    return str(1 + max((int(fault_id) for fault_id in state["faults"]), default=0))


def _ordered(state: State, kind: str) -> list[Record]:
    return sorted((f for f in state["faults"].values() if f["kind"] == kind), key=lambda f: int(f["id"]))


def add_status_fault(
    state: State, status: int, *, operation: str | None = None, path: str | None = None, times: int | None = None,
    retry_after: float | None = None, message: str | None = None,
) -> Record:
    if status not in STATUSES:
        raise FaultError(f"status {status} is not one a fault answers: 401, 403, 429 or 500-599")
    if operation is not None and operation not in OPERATIONS:
        raise FaultError(f"{operation!r} is not an operation of the sandbox (tool names such as list_meetings)")
    if times is not None and times < 1:
        raise FaultError("times must be at least 1 (leave it out for a fault that holds until switched off)")
    if retry_after is not None and retry_after < 0:
        raise FaultError("retry_after must be 0 or more seconds")
    if status == 429 and retry_after is None:
        retry_after = DEFAULT_RETRY_AFTER_S
    fault = {"id": _next_id(state), "kind": "status", "status": status, "operation": operation, "path": path, "times": times,
             "retry_after": retry_after, "message": message}
    state["faults"][fault["id"]] = fault
    return fault


def add_recording_fault(state: State, recording_id: str | None = None) -> Record:
    if recording_id is not None:
        recording = state["recordings"].get(recording_id)
        if recording is None or recording["status"] not in IN_PROGRESS:
            raise FaultError(f"recording {recording_id!r} is not in progress (no such recording, or it has ended)")
    fault = {"id": _next_id(state), "kind": "recording", "recording_id": recording_id}
    state["faults"][fault["id"]] = fault
    return fault


def remove_faults(state: State, fault_id: str | None = None) -> int:
    """Switch off one fault, or all of them; how many were on."""
    faults = state["faults"]
    if fault_id is None:
        count = len(faults)
        faults.clear()
        return count
    return 0 if faults.pop(fault_id, None) is None else 1


def answer_fault(state: State, operation: str, path: str) -> tuple[int, Record, dict[str, str]] | None:
    """The answer of the oldest status fault matching this request, counting it used; None if none match."""
    for fault in _ordered(state, "status"):
        if fault["operation"] not in (None, operation) or (fault["path"] and not fnmatch.fnmatchcase(path, fault["path"])):
            continue
        if fault["times"] is not None:
            fault["times"] -= 1
            if fault["times"] == 0:
                del state["faults"][fault["id"]]
        status = fault["status"]
        code, message = _GATEWAY_ERRORS.get(status, (status, _phrase(status)))
        body = {"success": False, "errors": [{"code": code, "message": fault["message"] or message}],
                "messages": [], "result": None}
        headers = {} if fault["retry_after"] is None else {"Retry-After": f"{fault['retry_after']:g}"}
        return status, body, headers
    return None


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Server Error"


class Faults:
    """Switch faults on and off in the sandbox state file *state_path* (created from the seed if new).

    Every sandbox using the file — ``rtk-mcp sandbox serve``, ``rtk-mcp --sandbox --sandbox-state``,
    ``sandbox_client(state_path)`` — sees a change at its next request::

        faults = Faults(tmp_path / "state.db")
        fault_id = faults.fail(429, operation="create_meeting", times=1)
        ...
        faults.clear()

    Each method is one short transaction on the file (a blocking call; it waits, like any request,
    while another process holds the file's lock).
    """

    def __init__(self, state_path: str | PathLike[str]) -> None:
        self.state_path = state_path

    def fail(self, status: int, *, operation: str | None = None, path: str | None = None, times: int | None = None,
             retry_after: float | None = None, message: str | None = None) -> str:
        """Answer *status* to every request, or to those of *operation* (a tool name) and/or matching the glob *path*,
        *times* times or until cleared; the new fault's id."""
        with self._state() as state:
            return add_status_fault(state, status, operation=operation, path=path, times=times, retry_after=retry_after,
                                    message=message)["id"]

    def fail_recording(self, recording_id: str | None = None) -> str:
        """End *recording_id* (else the next recording in progress) ``ERRORED``; the new fault's id."""
        with self._state() as state:
            return add_recording_fault(state, recording_id)["id"]

    def clear(self, fault_id: str | None = None) -> int:
        """Switch off one fault, or all; how many were switched off."""
        with self._state() as state:
            return remove_faults(state, fault_id)

    def list(self) -> list[Record]:
        """The faults switched on, oldest first."""
        with self._state() as state:
            return sorted(state["faults"].values(), key=lambda f: int(f["id"]))

    @contextmanager
    def _state(self) -> Iterator[State]:
        from .clock import SystemClock
        from .seed import build_state

        store = Store(lambda: build_state(SystemClock().now()), self.state_path)
        try:
            with store.transaction() as state:
                yield state
        finally:
            store.close()
