"""What every handler shares: the request as a handler sees it, replies, query parameters, records.

A handler is named after the tool it serves, takes one :class:`Call` and returns a :data:`Reply`
(``(status, payload)``; a ``None`` payload is an answer with no body). It raises
:class:`ErrorReply` for anything the API refuses. Handlers never await: each runs inside its
request's state transaction from start to end.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from starlette.datastructures import QueryParams

from ..clock import iso, parse_ts
from ..store import State

__all__ = [
    "Call", "ErrorReply", "Record", "Reply", "deep_merge", "new_id", "no_content", "ok", "pick", "public", "touch",
]

Record = dict[str, Any]
#: ``(HTTP status, JSON payload)``; a ``None`` payload is sent as an empty body.
Reply = tuple[int, Any]


class ErrorReply(Exception):
    """A refusal, sent as ``{"success": false, "error": {"code": status, "message": message}}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def ok(data: Any, status: int = 200, **extra: Any) -> Reply:
    return status, {"success": True, "data": data, **extra}


def no_content() -> Reply:
    """The answer of an operation the reference documents as returning nothing."""
    return 204, None


def new_id() -> str:
    return str(uuid.uuid4())


def public(record: Mapping[str, Any]) -> Record:
    """A copy of *record* without its internal ``_`` keys (owning app, meeting, bookkeeping)."""
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


def touch(record: Record, moment: datetime, **changes: Any) -> Record:
    record.update(changes, updated_at=iso(moment))
    return record


def _bad_query(name: str, problem: str) -> ErrorReply:
    return ErrorReply(400, f"Invalid query parameter '{name}': {problem}")


@dataclass
class Call:
    """One API request as a handler sees it."""

    state: State
    app_id: str | None  # the app of a /{app_id}/... route, already known to exist
    path_params: dict[str, str]
    query: QueryParams
    body: dict[str, Any]
    base_url: str  # where the sandbox is served, e.g. "http://sandbox/" (download links point back here)
    now: datetime  # the sandbox clock when the request arrived

    @property
    def now_iso(self) -> str:
        return iso(self.now)

    # ------------------------------------------------------------------ records

    def find(self, collection: str, item_id: str, label: str) -> Record:
        """The record *item_id* of *collection* owned by this app, or a 404 ``"<label> not found"``."""
        record = self.state[collection].get(item_id)
        if record is None or (self.app_id is not None and record.get("_app") != self.app_id):
            raise ErrorReply(404, f"{label} not found")
        return record

    def owned(self, collection: str, **where: Any) -> list[Record]:
        """Records of *collection* that belong to this app and match *where*."""
        return [
            r for r in self.state[collection].values()
            if r.get("_app") == self.app_id and all(r.get(k) == v for k, v in where.items())
        ]

    # ------------------------------------------------------------------ query parameters

    def query_int(self, name: str, default: int) -> int:
        raw = self.query.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            raise _bad_query(name, "must be an integer") from None
        if value < 1:
            raise _bad_query(name, "must be >= 1")
        return value

    def query_enum(self, name: str, allowed: Iterable[str], default: str | None = None) -> str | None:
        raw = self.query.get(name)
        if raw in (None, ""):
            return default
        allowed = tuple(allowed)
        if raw not in allowed:
            raise _bad_query(name, "must be one of: " + ", ".join(allowed))
        return raw

    def query_list(self, name: str, allowed: Iterable[str] | None = None) -> list[str]:
        """A repeated and/or comma-separated parameter, checked against *allowed* when given."""
        values = [v for raw in self.query.getlist(name) for v in raw.split(",") if v]
        if allowed is not None:
            allowed = tuple(allowed)
            for value in values:
                if value not in allowed:
                    raise _bad_query(name, f"{value!r} is not one of: " + ", ".join(allowed))
        return values

    def query_bool(self, name: str) -> bool | None:
        raw = self.query.get(name)
        if raw in (None, ""):
            return None
        if raw.lower() not in ("true", "false", "1", "0"):
            raise _bad_query(name, "must be true or false")
        return raw.lower() in ("true", "1")

    def query_time(self, name: str) -> datetime | None:
        raw = self.query.get(name)
        if raw in (None, ""):
            return None
        try:
            return parse_ts(raw)
        except ValueError:
            raise _bad_query(name, "must be an ISO 8601 date-time") from None

    def query_date(self, name: str) -> date | None:
        raw = self.query.get(name)
        if raw in (None, ""):
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise _bad_query(name, "must be a date in YYYY-MM-DD format") from None

    # ------------------------------------------------------------------ list helpers

    def within_time_window(self, items: list[Record], key: str) -> list[Record]:
        """Items whose *key* timestamp lies within the ``start_time``/``end_time`` query window."""
        lo, hi = self.query_time("start_time"), self.query_time("end_time")
        return [i for i in items if (lo is None or parse_ts(i[key]) >= lo) and (hi is None or parse_ts(i[key]) <= hi)]

    def search_matches(self, item: Record, *keys: str) -> bool:
        """Case-insensitive substring search of the ``search`` query parameter over *keys*."""
        term = (self.query.get("search") or "").strip().lower()
        return not term or any(term in str(item.get(k) or "").lower() for k in keys)

    def page(self, items: list[Any], per_page: int = 20) -> tuple[list[Any], Record]:
        """One page of *items* (``page_no``/``per_page``) and the documented paging object.

        ``start_offset``/``end_offset`` are the 0-based indexes of the first and last item on the
        page (an empty page has ``end_offset == start_offset``).
        """
        per_page = self.query_int("per_page", per_page)
        start = (self.query_int("page_no", 1) - 1) * per_page
        page = items[start : start + per_page]
        end = start + len(page) - 1 if page else start
        return page, {"total_count": len(items), "start_offset": start, "end_offset": end}
