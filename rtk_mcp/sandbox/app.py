"""The Starlette application: route table -> routes, one state transaction per request, errors, files."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Match, Route

from .clock import Clock, SystemClock, parse_ts, sandbox_now
from .events import remember_base_url
from .faults import answer_fault
from .handlers import ROUTES, Call, ErrorReply, Reply, advance_all
from .seed import build_state
from .signing import PUBLIC_KEY_PATH, public_key
from .store import LOCK_WAIT_S, SandboxStateError, Store
from .validate import body_problem, takes_body

__all__ = ["API_PREFIX", "STATE_PROBLEM", "build_app", "sandbox_app"]

logger = logging.getLogger("rtk_mcp.sandbox")

#: Every API route lives under this prefix (``account_id`` is accepted as-is).
API_PREFIX = "/client/v4/accounts/{account_id}/realtime/kit"


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"success": False, "error": {"code": status, "message": message}}, status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:  # list every method the path supports, not just the first route's
        allowed = sorted({m for r in request.app.routes if r.matches(request.scope)[0] != Match.NONE for m in r.methods or ()})
        message = f"Method {request.method} is not allowed on {request.url.path}"
        return error(405, message, {"Allow": ", ".join(allowed)})
    if exc.status_code == 404:
        return error(404, f"Route not found: {request.method} {request.url.path}")
    return error(exc.status_code, exc.detail)


#: The status of every answer about the state file itself (held by another process, damaged,
#: read-only, replaced): the sandbox's own rule, as no RealtimeKit answer is about it. A 4xx that no
#: client retries, so its message reaches the caller at once, and never reads as the API's own 5xx.
STATE_PROBLEM = 423


class _Sandbox:
    """The state, the clock, and how one request runs against them.

    Requests run on worker threads: a state file another process holds makes a request wait (for
    at most the store's ``lock_wait``), and that wait must not stop the event loop from serving
    anything else.
    """

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def run(self, request: Request, raw: bytes, operation: str | None, handler: Callable[[Call], Reply]) -> Response:
        # Read and checked before the file's write lock is taken; a bad body still answers after a fault.
        refused: ErrorReply | None = None
        try:
            body = _body(raw, operation)
        except ErrorReply as exc:
            body, refused = {}, exc
        try:
            with self.store.transaction() as state:
                fault = answer_fault(state, handler.__name__, request.url.path)
                if fault is not None:  # checked first, as the live API checks the token before the request
                    status, payload, headers = fault
                    return JSONResponse(payload, status, headers=headers)
                if refused is not None:
                    raise refused
                # Sandbox time is read here, inside the transaction, so an `advance` by another
                # process sharing the file is either wholly before this request or wholly after it.
                now = sandbox_now(state, self.clock)
                remember_base_url(state, str(request.base_url))
                advance_all(state, now)
                app_id = request.path_params.get("app_id")
                if app_id is not None and app_id not in state["apps"]:
                    raise ErrorReply(404, "App not found")
                call = Call(state, app_id, dict(request.path_params), request.query_params, body, str(request.base_url), now)
                status, payload = handler(call)
        except ErrorReply as exc:
            return error(exc.status, exc.message)
        except SandboxStateError as exc:
            return error(STATE_PROBLEM, str(exc))
        except Exception as exc:
            if self.store.path is None:  # no file to blame: a fault of the sandbox itself, shown as one
                raise
            logger.debug("request failed on the state file", exc_info=True)
            return error(STATE_PROBLEM, str(self.store.unusable(exc)))
        if payload is None:
            return Response(status_code=status)
        return JSONResponse(payload, status)

    def endpoint(self, handler: Callable[[Call], Reply], operation: str) -> Callable[[Request], Any]:
        """The route of *operation* (``"POST /{app_id}/meetings"``): a body it documents is checked (after faults)."""
        reads_body = takes_body(operation)

        async def endpoint(request: Request) -> Response:
            raw = await request.body() if reads_body else b""
            return await anyio.to_thread.run_sync(self.run, request, raw, operation if reads_body else None, handler)

        endpoint.__name__ = handler.__name__
        return endpoint

    # ------------------------------------------------------------------ download URLs

    def session_file(self, request: Request) -> Response:
        """Serves the chat/transcript/summary files whose URLs the session endpoints hand out."""
        with self.store.transaction() as state:
            session = state["sessions"].get(request.path_params["session_id"])
        name = request.path_params["name"]
        if session is None:
            return error(404, "Session not found")
        # The reference documents only these download URLs, not the files' layouts: these columns are
        # the sandbox's own choice (a chat dump with a header row; a transcript without one: start in
        # ms from the session's start, peer id, user id, custom participant id, name, text).
        if name == "chat.csv" and session["_chat"]:
            header = ["id", "participantId", "sessionId", "meetingId", "displayName", "pinned", "isEdited", "payloadType", "payload", "createdAt"]
            rows = [
                [m["id"], m["peer"], session["id"], session["associated_id"], m["name"], _flag(m.get("pinned")),
                 _flag(m.get("edited")), "TEXT_MESSAGE", m["text"], m["at"]]
                for m in session["_chat"]
            ]
            return PlainTextResponse(_csv(rows, header), media_type="text/csv")
        if name == "transcript.csv" and session["_transcript"]:
            started = parse_ts(session["started_at"])
            rows = [
                [round((parse_ts(t["at"]) - started).total_seconds() * 1000), t.get("peer_id", ""), t.get("user_id", ""),
                 t["custom_participant_id"], t["peer_name"], t["text"]]
                for t in session["_transcript"]
            ]
            return PlainTextResponse(_csv(rows), media_type="text/csv")
        if name == "summary.md" and session["_summary"]:
            return PlainTextResponse(session["_summary"], media_type="text/markdown")
        return error(404, "File not found")

    def webhook_key(self, request: Request) -> Response:
        """The public key webhook receivers verify ``rtk-signature`` with, published as RealtimeKit publishes its own."""
        return JSONResponse({"success": True, "data": {"publicKey": public_key(self.store)}, "message": ""})

    def recording_file(self, request: Request) -> Response:
        with self.store.transaction() as state:
            recording = state["recordings"].get(request.path_params["recording_id"])
        if recording is None or recording["status"] != "UPLOADED":
            return error(404, "Recording not found")
        return Response(b"RealtimeKit sandbox: placeholder recording file\n", media_type="application/octet-stream")


def _body(raw: bytes, operation: str | None) -> dict[str, Any]:
    """The request body checked against the reference (``operation`` is None where it documents no body)."""
    if operation is None or not raw.strip():
        body: Any = {}
    else:
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise ErrorReply(400, f"Invalid JSON body: {exc}") from None
        except RecursionError:
            raise ErrorReply(400, "Invalid JSON body: nested too deeply to be read") from None
    try:
        problem = body_problem(operation, body) if operation is not None else None
    except RecursionError:
        problem = "nested too deeply to be checked"
    if problem is not None:
        raise ErrorReply(400, f"Invalid request body: {problem}")
    return body


def _csv(rows: list[list[Any]], header: list[str] | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _flag(value: Any) -> str:
    return "true" if value else "false"


def _serve(view: Callable[[Request], Response]) -> Callable[[Request], Any]:
    def answer(request: Request) -> Response:
        try:
            return view(request)
        except SandboxStateError as exc:
            return error(STATE_PROBLEM, str(exc))

    async def endpoint(request: Request) -> Response:
        return await anyio.to_thread.run_sync(answer, request)

    return endpoint


def sandbox_app(
    state_path: str | Path | None = None, *, clock: Clock | None = None, lock_wait: float = LOCK_WAIT_S,
) -> Starlette:
    """A sandbox ASGI app: seeded in-memory state, or the state in the SQLite file *state_path*.

    With *state_path*, an existing state file is opened (a missing one is created from the seed)
    and shared with every other sandbox opened on it; a path that cannot hold sandbox state raises
    :class:`~rtk_mcp.sandbox.store.SandboxStateError` here, before anything is served. *clock*
    drives every time-dependent lifecycle (default: real time). A request waits at most *lock_wait*
    seconds for a state file another process is writing, then answers why it could not.
    """
    clock = clock or SystemClock()
    return build_app(Store(lambda: build_state(clock.now()), state_path, lock_wait=lock_wait), clock)


def build_app(store: Store, clock: Clock) -> Starlette:
    """The ASGI app serving *store* on *clock* (a :class:`~rtk_mcp.sandbox.control.Sandbox` shares its own)."""
    sandbox = _Sandbox(store, clock)
    routes = [
        Route(API_PREFIX + path, sandbox.endpoint(handler, f"{method} {path}"), methods=[method])
        for method, path, handler in ROUTES
    ]
    routes += [
        Route("/sandbox-files/sessions/{session_id}/{name}", _serve(sandbox.session_file), methods=["GET"]),
        Route("/sandbox-files/recordings/{recording_id}/{name}", _serve(sandbox.recording_file), methods=["GET"]),
        Route(PUBLIC_KEY_PATH, _serve(sandbox.webhook_key), methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.sandbox = sandbox
    return app
