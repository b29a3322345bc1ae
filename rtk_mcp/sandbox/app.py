"""The Starlette application: route table -> routes, request plumbing, errors, download files."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Match, Route

from .handlers import ROUTES, Ctx, Reply
from .seed import build_state
from .store import ApiError, Store
from .validate import SPECS, Invalid, O, check

__all__ = ["API_PREFIX", "create_app"]

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


def _endpoint(store: Store, handler: Callable[[Ctx], Reply], spec: O | None) -> Callable[[Request], Any]:
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
        app_id = request.path_params.get("app_id")
        if app_id is not None and app_id not in store.state["apps"]:
            return error(404, "App not found")
        ctx = Ctx(store.state, app_id, dict(request.path_params), request.query_params, body, str(request.base_url))
        try:
            status, payload = handler(ctx)
        except ApiError as exc:
            return error(exc.status, exc.message)
        if request.method not in ("GET", "HEAD"):
            store.save()
        return JSONResponse(payload, status)

    endpoint.__name__ = handler.__name__
    return endpoint


# --------------------------------------------------------------------------- download URLs


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _session_file(store: Store) -> Callable[[Request], Any]:
    """Serves the chat/transcript/summary files whose URLs the session endpoints hand out."""

    async def endpoint(request: Request) -> Response:
        s = store.state["sessions"].get(request.path_params["session_id"])
        name = request.path_params["name"]
        if s is None:
            return error(404, "Session not found")
        if name == "chat.csv" and s["_chat"]:
            rows = [[m["id"], m["peer"], s["id"], s["associated_id"], m["name"], "false", "false", "text", m["text"], m["at"]] for m in s["_chat"]]
            header = ["id", "participantId", "sessionId", "meetingId", "displayName", "pinned", "isEdited", "payloadType", "payload", "createdAt"]
            return PlainTextResponse(_csv(header, rows), media_type="text/csv")
        if name == "transcript.csv" and s["_transcript"]:
            rows = [[t["at"], t["custom_participant_id"], t["peer_name"], t["text"]] for t in s["_transcript"]]
            return PlainTextResponse(_csv(["timestamp", "custom_participant_id", "name", "transcript"], rows), media_type="text/csv")
        if name == "summary.md" and s["_summary"]:
            return PlainTextResponse(s["_summary"], media_type="text/markdown")
        return error(404, "File not found")

    return endpoint


def _recording_file(store: Store) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        r = store.state["recordings"].get(request.path_params["recording_id"])
        if r is None or r["status"] != "UPLOADED":
            return error(404, "Recording not found")
        return Response(b"RealtimeKit sandbox: placeholder recording file\n", media_type="application/octet-stream")

    return endpoint


def create_app(state_path: str | None = None) -> Starlette:
    """A fresh sandbox: seeded in-memory state, or the state stored at *state_path* (SQLite).

    With *state_path*, an existing file is loaded (a missing one is created from the seed)
    and the state is written back after every successful non-GET request.
    """
    store = Store(build_state(), state_path)
    routes = [
        Route(API_PREFIX + path, _endpoint(store, handler, SPECS[spec] if spec else None), methods=[method])
        for method, path, handler, spec in ROUTES
    ]
    routes += [
        Route("/sandbox-files/sessions/{session_id}/{name}", _session_file(store), methods=["GET"]),
        Route("/sandbox-files/recordings/{recording_id}/{name}", _recording_file(store), methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.store = store
    return app
