"""People in meetings: joining, speaking, chatting and leaving — the sandbox's own controls.

In RealtimeKit these happen in the client SDKs, not through the REST API, so they are never MCP
tools: an agent sees the same catalogue in the sandbox as against the service. Each control runs
inside one state transaction at one sandbox time, like an API request.

The first join of a meeting with no live session starts a new one (any meeting, any number of
times) and applies the meeting's ``record_on_start`` and ``live_stream_on_start``. What is said
becomes the session's transcript and what is written its chat, in the layouts the session's
download links serve. The last leave starts the keep-alive countdown, after which the session ends
(see :mod:`.handlers.sessions`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .clock import iso
from .handlers.common import new_id
from .handlers.livestreams import start_livestream
from .handlers.recordings import new_recording, recording_file_name
from .handlers.sessions import announce_peer, joined, peer_leaves, start_session
from .store import State

__all__ = ["ControlError", "chat", "join", "leave", "say"]

Record = dict[str, Any]


class ControlError(Exception):
    """A control that cannot be done (one sentence saying why and what to do)."""


def _meeting(state: State, meeting_id: str) -> Record:
    meeting = state["meetings"].get(meeting_id)
    if meeting is None:
        raise ControlError(f"Meeting {meeting_id} not found; list_meetings shows the meetings.")
    return meeting


def _participant(state: State, meeting: Record, who: str) -> Record:
    """The meeting's participant whose id or custom_participant_id is *who*."""
    for person in state["participants"].values():
        if person["_meeting"] == meeting["id"] and who in (person["id"], person["custom_participant_id"]):
            return person
    raise ControlError(
        f"No participant {who!r} in meeting {meeting['id']}; add one with add_participant "
        "(give its id or custom_participant_id)."
    )


def _live(state: State, meeting: Record) -> Record | None:
    return next((s for s in state["sessions"].values() if s["associated_id"] == meeting["id"] and s["status"] == "LIVE"), None)


def _peer(state: State, meeting_id: str, who: str) -> tuple[Record, Record, Record]:
    """(session, peer, participant) of someone in the meeting now, or a ControlError."""
    meeting = _meeting(state, meeting_id)
    person = _participant(state, meeting, who)
    session = _live(state, meeting)
    peer = next((p for p in joined(session) if p["user_id"] == person["id"]), None) if session else None
    if session is None or peer is None:
        raise ControlError(f"{person['name'] or who} is not in meeting {meeting_id}; join first.")
    return session, peer, person


def join(state: State, now: datetime, meeting_id: str, who: str) -> Record:
    """*who* joins the meeting at *now*; answers the peer (its ``id`` is the session's peer id)."""
    meeting = _meeting(state, meeting_id)
    if meeting["status"] != "ACTIVE":
        raise ControlError(f"Meeting {meeting_id} is INACTIVE: users cannot join an INACTIVE meeting.")
    person = _participant(state, meeting, who)
    session = _live(state, meeting)
    if session is None:
        session = start_session(state, meeting, now)
        _apply_start_settings(state, meeting, session, now)
    elif any(p["user_id"] == person["id"] for p in joined(session)):
        raise ControlError(f"{person['name'] or who} is already in meeting {meeting_id}.")
    at = iso(now)
    peer = {
        "id": new_id(), "user_id": person["id"], "custom_participant_id": person["custom_participant_id"],
        "display_name": person["name"], "preset_name": person["preset_name"], "joined_at": at, "left_at": None,
        "duration": 0, "created_at": at, "updated_at": at,
    }
    session["_participants"].append(peer)
    session["max_concurrent_participants"] = max(session["max_concurrent_participants"], len(joined(session)))
    session["updated_at"] = at
    announce_peer(state, session, peer, "meeting.participantJoined", now)
    return dict(peer)


def _apply_start_settings(state: State, meeting: Record, session: Record, now: datetime) -> None:
    if meeting.get("record_on_start"):
        file_name = recording_file_name(None, meeting["id"], now)
        new_recording(state, meeting["_app"], meeting["id"], session, file_name, now, reason="RECORD_ON_START")
    if meeting.get("live_stream_on_start"):
        start_livestream(state, meeting["_app"], meeting, now)


def say(state: State, now: datetime, meeting_id: str, who: str, text: str) -> Record:
    """*who* says *text*: one line of the session's transcript."""
    session, peer, person = _peer(state, meeting_id, who)
    line = {
        "peer_name": person["name"] or person["custom_participant_id"], "custom_participant_id": person["custom_participant_id"],
        "user_id": person["id"], "peer_id": peer["id"], "at": iso(now), "text": text,
    }
    session["_transcript"].append(line)
    return dict(line)


def chat(state: State, now: datetime, meeting_id: str, who: str, text: str) -> Record:
    """*who* writes *text* in the meeting's chat."""
    session, peer, person = _peer(state, meeting_id, who)
    message = {
        "id": new_id(), "peer": peer["id"], "name": person["name"] or person["custom_participant_id"], "at": iso(now),
        "text": text, "pinned": False, "edited": False,
    }
    session["_chat"].append(message)
    return dict(message)


def leave(state: State, now: datetime, meeting_id: str, who: str) -> Record:
    """*who* leaves the meeting; the last to leave starts the session's keep-alive countdown."""
    session, peer, _ = _peer(state, meeting_id, who)
    peer_leaves(state, session, peer, now)
    session["updated_at"] = iso(now)
    return dict(peer)
