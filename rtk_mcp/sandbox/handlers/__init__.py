"""The sandbox's handlers, one module per documented group as in :mod:`rtk_mcp.catalog`.

Each module lists its ``ROUTES``: ``(method, path under /accounts/{account_id}/realtime/kit,
handler)``; the app checks a request's body against the reference by ``"METHOD path"``. Where a literal path segment competes with a
parameter (``peer-report``, ``track``, ``livestreams/sessions``) the literal route comes first.
:data:`ADVANCE` moves time-driven lifecycles up to the sandbox clock before each request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..store import State
from . import (
    active_session,
    analytics,
    apps,
    livestreams,
    meetings,
    presets,
    recordings,
    sessions,
    webhooks,
)
from .common import Call, ErrorReply, Reply

__all__ = ["ADVANCE", "ROUTES", "Call", "ErrorReply", "Reply", "advance_all"]

_GROUPS = (apps, meetings, presets, sessions, recordings, webhooks, active_session, livestreams, analytics)

ROUTES: list[tuple[str, str, Callable[[Call], Reply]]] = [route for group in _GROUPS for route in group.ROUTES]

#: Run in this order before every request: a session that ends stops its recordings and livestream.
ADVANCE: tuple[Callable[[State, datetime], None], ...] = (
    sessions.end_empty_sessions,
    recordings.advance_recordings,
    recordings.break_recordings,
    livestreams.advance_livestreams,
    sessions.announce_summaries,
)


def advance_all(state: State, now: datetime) -> None:
    """Bring every time-driven lifecycle up to *now* (each step emits the events it sets off)."""
    for advance in ADVANCE:
        advance(state, now)
