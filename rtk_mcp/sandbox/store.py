"""The sandbox's state: SQLite, one row per object, every request inside one transaction.

Each request runs in ``BEGIN IMMEDIATE`` … ``COMMIT`` on the state's connection: it reads the
collections it touches, and on success writes back only the objects it changed (or deletes the
ones it removed). Any number of sandboxes, in one process or several, can share one file: SQLite
serialises their transactions, so each sees the others' writes and none is lost. Without a file
the same code runs on a private in-memory database.

A failed request (an error reply, a bug, or a write SQLite refuses) rolls its transaction back:
the state is exactly what it was, and the file is never left half-written or truncated.

Waiting for the file is bounded: a transaction that cannot have the write lock within
``lock_wait`` seconds (another process holds it) gives up with :class:`SandboxStateError`. The
wait is a blocking one, so the app runs transactions on a worker thread, never on the event loop.
Every problem with the file — held too long, damaged, not a regular file, read-only, replaced or
deleted while in use — is one :class:`SandboxStateError` whose text names the file, says what is
wrong and what to do, in one shape: ``The sandbox could not use its state file PATH: …``.
"""

from __future__ import annotations

import json
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["COLLECTIONS", "LOCK_WAIT_S", "SandboxStateError", "State", "Store"]

Record = dict[str, Any]

#: Every kind of object the sandbox keeps (``faults``: the failures switched on, see :mod:`..faults`).
COLLECTIONS = (
    "apps", "presets", "meetings", "participants", "sessions", "recordings", "webhooks", "livestreams",
    "livestream_sessions", "faults", "deliveries",
)
#: Marks a file as sandbox state (and its layout version), so another SQLite file is never mistaken for one.
FORMAT = "rtk-mcp sandbox state, one row per object"
#: How long a request waits for another process's transaction on the same file before giving up:
#: well inside the client's 30 s per attempt, so the caller reads why instead of a timeout.
LOCK_WAIT_S = 10.0

_SCHEMA = (
    "CREATE TABLE sandbox_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE objects (collection TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (collection, id))",
)
_START_AGAIN = "delete it (to start from the demo data again) or give another path"


class SandboxStateError(Exception):
    """The state file cannot be used: one sentence naming it, saying why and what to do.

    Raised when the sandbox starts (a bad path) and by a request that meets a problem with the file
    while running (the app answers it as an error reply, never as an internal failure).
    """


def _dump(record: Record) -> str:
    return json.dumps(record, separators=(",", ":"), sort_keys=True)


