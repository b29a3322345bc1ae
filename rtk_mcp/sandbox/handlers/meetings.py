"""Meetings and the participants added to them (people who may join, each with a token)."""

from __future__ import annotations

from ..seed import MEETING_DEFAULTS, make_token
from .common import (
    Call,
    ErrorReply,
    Record,
    Reply,
    deep_merge,
    new_id,
    ok,
    pick,
    public,
    touch,
)
from .presets import preset_named

_M = "/{app_id}/meetings"
_P = _M + "/{meeting_id}/participants"

MEETING_SUMMARY = (
    "id", "title", "status", "created_at", "updated_at", "record_on_start", "live_stream_on_start",
    "persist_chat", "summarize_on_end", "session_keep_alive_time_in_secs",
)
PARTICIPANT = ("id", "custom_participant_id", "name", "picture", "preset_name", "created_at", "updated_at")


def find_meeting(call: Call, meeting_id: str | None = None) -> Record:
    """The meeting named by *meeting_id* (default: the ``{meeting_id}`` of the path), or a 404."""
    return call.find("meetings", call.path_params["meeting_id"] if meeting_id is None else meeting_id, "Meeting")


def without_storage_secrets(record: Record) -> Record:
    """Storage credentials are write-only: never echoed back."""
    return {
        k: without_storage_secrets(v) if isinstance(v, dict) else v
        for k, v in record.items() if k not in ("access_key", "secret")
    }


def render_meeting(meeting: Record) -> Record:
    out = without_storage_secrets(public(meeting))
    if out.get("recording_config") is None:
        out.pop("recording_config", None)
    return out


def list_meetings(call: Call) -> Reply:
    items = [m for m in call.owned("meetings") if call.search_matches(m, "id", "title")]
    items = sorted(call.within_time_window(items, "created_at"), key=lambda m: m["created_at"], reverse=True)
    page, paging = call.page(items)
    return ok([pick(m, MEETING_SUMMARY) for m in page], paging=paging)


def create_meeting(call: Call) -> Reply:
    now = call.now_iso
    meeting = {
        "id": new_id(), **deep_merge(MEETING_DEFAULTS, call.body), "created_at": now, "updated_at": now, "_app": call.app_id,
    }
    call.state["meetings"][meeting["id"]] = meeting
    return ok(render_meeting(meeting), 201)


def get_meeting(call: Call) -> Reply:
    return ok(render_meeting(find_meeting(call)))


def update_meeting(call: Call) -> Reply:
    meeting = touch(deep_merge(find_meeting(call), call.body), call.now)
    call.state["meetings"][meeting["id"]] = meeting
    return ok(render_meeting(meeting))


def replace_meeting(call: Call) -> Reply:
    old = find_meeting(call)
    kept = {k: old[k] for k in ("id", "created_at", "status", "_app")}  # PUT has no status field
    new = {**deep_merge(MEETING_DEFAULTS, call.body), **kept, "updated_at": call.now_iso}
    call.state["meetings"][old["id"]] = new
    return ok(render_meeting(new))


# --------------------------------------------------------------------------- participants


def _participant(call: Call) -> Record:
    find_meeting(call)
    participant = call.find("participants", call.path_params["participant_id"], "Participant")
    if participant["_meeting"] != call.path_params["meeting_id"]:
        raise ErrorReply(404, "Participant not found")
    return participant


def list_meeting_participants(call: Call) -> Reply:
    meeting = find_meeting(call)
    items = sorted(call.owned("participants", _meeting=meeting["id"]), key=lambda p: p["created_at"])
    page, paging = call.page(items)
    return ok([pick(p, PARTICIPANT) for p in page], paging=paging)


def add_participant(call: Call) -> Reply:
    meeting = find_meeting(call)
    custom_id = call.body["custom_participant_id"]
    if call.owned("participants", _meeting=meeting["id"], custom_participant_id=custom_id):
        # The reference: custom_participant_id "must be unique" within the meeting.
        raise ErrorReply(409, f"A participant with custom_participant_id {custom_id!r} already exists in this meeting")
    preset = preset_named(call, call.body["preset_name"])
    now = call.now_iso
    participant = {
        "id": new_id(), "custom_participant_id": custom_id, "name": call.body.get("name"),
        "picture": call.body.get("picture"), "preset_name": preset["name"], "created_at": now, "updated_at": now,
        "_app": call.app_id, "_meeting": meeting["id"], "_preset_id": preset["id"],
    }
    participant["token"] = make_token(participant, call.now)
    call.state["participants"][participant["id"]] = participant
    return ok(pick(participant, (*PARTICIPANT, "token")), 201)


def get_participant(call: Call) -> Reply:
    return ok(pick(_participant(call), PARTICIPANT))


def update_participant(call: Call) -> Reply:
    participant = _participant(call)
    changes = {k: call.body[k] for k in ("name", "picture") if k in call.body}
    if call.body.get("preset_name") is not None:
        preset = preset_named(call, call.body["preset_name"])
        changes.update(preset_name=preset["name"], _preset_id=preset["id"])
    touch(participant, call.now, **changes)
    return ok(pick(participant, (*PARTICIPANT, "token")))


def delete_participant(call: Call) -> Reply:
    participant = _participant(call)
    del call.state["participants"][participant["id"]]
    return ok({**pick(participant, ("created_at", "custom_participant_id", "updated_at")), "preset_id": participant["_preset_id"]})


def refresh_participant_token(call: Call) -> Reply:
    participant = _participant(call)
    touch(participant, call.now, token=make_token(participant, call.now))
    return ok({"token": participant["token"]})


ROUTES = [
    ("GET", _M, list_meetings),
    ("POST", _M, create_meeting),
    ("GET", _M + "/{meeting_id}", get_meeting),
    ("PATCH", _M + "/{meeting_id}", update_meeting),
    ("PUT", _M + "/{meeting_id}", replace_meeting),
    ("GET", _P, list_meeting_participants),
    ("POST", _P, add_participant),
    ("GET", _P + "/{participant_id}", get_participant),
    ("PATCH", _P + "/{participant_id}", update_participant),
    ("DELETE", _P + "/{participant_id}", delete_participant),
    ("POST", _P + "/{participant_id}/token", refresh_participant_token),
]
