"""The Starlette application: route table -> routes, one state transaction per request, errors, files."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Match, Route

from .clock import Clock, SystemClock, parse_ts, sandbox_now
from .events import remember_base_url
from .handlers import ROUTES, Call, ErrorReply, Reply, advance_all
from .seed import build_state
from .signing import PUBLIC_KEY_PATH, private_key_pem, public_key_pem
from .store import Store
from .validate import SPECS, Invalid, O, check

__all__ = ["API_PREFIX", "build_app", "sandbox_app"]

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


class _Sandbox:
    """The state, the clock, and how one request runs against them."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def run(self, request: Request, body: dict[str, Any], handler: Callable[[Call], Reply]) -> Response:
        try:
            with self.store.transaction() as state:
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
        except sqlite3.Error as exc:
            where = f" to {self.store.path}" if self.store.path else ""
            return error(500, f"The sandbox could not save its state{where} ({exc}); nothing was changed.")
        if payload is None:
            return Response(status_code=status)
        return JSONResponse(payload, status)

    def endpoint(self, handler: Callable[[Call], Reply], spec: O | None) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            body: dict[str, Any] = {}
            if spec is not None:
                raw = await request.body()
                if raw.strip():
                    try:
                        body = json.loads(raw)
                    except ValueError as exc:
                        return error(400, f"Invalid JSON body: {exc}")
                try:
                    check(spec, body)
                except Invalid as exc:
                    return error(400, f"Invalid request body: {exc}")
            return self.run(request, body, handler)

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
        # The documented layouts: the chat dump has a header row; RealtimeKit's transcript CSV has
        # none (start in ms from the session's start, peer id, user id, custom participant id, name, text).
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
        with self.store.transaction() as state:
            pem = public_key_pem(private_key_pem(state))
        return JSONResponse({"success": True, "data": {"publicKey": pem}, "message": ""})

    def recording_file(self, request: Request) -> Response:
        with self.store.transaction() as state:
            recording = state["recordings"].get(request.path_params["recording_id"])
        if recording is None or recording["status"] != "UPLOADED":
            return error(404, "Recording not found")
        return Response(b"RealtimeKit sandbox: placeholder recording file\n", media_type="application/octet-stream")


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
    async def endpoint(request: Request) -> Response:
        return view(request)

    return endpoint


def sandbox_app(state_path: str | Path | None = None, *, clock: Clock | None = None) -> Starlette:
    """A sandbox ASGI app: seeded in-memory state, or the state in the SQLite file *state_path*.

    With *state_path*, an existing state file is opened (a missing one is created from the seed)
    and shared with every other sandbox opened on it; a path that cannot hold sandbox state raises
    :class:`~rtk_mcp.sandbox.store.SandboxStateError` here, before anything is served. *clock*
    drives every time-dependent lifecycle (default: real time).
    """
    clock = clock or SystemClock()
    return build_app(Store(lambda: build_state(clock.now()), state_path), clock)


def build_app(store: Store, clock: Clock) -> Starlette:
    """The ASGI app serving *store* on *clock* (a :class:`~rtk_mcp.sandbox.control.Sandbox` shares its own)."""
    sandbox = _Sandbox(store, clock)
    routes = [
        Route(API_PREFIX + path, sandbox.endpoint(handler, SPECS[spec] if spec else None), methods=[method])
        for method, path, handler, spec in ROUTES
    ]
    routes += [
        Route("/sandbox-files/sessions/{session_id}/{name}", _serve(sandbox.session_file), methods=["GET"]),
        Route("/sandbox-files/recordings/{recording_id}/{name}", _serve(sandbox.recording_file), methods=["GET"]),
        Route(PUBLIC_KEY_PATH, _serve(sandbox.webhook_key), methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.sandbox = sandbox
    return app