class State:
    """The collections one request sees, loaded on first use: ``state["meetings"][id] -> record``."""

    def __init__(self, connection: sqlite3.Connection, damaged: Callable[[str], SandboxStateError]) -> None:
        self._connection = connection
        self._damaged = damaged
        self._loaded: dict[str, dict[str, Record]] = {}
        self._stored: dict[str, dict[str, str]] = {}

    def __getitem__(self, collection: str) -> dict[str, Record]:
        if collection not in COLLECTIONS:
            raise KeyError(collection)
        if collection not in self._loaded:
            rows = self._connection.execute("SELECT id, data FROM objects WHERE collection = ?", (collection,)).fetchall()
            self._stored[collection] = dict(rows)
            self._loaded[collection] = {object_id: self._record(collection, object_id, data) for object_id, data in rows}
        return self._loaded[collection]

    def _record(self, collection: str, object_id: str, data: Any) -> Record:
        try:
            record = json.loads(data)
        except (TypeError, ValueError, RecursionError):
            record = None
        if not isinstance(record, dict) or record.get("id") != object_id:
            raise self._damaged(f"a {collection} record in it is damaged")
        return record

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

    def __init__(
        self, seed: Callable[[], dict[str, dict[str, Record]]], path: str | Path | None = None, *,
        lock_wait: float = LOCK_WAIT_S,
    ) -> None:
        self.path = None if path is None else Path(path)
        self.lock_wait = lock_wait
        self._seed = seed
        # One connection, so one transaction at a time in this process; requests run on worker threads.
        self._turn = threading.Lock()
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file the connection has open
        self._connection = self._connect(":memory:") if self.path is None else self._open()
        self._seed_if_empty()

    @contextmanager
    def transaction(self) -> Iterator[State]:
        """One request's view of the state, committed if the block ends normally, rolled back if it raises.

        Blocks for up to ``lock_wait`` seconds (call it off the event loop); raises
        :class:`SandboxStateError` for any problem with the file.
        """
        give_up_at = time.monotonic() + self.lock_wait  # one wait, for this process's turn and the file's lock
        if not self._turn.acquire(timeout=self.lock_wait):
            raise self._busy()
        try:
            self._follow_file()
            with self._locked(give_up_at) as state:
                yield state
        finally:
            self._turn.release()

    def close(self) -> None:
        self._connection.close()

    def problem(self, what: str, fix: str = _START_AGAIN) -> SandboxStateError:
        """The one shape of every state-file error: which file, what is wrong, nothing changed, what to do."""
        where = f"its state file {self.path}" if self.path is not None else "its in-memory state"
        return SandboxStateError(f"The sandbox could not use {where}: {what}; nothing was changed. {fix[0].upper()}{fix[1:]}.")

    def unusable(self, exc: Exception) -> SandboxStateError:
        """A record that is valid JSON and still not what the handlers wrote (edited by hand, say)."""
        return self.problem(f"it holds a record the sandbox cannot use ({type(exc).__name__}: {str(exc)[:100]})")

    # ------------------------------------------------------------------ one transaction

    @contextmanager
    def _locked(self, give_up_at: float) -> Iterator[State]:
        try:
            self._begin(give_up_at)
            try:
                state = State(self._connection, self.problem)
                yield state
                state.save()
                self._connection.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
        except sqlite3.Error as exc:
            raise self._failed(exc) from None

    def _begin(self, give_up_at: float) -> None:
        # The busy wait is SQLite's own, bounded by what is left of this request's wait.
        left_ms = max(0, int((give_up_at - time.monotonic()) * 1000))
        self._connection.execute(f"PRAGMA busy_timeout = {left_ms}")
        try:
            self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:
                raise self._busy() from None
            raise

    def _rollback(self) -> None:
        try:
            self._connection.execute("ROLLBACK")
        except sqlite3.Error:  # SQLite may have rolled back already (an I/O error ends the transaction)
            pass

    def _busy(self) -> SandboxStateError:
        return self.problem(f"another process held its lock for over {self.lock_wait:g} s",
                            "try again, or give each sandbox its own file")

    def _failed(self, exc: sqlite3.Error) -> SandboxStateError:
        text = str(exc)
        if "readonly" in text or "read-only" in text:
            return self.problem(f"it is read-only ({text})", "make it writable, or give another path")
        if type(exc) is sqlite3.DatabaseError:  # "file is not a database", "disk image is malformed"
            return self.problem(f"it is damaged ({text})", _START_AGAIN)
        return self.problem(f"it could not save its state ({text})", "free the disk or the file, then try again")

    # ------------------------------------------------------------------ the file

    def _follow_file(self) -> None:
        """Notice what happened to the file since the last request: made read-only, replaced, deleted."""
        if self.path is None:
            return
        try:
            info = self.path.stat()
        except OSError:
            info = None
        if info is not None and (info.st_dev, info.st_ino) == self._identity:
            if not info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
                # Honoured even for root, whom the permission bits do not stop: a read-only file is a request.
                raise self.problem("it is read-only (no write permission)", "make it writable, or give another path")
            return
        # Replaced or deleted while in use: what is at the path now is the state (a deleted one starts again).
        # Until that opens, no file is ours: every request tries again (the old one may be reused by then).
        self._connection.close()
        self._identity = None
        self._connection = self._open()
        self._seed_if_empty()

    @staticmethod
    def _connect(target: str | Path) -> sqlite3.Connection:
        # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE. Requests run on
        # worker threads, one at a time (``_turn``).
        return sqlite3.connect(target, isolation_level=None, timeout=0, check_same_thread=False)

    def _open(self) -> sqlite3.Connection:
        path = self.path
        assert path is not None
        if path.is_dir():
            raise self.problem("it is a directory", "give the path of a file")
        if not path.parent.is_dir():
            raise self.problem(f"the folder {path.parent} does not exist", "create it, or give another path")
        if path.exists() and not path.is_file():
            raise self.problem("it is not a regular file (a device, pipe or socket)", "give the path of a file")
        try:
            connection = self._connect(path)
            # Another process may be writing right now: wait for it, as a transaction does (then back to 0).
            connection.execute(f"PRAGMA busy_timeout = {round(self.lock_wait * 1000)}")
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            problems = [row[0] for row in connection.execute("PRAGMA quick_check") if row[0] != "ok"]
            connection.execute("PRAGMA busy_timeout = 0")
        except sqlite3.Error as exc:
            raise self.problem(f"it cannot be read ({exc})", _START_AGAIN) from None
        if problems:
            connection.close()
            raise self.problem(f"it is damaged ({problems[0]})", _START_AGAIN)
        if tables and tables != {"sandbox_meta", "objects"}:
            connection.close()
            raise self.problem("it is not an rtk-mcp sandbox state file (it holds other tables)", "give another path")
        if tables and _format(connection) != FORMAT:
            connection.close()
            raise self.problem("it is not an rtk-mcp sandbox state file (unknown format)", "give another path")
        info = path.stat()
        self._identity = (info.st_dev, info.st_ino)
        return connection

    def _seed_if_empty(self) -> None:
        # In a transaction: of several processes opening a new file at once, exactly one seeds it.
        with self._locked(time.monotonic() + self.lock_wait) as state:
            if _format(self._connection) is None:
                for statement in _SCHEMA:
                    self._connection.execute(statement)
                self._connection.execute("INSERT INTO sandbox_meta (key, value) VALUES ('format', ?)", (FORMAT,))
                seed = self._seed()
                for collection in COLLECTIONS:
                    state[collection].update(seed.get(collection, {}))


def _format(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT value FROM sandbox_meta WHERE key = 'format'").fetchone()
    except sqlite3.OperationalError:  # no such table: an empty file, created a moment ago
        return None
    return row[0] if row else None
