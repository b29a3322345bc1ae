"""State container, persistence and the small helpers every handler shares.

State is one JSON-serialisable dict of collections (``{"meetings": {id: record}, ...}``).
Records keep their bookkeeping in keys that start with ``_`` (owning app, meeting, ...);
:func:`public` strips those before a record is sent to a client.
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "ApiError",
    "Store",
    "deep_merge",
    "find",
    "iso",
    "new_id",
    "now",
    "now_iso",
    "paginate",
    "parse_ts",
    "pick",
    "public",
]

Record = dict[str, Any]


class ApiError(Exception):
    """An error the API reports to the client as ``{"success": false, "error": {...}}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# --------------------------------------------------------------------------- time & ids


def now() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """ISO 8601 in UTC with millisecond precision, e.g. ``2026-11-24T12:00:00.000Z``."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def now_iso() -> str:
    return iso(now())


def parse_ts(value: str) -> datetime:
    """Parse an ISO 8601 date or date-time; naive values are taken as UTC. Raises ValueError."""
    dt = datetime.fromisoformat(value.strip())
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def new_id() -> str:
    return str(uuid.uuid4())


# --------------------------------------------------------------------------- records


def public(record: Mapping[str, Any]) -> Record:
    """A copy of *record* without its internal ``_`` keys."""
    return {k: copy.deepcopy(v) for k, v in record.items() if not k.startswith("_")}


def pick(record: Mapping[str, Any], fields: Iterable[str]) -> Record:
    return {k: copy.deepcopy(record[k]) for k in fields if k in record}


def deep_merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> Record:
    """*base* updated with *patch*, recursing into nested objects (PATCH semantics)."""
    out = copy.deepcopy(dict(base))
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def find(state: Mapping[str, Any], collection: str, app_id: str | None, item_id: str, label: str) -> Record:
    """The record *item_id* of *collection* owned by *app_id*, or a 404 ``"<label> not found"``."""
    record = state[collection].get(item_id)
    if record is None or (app_id is not None and record.get("_app") != app_id):
        raise ApiError(404, f"{label} not found")
    return record


def paginate(items: list[Any], page_no: int, per_page: int) -> tuple[list[Any], Record]:
    """Slice one page and build the documented paging object.

    ``start_offset``/``end_offset`` are the 0-based indexes of the first and last item on
    the page (an empty page has ``end_offset == start_offset``).
    """
    start = (page_no - 1) * per_page
    page = items[start : start + per_page]
    end = start + len(page) - 1 if page else start
    return page, {"total_count": len(items), "start_offset": start, "end_offset": end}


# --------------------------------------------------------------------------- persistence


class Store:
    """Holds the state; optionally mirrors it into a SQLite file (one JSON blob, one row)."""

    def __init__(self, initial: Record, path: str | None = None) -> None:
        self.path = path
        loaded = self._load() if path else None
        self.state: Record = loaded if loaded is not None else initial
        if path and loaded is None:
            self.save()

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        conn = sqlite3.connect(self.path)
        conn.execute("CREATE TABLE IF NOT EXISTS sandbox_state (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)")
        return conn

    def _load(self) -> Record | None:
        if not os.path.exists(self.path or ""):
            return None
        conn = self._connect()
        try:
            row = conn.execute("SELECT state FROM sandbox_state WHERE id = 1").fetchone()
        finally:
            conn.close()
        return json.loads(row[0]) if row else None

    def save(self) -> None:
        """Write the whole state in one transaction (atomic: readers see old or new, never half)."""
        if not self.path:
            return
        blob = json.dumps(self.state, separators=(",", ":"), sort_keys=True)
        conn = self._connect()
        try:
            with conn:
                conn.execute("INSERT OR REPLACE INTO sandbox_state (id, state) VALUES (1, ?)", (blob,))
        finally:
            conn.close()
