"""The live session of a meeting: who is in it, kicking people out, polls."""

from __future__ import annotations

import copy
from collections.abc import Callable

from .common import Call, ErrorReply, Record, Reply, new_id, ok, touch
from .meetings import find_meeting
from .sessions import joined, live_session, peer_leaves, render_session

_A = "/{app_id}/meetings/{meeting_id}/active-session"


def _active_session(call: Call) -> Record:
    session = live_session(call, find_meeting(call)["id"])
    if session is None:
        raise ErrorReply(404, "No active session found for this meeting")
    return session


def get_active_session(call: Call) -> Reply:
    return ok(render_session(_active_session(call), call.now))


def _kick(call: Call, session: Record, chosen: Callable[[Record], bool]) -> list[Record]:
    """Make the chosen joined peers leave now; the session ends once its keep-alive time has passed."""
    now = call.now_iso
    kicked = []
    for peer in joined(session):
        if chosen(peer):
            peer_leaves(call.state, session, peer, call.now)
            kicked.append({"id": peer["user_id"], "name": peer["display_name"], "created_at": peer["created_at"], "updated_at": now})
    touch(session, call.now)
    return kicked


def kick_participants(call: Call) -> Reply:
    session = _active_session(call)
    ids, custom_ids = set(call.body["participant_ids"]), set(call.body["custom_participant_ids"])
    kicked = _kick(call, session, lambda p: p["user_id"] in ids or p["id"] in ids or p["custom_participant_id"] in custom_ids)
    return ok({"action": "kick", "participants": kicked})


def kick_all_participants(call: Call) -> Reply:
    kicked = _kick(call, _active_session(call), lambda p: True)
    return ok({"action": "kick_all", "kicked_participants_count": len(kicked)})


def create_poll(call: Call) -> Reply:
    session = _active_session(call)
    poll = {
        "id": new_id(), "question": call.body["question"],
        "options": [{"text": text, "count": 0, "votes": []} for text in call.body["options"]],
        "anonymous": call.body.get("anonymous", False), "hide_votes": call.body.get("hide_votes", False),
        "created_by": "API", "voted": [],
    }
    session["_polls"].append(poll)
    touch(session, call.now)
    return ok({"action": "create", "poll": copy.deepcopy(poll)}, 201)



ROUTES = [
    ("GET", _A, get_active_session),
    ("POST", _A + "/kick", kick_participants),
    ("POST", _A + "/kick-all", kick_all_participants),
    ("POST", _A + "/poll", create_poll),
]
