"""Livestreams: independent RTMP livestreams and livestreams of meetings, their sessions and analytics.

A meeting's livestream is ``INVOKED`` when started and ``LIVE`` :data:`START_DELAY` later on the
sandbox clock; stopping makes it ``IDLE`` and closes its livestream session. It also stops when
the meeting's live session ends (the sandbox's choice: there is nothing left to stream). Going
``LIVE`` and going ``IDLE`` are sent to webhooks as ``livestreaming.statusUpdate``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..clock import iso, parse_ts
from ..events import emit
from ..seed import livestream_record
from ..store import State
from .common import Call, ErrorReply, Record, Reply, new_id, ok, pick, public, touch
from .meetings import find_meeting
from .sessions import live_session

_L = "/{app_id}/livestreams"
_M = "/{app_id}/meetings/{meeting_id}"

#: Time from a start request to the stream being live.
START_DELAY = timedelta(seconds=3)
#: Statuses of a livestream that is running or about to.
ACTIVE = ("INVOKED", "LIVE")
LIVESTREAM = ("id", "name", "meeting_id", "status", "disabled", "ingest_server", "stream_key", "playback_url", "created_at", "updated_at")


def _announce(state: State, stream: Record, at: datetime) -> None:
    meeting = state["meetings"].get(stream["meeting_id"] or "") or {}
    body = {
        "streamId": stream["id"], "status": stream["status"], "manualIngest": stream["meeting_id"] is None,
        "playbackUrl": stream["playback_url"], "ingestServer": stream["ingest_server"], "streamKey": stream["stream_key"],
        "meeting": {
            "id": meeting["id"], "title": meeting.get("title"), "createdAt": meeting["created_at"], "roomName": meeting["id"],
            "status": "LIVE", "organizedBy": {"id": stream["_app"], "name": (state["apps"].get(stream["_app"]) or {}).get("name")},
        } if meeting else None,
    }
    emit(state, at, stream["_app"], "livestreaming.statusUpdate", body)


def stop_livestream(state: State, stream: Record, at: datetime) -> None:
    """Close the stream's running session at *at* and make it ``IDLE``."""
    for session in state["livestream_sessions"].values():
        if session["livestream_id"] == stream["id"] and session["stopped_time"] is None:
            started = parse_ts(session["started_time"]) if session["started_time"] else at
            ingest = max(0, int((at - started).total_seconds()))
            touch(session, at, stopped_time=iso(at), ingest_seconds=ingest, viewer_seconds=ingest * 4)
    touch(stream, at, status="IDLE")
    _announce(state, stream, at)


def advance_livestreams(state: State, now: datetime) -> None:
    """Make every livestream whose start delay has passed ``LIVE``; stop those whose meeting's session ended."""
    for stream in state["livestreams"].values():
        if stream["status"] == "INVOKED":
            for session in state["livestream_sessions"].values():
                if session["livestream_id"] == stream["id"] and session["started_time"] is None:
                    started = parse_ts(session["invoked_time"]) + START_DELAY
                    if now >= started:
                        session.update(started_time=iso(started))
                        stream["status"] = "LIVE"
                        _announce(state, stream, started)
        if stream["status"] in ACTIVE and stream["meeting_id"]:
            sessions = [s for s in state["sessions"].values() if s["associated_id"] == stream["meeting_id"]]
            if sessions and not any(s["status"] == "LIVE" for s in sessions):
                ended = max(parse_ts(s["ended_at"]) for s in sessions if s.get("ended_at"))
                stop_livestream(state, stream, max(ended, parse_ts(stream["updated_at"])))


def start_livestream(state: State, app_id: str | None, meeting: Record, now: datetime, name: str | None = None,
                     video_config: object = None) -> Record:
    """Start the meeting's livestream (made on first use): ``INVOKED`` now, ``LIVE`` after the start delay."""
    stream = next((s for s in state["livestreams"].values() if s.get("_app") == app_id and s["meeting_id"] == meeting["id"]), None)
    if stream is None:
        stream = livestream_record(app_id or "", new_id(), None, meeting["id"], iso(now))
        state["livestreams"][stream["id"]] = stream
    touch(stream, now, status="INVOKED", name=name or stream["name"] or meeting["title"], _resolution=video_config)
    at = iso(now)
    session = {
        "id": new_id(), "livestream_id": stream["id"], "created_at": at, "invoked_time": at, "started_time": None,
        "stopped_time": None, "updated_at": at, "ingest_seconds": 0, "viewer_seconds": 0, "err_message": None,
        "_app": app_id,
    }
    state["livestream_sessions"][session["id"]] = session
    return stream


def _livestream(call: Call) -> Record:
    return call.find("livestreams", call.path_params["livestream_id"], "Livestream")


def render_livestream(stream: Record) -> Record:
    """The GET shape: ``disabled`` is documented as a string there (a boolean on create)."""
    return {**pick(stream, LIVESTREAM), "disabled": str(stream["disabled"]).lower()}


def render_livestream_session(session: Record, as_strings: bool = False) -> Record:
    out = public(session)
    if as_strings:  # documented as strings on the active-livestream-session endpoint
        out.update(ingest_seconds=str(session["ingest_seconds"]), viewer_seconds=str(session["viewer_seconds"]))
    return out


