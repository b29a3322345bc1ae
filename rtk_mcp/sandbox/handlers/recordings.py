"""Recordings: composite recordings of a meeting (or a web page), and per-track recordings.

A recording follows the documented lifecycle on the sandbox clock: ``INVOKED`` when started,
``RECORDING`` :data:`START_DELAY` later, ``UPLOADING`` when stopped, ``UPLOADED`` (with its
download URL) :data:`UPLOAD_DELAY` after that. As the service documents, a recording also stops
by itself once its meeting has had nobody in it for :data:`EMPTY_MEETING_STOP`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..clock import iso, parse_ts
from ..events import base_url, emit, meeting_object
from ..store import State
from .common import (
    Call,
    ErrorReply,
    Record,
    Reply,
    new_id,
    no_content,
    ok,
    pick,
    public,
)
from .meetings import MEETING_SUMMARY, find_meeting, without_storage_secrets
from .sessions import joined, live_session

_R = "/{app_id}/recordings"

#: "started_time: usually a few seconds after invoked_time" (the reference).
START_DELAY = timedelta(seconds=3)
#: Time from stop to a downloadable file.
UPLOAD_DELAY = timedelta(seconds=10)
#: "Recording will stop if there are no participants in a meeting for 60 seconds" (the recording guide).
EMPTY_MEETING_STOP = timedelta(seconds=60)
#: Recordings stay downloadable from RealtimeKit's bucket for 7 days.
DOWNLOAD_LIFETIME = timedelta(days=7)

STATUSES = ("INVOKED", "RECORDING", "UPLOADING", "UPLOADED", "ERRORED", "PAUSED")
ACTIVE = ("INVOKED", "RECORDING", "PAUSED")
#: Where a recording can still go wrong (a recording fault can end it ``ERRORED``).
IN_PROGRESS = (*ACTIVE, "UPLOADING")


def _caller(app_id: str | None) -> Record:
    return {"type": "ORGANIZATION", "name": "API", "user_Id": app_id}


def recording_links(recording: Record, base_url: str) -> Record:
    """The download fields of a recording (``None`` until it is uploaded to RealtimeKit's bucket)."""
    uploaded = recording["status"] == "UPLOADED" and recording["_bucket"]
    base = f"{base_url}sandbox-files/recordings/{recording['id']}/"
    return {
        "download_url": base + recording["output_file_name"] if uploaded else None,
        "audio_download_url": base + "audio.mp3" if uploaded and recording["_audio"] else None,
        "download_url_expiry": iso(parse_ts(recording["stopped_time"]) + DOWNLOAD_LIFETIME) if uploaded else None,
    }


def set_status(state: State, recording: Record, status: str, at: datetime) -> None:
    """Move *recording* to *status* at *at*, and tell the webhooks (``recording.statusUpdate``)."""
    recording["status"] = status
    session = state["sessions"].get(recording["session_id"] or "")
    links = recording_links(recording, base_url(state))
    size = recording["file_size"]
    body = {
        "recording": {
            "id": recording["id"], "recordingId": recording["id"], "status": status,
            "downloadUrl": links["download_url"], "audioDownloadUrl": links["audio_download_url"],
            "downloadUrlExpiry": links["download_url_expiry"], "startedTime": recording["started_time"],
            "stoppedTime": recording["stopped_time"], "fileSize": None if size is None else str(size),  # a string, as documented
            "outputFileName": recording["output_file_name"], "meetingId": recording["_meeting"],
            "recordingDuration": recording["recording_duration"], "organizationId": recording["_app"],
            "roomUUID": recording["session_id"],
        },
        "meeting": meeting_object(state, session) if session else None,
    }
    emit(state, at, recording["_app"], "recording.statusUpdate", body)


def _stop(state: State, recording: Record, at: datetime, reason: str) -> None:
    started = parse_ts(recording["started_time"]) if recording["started_time"] else at
    duration = max(0, int((at - started).total_seconds()))
    recording.update(
        stopped_time=iso(at), recording_duration=duration, file_size=duration * 64_000,
        stop_reason={"reason": reason, "caller": _caller(recording["_app"])},
    )
    set_status(state, recording, "UPLOADING", at)


def advance_recordings(state: State, now: datetime) -> None:
    """Move every recording along its lifecycle up to *now*."""
    sessions = state["sessions"]
    for recording in sorted(state["recordings"].values(), key=lambda r: r["invoked_time"]):
        if recording["status"] == "INVOKED" and now >= parse_ts(recording["invoked_time"]) + START_DELAY:
            started = parse_ts(recording["invoked_time"]) + START_DELAY
            recording["started_time"] = iso(started)
            set_status(state, recording, "RECORDING", started)
        session = sessions.get(recording["session_id"] or "")
        if recording["status"] in ACTIVE and session is not None and session["_participants"] and not joined(session):
            emptied = max(parse_ts(p["left_at"]) for p in session["_participants"]) + EMPTY_MEETING_STOP
            if now >= emptied:
                _stop(state, recording, max(emptied, parse_ts(recording["invoked_time"])), "ALL_PEERS_LEFT")
        if recording["status"] == "UPLOADING" and now >= parse_ts(recording["stopped_time"]) + UPLOAD_DELAY:
            set_status(state, recording, "UPLOADED", parse_ts(recording["stopped_time"]) + UPLOAD_DELAY)


def break_recordings(state: State, now: datetime) -> None:
    """End the recordings that recording faults (:mod:`rtk_mcp.sandbox.faults`) wait for as ``ERRORED``."""
    faults = state["faults"]
    for fault in sorted((f for f in faults.values() if f["kind"] == "recording"), key=lambda f: int(f["id"])):
        in_progress = sorted((r for r in state["recordings"].values() if r["status"] in IN_PROGRESS),
                             key=lambda r: r["invoked_time"])
        wanted = fault["recording_id"]
        target = next((r for r in in_progress if wanted in (None, r["id"])), None)
        if target is None:
            if wanted is not None:
                del faults[fault["id"]]  # it ended on its own meanwhile: nothing left to break
            continue
        if target["stopped_time"] is None:  # broke while recording; one that was uploading keeps its stop
            started = parse_ts(target["started_time"]) if target["started_time"] else now
            target.update(stopped_time=iso(now), recording_duration=max(0, int((now - started).total_seconds())),
                          stop_reason={"reason": "INTERNAL_ERROR"})
        set_status(state, target, "ERRORED", now)
        del faults[fault["id"]]


def _recording(call: Call) -> Record:
    return call.find("recordings", call.path_params["recording_id"], "Recording")


#: What the list and the active-recording read leave out of a recording (each as documented).
LISTED_WITHOUT = ("start_reason", "stop_reason")
ACTIVE_WITHOUT = ("start_reason", "stop_reason", "storage_config")


def render_recording(call: Call, recording: Record, with_meeting: bool = False, without: tuple[str, ...] = ()) -> Record:
    out = {k: v for k, v in without_storage_secrets(public(recording)).items() if k not in without}
    out.update(recording_links(recording, call.base_url))
    meeting = call.state["meetings"].get(recording["_meeting"] or "")
    if with_meeting and meeting is not None:
        out["meeting"] = pick(meeting, MEETING_SUMMARY)
    return out


def _expired(recording: Record, now: datetime) -> bool:
    return recording["status"] == "UPLOADED" and parse_ts(recording["stopped_time"]) + DOWNLOAD_LIFETIME < now


def list_recordings(call: Call) -> Reply:
    statuses = call.query_list("status", STATUSES)
    expired = call.query_bool("expired")
    call.query_enum("sort_by", ("invokedTime",))  # the only documented sort key, and the default
    descending = call.query_enum("sort_order", ("ASC", "DESC"), "DESC") == "DESC"
    meeting_id = call.query.get("meeting_id")
    titles = {m["id"]: m["title"] for m in call.owned("meetings")}
    items = [
        r for r in call.owned("recordings")
        if (not meeting_id or r["_meeting"] == meeting_id) and (not statuses or r["status"] in statuses)
        and (expired is None or _expired(r, call.now) == expired)
        and call.search_matches({**r, "title": titles.get(r["_meeting"])}, "_meeting", "title")
    ]
    items = sorted(call.within_time_window(items, "invoked_time"), key=lambda r: r["invoked_time"], reverse=descending)
    page, paging = call.page(items)
    return ok([render_recording(call, r, with_meeting=True, without=LISTED_WITHOUT) for r in page], paging=paging)


def _active_recordings(call: Call, meeting_id: str) -> list[Record]:
    items = [r for r in call.owned("recordings", _meeting=meeting_id, _track=False) if r["status"] in ACTIVE]
    return sorted(items, key=lambda r: r["invoked_time"], reverse=True)


def _session_to_record(call: Call, meeting_id: str) -> Record:
    """The live session of an active meeting: recording needs people in the meeting.

    What the service answers for a meeting nobody has joined is not documented; a 400 naming the
    reason is the most plausible reading of "starts recording a meeting" (there is nothing to record).
    """
    meeting = find_meeting(call, meeting_id)
    if meeting["status"] != "ACTIVE":
        raise ErrorReply(400, "Meeting is INACTIVE and cannot be recorded")
    session = live_session(call, meeting_id)
    if session is None:
        raise ErrorReply(400, "Meeting has no active session: a recording can start only while participants are in the meeting")
    return session


def new_recording(
    state: State, app_id: str | None, meeting_id: str | None, session: Record | None, file_name: str, now: datetime,
    reason: str = "API_CALL", **extra: object,
) -> Record:
    """A recording ``INVOKED`` at *now* (by an API call, or by the meeting's ``record_on_start``)."""
    recording = {
        "id": new_id(), "status": "INVOKED", "output_file_name": file_name, "invoked_time": iso(now),
        "started_time": None, "stopped_time": None, "recording_duration": None, "file_size": None,
        "session_id": session["id"] if session else None,
        "start_reason": {"reason": reason, "caller": _caller(app_id)}, "stop_reason": None,
        "storage_config": None, "_app": app_id, "_meeting": meeting_id, "_bucket": True, "_audio": False,
        "_track": False, **extra,
    }
    state["recordings"][recording["id"]] = recording
    set_status(state, recording, "INVOKED", now)
    return recording


def recording_file_name(prefix: str | None, meeting_id: str | None, now: datetime, extension: str = "mp4") -> str:
    return f"{prefix + '_' if prefix else ''}{meeting_id or 'url'}_{int(now.timestamp() * 1000)}.{extension}"


def start_recording(call: Call) -> Reply:
    body, meeting_id = call.body, call.body.get("meeting_id")
    if not meeting_id and not body.get("url"):
        raise ErrorReply(400, "Invalid request body: 'meeting_id' is required (or 'url' to record a web page)")
    session = None
    if meeting_id:
        session = _session_to_record(call, meeting_id)
        if _active_recordings(call, meeting_id) and not body.get("allow_multiple_recordings"):
            raise ErrorReply(409, "A recording is already in progress for this meeting; pass allow_multiple_recordings to start another")
    file_name = recording_file_name(body.get("file_name_prefix"), meeting_id, call.now)
    recording = new_recording(
        call.state, call.app_id, meeting_id, session, file_name, call.now, storage_config=body.get("storage_config"),
        _bucket=(body.get("realtimekit_bucket_config") or {}).get("enabled", True), _audio="audio_config" in body,
    )
    return ok(render_recording(call, recording), 201)


def get_active_recording(call: Call) -> Reply:
    active = _active_recordings(call, find_meeting(call)["id"])
    if not active:
        raise ErrorReply(404, "No active recording found for this meeting")
    return ok(render_recording(call, active[0], without=ACTIVE_WITHOUT))


def get_recording(call: Call) -> Reply:
    return ok(render_recording(call, _recording(call)))


_ACTIONS = {  # action: (statuses it applies to, resulting status)
    "pause": (("RECORDING",), "PAUSED"),
    "resume": (("PAUSED",), "RECORDING"),
    "stop": (ACTIVE, "UPLOADING"),
}


def update_recording(call: Call) -> Reply:
    recording, action = _recording(call), call.body["action"]
    allowed, target = _ACTIONS[action]
    if recording["status"] not in allowed:
        raise ErrorReply(400, f"Cannot {action} a recording whose status is {recording['status']}")
    if action == "stop":
        _stop(call.state, recording, call.now, "API_CALL")
    else:
        set_status(call.state, recording, target, call.now)
    return ok(render_recording(call, recording))


def start_track_recording(call: Call) -> Reply:
    """Documented as returning nothing; the recording it starts is listed by the recordings list."""
    meeting_id = call.body["meeting_id"]
    session = _session_to_record(call, meeting_id)
    prefixes = [layer.get("file_name_prefix") for layer in call.body["layers"].values()]
    prefix = next((p for p in prefixes if p), "track")
    file_name = recording_file_name(prefix, meeting_id, call.now, "webm")
    new_recording(call.state, call.app_id, meeting_id, session, file_name, call.now, _track=True)
    return no_content()


ROUTES = [
    ("GET", _R, list_recordings),
    ("POST", _R, start_recording),
    ("POST", _R + "/track", start_track_recording),  # before /{recording_id}
    ("GET", _R + "/active-recording/{meeting_id}", get_active_recording),
    ("GET", _R + "/{recording_id}", get_recording),
    ("PUT", _R + "/{recording_id}", update_recording),
]
