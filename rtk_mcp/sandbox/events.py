"""Webhook events: what happened in the sandbox, queued for every webhook subscribed to it.

:func:`emit` is called where a thing happens (a join, a session ending, a recording changing
status, ...), inside the request's transaction. It writes one *delivery* per enabled webhook of the
app that lists the event: the exact body to send (so every retry sends, and signs, the same bytes),
the moment the event happened on the sandbox clock, and its place in the order of events. Sending
is :mod:`.delivery`'s job. An event nobody subscribed to leaves no trace.

Bodies follow RealtimeKit's webhook documentation: camelCase fields, no common envelope beyond
``event``, the meeting object shared by the meeting events. Where the documentation is silent the
choice is stated in ``docs/sandbox.md``.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from .clock import iso
from .store import State

__all__ = ["DEFAULT_BASE_URL", "EVENTS", "LINK_LIFETIME", "base_url", "emit", "meeting_object"]

#: The nine documented events.
EVENTS = (
    "meeting.started", "meeting.ended", "meeting.participantJoined", "meeting.participantLeft", "meeting.chatSynced",
    "recording.statusUpdate", "livestreaming.statusUpdate", "meeting.transcript", "meeting.summary",
)
#: How long download links sent in events stay valid (transcripts are kept 7 days; chat "for a week").
LINK_LIFETIME = timedelta(days=7)
#: Where download links point when no request has told the sandbox where it is served.
DEFAULT_BASE_URL = "http://sandbox/"
_BASE_URL_KEY = "base_url"
_SEQ_KEY = "event_seq"

Record = dict[str, Any]


def base_url(state: State) -> str:
    """Where the sandbox was last reached (links in events point there)."""
    return state.meta(_BASE_URL_KEY) or DEFAULT_BASE_URL


def remember_base_url(state: State, url: str) -> None:
    if state.meta(_BASE_URL_KEY) != url:
        state.set_meta(_BASE_URL_KEY, url)


def meeting_object(state: State, session: Record) -> Record:
    """The ``meeting`` object of the meeting events, for *session*."""
    meeting = state["meetings"].get(session["associated_id"]) or {}
    app = state["apps"].get(session["_app"]) or {}
    out = {
        "id": session["associated_id"], "sessionId": session["id"],
        "title": meeting.get("title") or session.get("meeting_display_name"), "roomName": session["associated_id"],
        "status": session["status"], "createdAt": session["created_at"], "startedAt": session["started_at"],
        "organizedBy": {"id": session["_app"], "name": app.get("name")},
    }
    if session.get("ended_at"):
        out["endedAt"] = session["ended_at"]
    return out


def emit(state: State, at: datetime, app_id: str | None, event: str, body: Record) -> None:
    """Queue *event* (which happened at *at*) for every enabled webhook of *app_id* subscribed to it."""
    hooks = [
        w for w in state["webhooks"].values()
        if w.get("_app") == app_id and w.get("enabled", True) is not False and event in (w.get("events") or ())
    ]
    if not hooks:
        return
    seq = int(state.meta(_SEQ_KEY) or 0) + 1
    state.set_meta(_SEQ_KEY, str(seq))
    raw = json.dumps({"event": event, **_without_nulls(body)}, separators=(",", ":"), ensure_ascii=False)
    for hook in sorted(hooks, key=lambda w: w["created_at"]):
        delivery_id = str(uuid.uuid4())
        state["deliveries"][delivery_id] = {
            "id": delivery_id, "seq": seq, "event": event, "at": iso(at), "webhook_id": hook["id"], "url": hook["url"],
            "body": raw, "status": "pending", "attempts": [], "next_try": 0.0, "claimed_until": 0.0, "_app": app_id,
        }


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value