def _sessions_of(call: Call, livestream_id: str) -> list[Record]:
    return sorted(call.owned("livestream_sessions", livestream_id=livestream_id), key=lambda s: s["created_at"], reverse=True)


def _active_livestream(call: Call, meeting_id: str) -> Record | None:
    return next((s for s in call.owned("livestreams", meeting_id=meeting_id) if s["status"] in ACTIVE), None)


def create_livestream(call: Call) -> Reply:
    stream = livestream_record(call.app_id or "", new_id(), call.body.get("name"), None, call.now_iso)
    call.state["livestreams"][stream["id"]] = stream
    return ok(pick(stream, ("id", "name", "meeting_id", "status", "disabled", "ingest_server", "stream_key", "playback_url")), 201)


def list_livestreams(call: Call) -> Reply:
    """Documented as ONE livestream object plus ``paging``: a page of ``per_page`` items shows its first."""
    status = call.query_enum("status", ("LIVE", "IDLE", "ERRORED", "INVOKED"))
    exclude_meetings = call.query_bool("exclude_meetings")
    descending = call.query_enum("sort_order", ("ASC", "DSC"), "DSC") == "DSC"
    items = [
        s for s in call.owned("livestreams")
        if (status is None or s["status"] == status) and not (exclude_meetings and s["meeting_id"])
    ]
    items = sorted(call.within_time_window(items, "created_at"), key=lambda s: s["created_at"], reverse=descending)
    page, paging = call.page(items)
    return ok({**(render_livestream(page[0]) if page else {}), "paging": paging})


def stop_meeting_livestream(call: Call) -> Reply:
    stream = _active_livestream(call, find_meeting(call)["id"])
    if stream is None:
        raise ErrorReply(404, "No active livestream found for this meeting")
    stop_livestream(call.state, stream, call.now)
    return ok({"message": "Livestream stopped"})


def start_meeting_livestream(call: Call) -> Reply:
    meeting = find_meeting(call)
    if meeting["status"] != "ACTIVE":
        raise ErrorReply(400, "Meeting is INACTIVE and cannot be livestreamed")
    if live_session(call, meeting["id"]) is None:
        # Not documented; the same reading as for recordings: there is nothing to stream yet.
        raise ErrorReply(400, "Meeting has no active session: a livestream can start only while participants are in the meeting")
    if _active_livestream(call, meeting["id"]):
        raise ErrorReply(409, "This meeting is already being livestreamed")
    stream = start_livestream(call.state, call.app_id, meeting, call.now, call.body.get("name"), call.body.get("video_config"))
    return ok(pick(stream, ("id", "status", "ingest_server", "stream_key", "playback_url")), 201)


def get_livestream_analytics(call: Call) -> Reply:
    sessions = [s for s in call.owned("livestream_sessions") if s["started_time"]]
    sessions = call.within_time_window(sessions, "started_time")
    return ok({
        "count": len({s["livestream_id"] for s in sessions}),
        "total_ingest_seconds": sum(s["ingest_seconds"] for s in sessions),
        "total_viewer_seconds": sum(s["viewer_seconds"] for s in sessions),
    })


def get_meeting_active_livestream(call: Call) -> Reply:
    stream = _active_livestream(call, find_meeting(call)["id"])
    if stream is None:
        raise ErrorReply(404, "No active livestream found for this meeting")
    return ok(render_livestream(stream))


def get_livestream_session(call: Call) -> Reply:
    session = call.find("livestream_sessions", call.path_params["livestream_session_id"], "Livestream session")
    return ok({k: v for k, v in render_livestream_session(session).items() if k != "invoked_time"})  # as documented


def get_active_livestream_session(call: Call) -> Reply:
    stream = _livestream(call)
    running = [s for s in _sessions_of(call, stream["id"]) if s["stopped_time"] is None]
    if stream["status"] not in ACTIVE or not running:
        raise ErrorReply(404, "No active livestream session found for this livestream")
    return ok({"livestream": render_livestream(stream), "session": render_livestream_session(running[0], as_strings=True)})


def get_livestream(call: Call) -> Reply:
    """Documented with ONE ``session`` plus paging over the livestream's sessions (newest first)."""
    stream = _livestream(call)
    page, paging = call.page(_sessions_of(call, stream["id"]))
    session = render_livestream_session(page[0]) if page else None
    return ok({"livestream": render_livestream(stream), "session": session, "paging": paging})


ROUTES = [
    ("POST", _L, create_livestream),
    ("GET", _L, list_livestreams),
    ("POST", _M + "/active-livestream/stop", stop_meeting_livestream),
    ("POST", _M + "/livestreams", start_meeting_livestream),
    ("GET", "/{app_id}/analytics/livestreams/overall", get_livestream_analytics),
    ("GET", _M + "/active-livestream", get_meeting_active_livestream),
    ("GET", _L + "/sessions/{livestream_session_id}", get_livestream_session),  # before /{livestream_id}
    ("GET", _L + "/{livestream_id}/active-livestream-session", get_active_livestream_session),
    ("GET", _L + "/{livestream_id}", get_livestream),
]
