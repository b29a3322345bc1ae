"""The sandbox's state: SQLite, one row per object, every request inside one transaction.

Each request runs in ``BEGIN IMMEDIATE`` … ``COMMIT`` on the state's connection: it reads the
collections it touches, and on success writes back only the objects it changed (or deletes the
ones it removed). Any number of sandboxes, in one process or several, can share one file: SQLite
serialises their transactions, so each sees the others' writes and none is lost. Without a file
the same code runs on a private in-memory database.

A failed request (an error reply, a bug, or a write SQLite refuses) rolls its transaction back:
the state is exactly what it was, and the file is never left half-written or truncated.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["COLLECTIONS", "SandboxStateError", "State", "Store"]

Record = dict[str, Any]

#: Every kind of object the sandbox keeps.
COLLECTIONS = (
    "apps", "presets", "meetings", "participants", "sessions", "recordings", "webhooks", "livestreams",
    "livestream_sessions", "deliveries",
)
#: Marks a file as sandbox state (and its layout version), so another SQLite file is never mistaken for one.
FORMAT = "rtk-mcp sandbox state, one row per object"
#: How long a request waits for another process's transaction on the same file before giving up.
BUSY_TIMEOUT_S = 30.0

_SCHEMA = (
    "CREATE TABLE sandbox_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE objects (collection TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (collection, id))",
)


class SandboxStateError(Exception):
    """The state file cannot be used (raised when the sandbox starts, with one sentence saying why)."""


def _dump(record: Record) -> str:
    return json.dumps(record, separators=(",", ":"), sort_keys=True)


class State:
    """The collections one request sees, loaded on first use: ``state["meetings"][id] -> record``."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._loaded: dict[str, dict[str, Record]] = {}
        self._stored: dict[str, dict[str, str]] = {}

    def __getitem__(self, collection: str) -> dict[str, Record]:
        if collection not in COLLECTIONS:
            raise KeyError(collection)
        if collection not in self._loaded:
            rows = self._connection.execute("SELECT id, data FROM objects WHERE collection = ?", (collection,)).fetchall()
            self._stored[collection] = dict(rows)
            self._loaded[collection] = {object_id: json.loads(data) for object_id, data in rows}
        return self._loaded[collection]

    def meta(self, key: str) -> str | None:
        """A value the state keeps beside its objects (the clock's offset, the signing key, counters)."""
        row = self._connection.execute("SELECT value FROM sandbox_meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._connection.execute("INSERT OR REPLACE INTO sandbox_meta (key, value) VALUES (?, ?)", (key, value))

    def save(self) -> None:
        """Write what changed: new or modified objects, and deletions."""
        for collection, records in self._loaded.items():
            stored = self._stored[collection]
            for object_id, record in records.items():
                data = _dump(record)
                if stored.get(object_id) != data:
                    self._connection.execute(
                        "INSERT OR REPLACE INTO objects (collection, id, data) VALUES (?, ?, ?)", (collection, object_id, data)
                    )
            for object_id in stored.keys() - records.keys():
                self._connection.execute("DELETE FROM objects WHERE collection = ? AND id = ?", (collection, object_id))


class Store:
    """Opens (or creates and seeds) the state; :meth:`transaction` is how every request reaches it."""

    def __init__(self, seed: Callable[[], dict[str, dict[str, Record]]], path: str | Path | None = None) -> None:
        self.path = None if path is None else Path(path)
        self._connection = self._open() if self.path is not None else self._connect(":memory:")
        with self.transaction() as state:
            if self._format() is None:
                self._create(state, seed())

    @contextmanager
    def transaction(self) -> Iterator[State]:
        """One request's view of the state, committed if the block ends normally, rolled back if it raises."""
        self._connection.execute("BEGIN IMMEDIATE")
        try:
            state = State(self._connection)
            yield state
            state.save()
            self._connection.execute("COMMIT")
        except BaseException:
            self._connection.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._connection.close()

    # ------------------------------------------------------------------ opening

    @staticmethod
    def _connect(target: str | Path) -> sqlite3.Connection:
        # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE. The sandbox is
        # served on the event loop's thread, but a server may be built on one thread and run on another.
        return sqlite3.connect(target, isolation_level=None, timeout=BUSY_TIMEOUT_S, check_same_thread=False)

    def _open(self) -> sqlite3.Connection:
        path = self.path
        assert path is not None
        if path.is_dir():
            raise SandboxStateError(f"Sandbox state path {path} is a directory; give the path of a file.")
        if not path.parent.is_dir():
            raise SandboxStateError(f"Sandbox state path {path}: the folder {path.parent} does not exist.")
        try:
            connection = self._connect(path)
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            problems = [row[0] for row in connection.execute("PRAGMA quick_check") if row[0] != "ok"]
        except sqlite3.Error as exc:
            raise SandboxStateError(f"Sandbox state file {path} cannot be read ({exc}); fix it or give another path.") from None
        if problems:
            connection.close()
            raise SandboxStateError(f"Sandbox state file {path} is damaged ({problems[0]}); delete it or give another path.")
        if tables and tables != {"sandbox_meta", "objects"}:
            connection.close()
            raise SandboxStateError(
                f"{path} is not an rtk-mcp sandbox state file (it holds other tables); give another path."
            )
        self._connection = connection
        if tables and self._format() != FORMAT:
            connection.close()
            raise SandboxStateError(f"{path} is not an rtk-mcp sandbox state file (unknown format); give another path.")
        return connection

    def _format(self) -> str | None:
        try:
            row = self._connection.execute("SELECT value FROM sandbox_meta WHERE key = 'format'").fetchone()
        except sqlite3.OperationalError:  # no such table: an empty file, created a moment ago
            return None
        return row[0] if row else None

    def _create(self, state: State, seed: dict[str, dict[str, Record]]) -> None:
        for statement in _SCHEMA:
            self._connection.execute(statement)
        self._connection.execute("INSERT INTO sandbox_meta (key, value) VALUES ('format', ?)", (FORMAT,))
        for collection in COLLECTIONS:
            state[collection].update(seed.get(collection, {}))
