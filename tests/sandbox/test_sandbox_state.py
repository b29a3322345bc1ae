"""The sandbox's state file: shared safely by clients and processes, refused clearly when unusable,
never changed by a write that could not be saved, and never a reason for the server to stop answering.

Every problem with the file, met while running, reads the same way: ``HTTP 423: The sandbox could
not use its state file PATH: <what>; nothing was changed. <what to do>.``"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client

from rtk_mcp import cli
from rtk_mcp.sandbox import SANDBOX_APP_ID, SEED, SandboxStateError, sandbox_app, sandbox_settings
from rtk_mcp.server import build_server
from rtk_mcp.testing import call, call_error, sandbox_client
from tests.stdio_session import stdio_session

MEETINGS = 200


async def _titles(client: object) -> set[str]:
    """Titles of every meeting, read page by page."""
    titles: set[str] = set()
    page = 1
    while True:
        listed = await call(client, "list_meetings", {"per_page": 50, "page_no": page})  # type: ignore[arg-type]
        titles |= {m["title"] for m in listed["data"]}
        if not listed["data"]:
            return titles
        page += 1


async def test_two_clients_on_one_file_writing_in_turn_lose_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with anyio.fail_after(60):
        async with sandbox_client(state) as first, sandbox_client(state) as second:
            for n in range(MEETINGS):
                await call(first if n % 2 == 0 else second, "create_meeting", {"title": f"meeting {n}"})
            expected = {f"meeting {n}" for n in range(MEETINGS)}
            assert expected <= await _titles(first)
            assert expected <= await _titles(second)


async def test_a_cli_process_and_an_in_process_client_on_one_file_lose_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    async with stdio_session("--sandbox", "--sandbox-state", str(state)) as server:
        await server.initialize()
        with anyio.fail_after(120):
            async with sandbox_client(state) as client:
                for n in range(MEETINGS):
                    title = f"meeting {n}"
                    if n % 2 == 0:
                        await call(client, "create_meeting", {"title": title})
                    else:
                        reply = await server.call("create_meeting", {"title": title})
                        assert not reply.get("isError"), reply
                expected = {f"meeting {n}" for n in range(MEETINGS)}
                assert expected <= await _titles(client)
                seen_by_process: set[str] = set()
                for page in range(1, MEETINGS // 50 + 2):
                    listed = await server.call("list_meetings", {"per_page": 50, "page_no": page})
                    seen_by_process |= {m["title"] for m in listed["structuredContent"]["data"]}
                assert expected <= seen_by_process


def _foreign_sqlite(path: Path) -> Path:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    return path


def _loop(path: Path) -> Path:
    path.symlink_to(path)  # a path no one can open, whoever runs the tests (root reads chmod 000 files)
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: tmp, "is a directory"),
        (lambda tmp: tmp / "missing" / "state.db", "does not exist"),
        (lambda tmp: (tmp / "state.db").write_bytes(b"certainly not a database " * 200) and tmp / "state.db", "cannot be read"),
        (lambda tmp: _foreign_sqlite(tmp / "other.db"), "not an rtk-mcp sandbox state file"),
        (lambda tmp: _loop(tmp / "loop.db"), "cannot be read"),
        (lambda tmp: Path(os.devnull), "not a regular file"),
    ],
    ids=["directory", "missing-folder", "not-a-database", "another-apps-database", "unreadable", "device"],
)
def test_an_unusable_state_path_is_one_clear_start_up_error(tmp_path: Path, make, reason: str, capsys) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    with pytest.raises(SandboxStateError, match=reason):
        sandbox_app(path)
    assert cli.main(["call", "list_apps", "--sandbox", "--sandbox-state", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"rtk-mcp: The sandbox could not use its state file {path}: ")
    assert reason in err[0] and "Traceback" not in err[0]


async def test_a_write_that_cannot_be_saved_fails_cleanly_and_changes_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    async with sandbox_client(state) as client:
        before = await _titles(client)
        size = state.stat().st_size
        # Another program makes the file refuse writes (as a full disk or a read-only mount would).
        with sqlite3.connect(state) as other:
            other.execute("CREATE TRIGGER refuse BEFORE INSERT ON objects BEGIN SELECT RAISE(ABORT, 'disk is full'); END")
        message = await call_error(client, "create_meeting", {"title": "Unsaved"})
        assert "could not save its state" in message and "disk is full" in message and "nothing was changed" in message
        assert await _titles(client) == before
        assert state.stat().st_size >= size  # never truncated
        with sqlite3.connect(state) as other:
            other.execute("DROP TRIGGER refuse")
        await call(client, "create_meeting", {"title": "Unsaved"})  # the retry makes exactly one
        assert sorted(await _titles(client) - before) == ["Unsaved"]
        assert len([t for t in await _titles(client) if t == "Unsaved"]) == 1


# --------------------------------------------------------------------------- problems met while running

def _problem(path: Path, what: str) -> str:
    """The start of what the agent reads for a problem with the state file."""
    return f"HTTP 423: The sandbox could not use its state file {path}: {what}"


@asynccontextmanager
async def _client(state: Path, *, lock_wait: float = 10.0) -> AsyncIterator[Client]:
    """An MCP client on a sandboxed server whose requests wait at most *lock_wait* s for the file."""
    transport = httpx2.ASGITransport(app=sandbox_app(state, lock_wait=lock_wait))
    async with Client(build_server(sandbox_settings(), transport=transport)) as client:
        yield client


async def test_while_another_process_holds_the_lock_the_server_answers_and_the_call_fails_clearly(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    async with _client(state, lock_wait=3) as client:
        await call(client, "list_apps")
        other = sqlite3.connect(state, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process writing, and taking its time
        outcome: list[str] = []

        async def waiting_call() -> None:
            outcome.append(await call_error(client, "create_meeting", {"title": "Blocked"}))

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(waiting_call)
                for _ in range(3):  # requests the server answers itself, as it does pings
                    assert (await client.list_tools()).tools
                assert outcome == []  # answered while the call was still waiting
        other.execute("ROLLBACK")
        other.close()
        assert outcome[0].startswith(_problem(state, "another process held its lock for over 3 s; nothing was changed."))
        assert "Blocked" not in {m["title"] for m in (await call(client, "list_meetings", {"per_page": 100}))["data"]}
        await call(client, "create_meeting", {"title": "After"})  # free again: served as usual


async def test_a_damaged_row_is_named_not_an_internal_failure(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    async with _client(state) as client:
        await call(client, "list_meetings")
        with sqlite3.connect(state) as other:
            other.execute("UPDATE objects SET data = '{not json' WHERE collection = 'meetings' AND id = ?", (SEED.meeting_live,))
        message = await call_error(client, "list_meetings")
        assert message.startswith(_problem(state, "a meetings record in it is damaged; nothing was changed."))
        assert "Delete it" in message and "internally" not in message and "Traceback" not in message
        with sqlite3.connect(state) as other:  # valid JSON, but not what the sandbox wrote
            other.execute("UPDATE objects SET data = ? WHERE collection = 'meetings' AND id = ?",
                          (f'{{"id": "{SEED.meeting_live}", "_app": "{SANDBOX_APP_ID}"}}', SEED.meeting_live))
        message = await call_error(client, "list_meetings")
        assert message.startswith(_problem(state, "it holds a record the sandbox cannot use (KeyError"))
        await call(client, "list_apps")  # what is intact still works


async def test_a_file_made_read_only_while_running_is_named_and_works_again_when_writable(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    async with _client(state) as client:
        await call(client, "create_meeting", {"title": "Before"})
        state.chmod(0o444)
        try:
            message = await call_error(client, "create_meeting", {"title": "Refused"})
        finally:
            state.chmod(0o644)
        assert message.startswith(_problem(state, "it is read-only"))
        assert "Make it writable" in message
        await call(client, "create_meeting", {"title": "Writable again"})


async def test_a_file_replaced_while_running_is_followed_or_named(tmp_path: Path) -> None:
    state, elsewhere = tmp_path / "state.db", tmp_path / "elsewhere.db"
    async with _client(state) as client, _client(elsewhere) as other:
        await call(other, "create_meeting", {"title": "Only in the other file"})
        await call(client, "list_meetings")
        (tmp_path / "garbage").write_bytes(b"certainly not a database " * 200)
        os.replace(tmp_path / "garbage", state)
        message = await call_error(client, "list_meetings")
        assert message.startswith(_problem(state, "it cannot be read"))
        shutil.copyfile(elsewhere, tmp_path / "copy.db")
        os.replace(tmp_path / "copy.db", state)  # a good state file in its place: that is the state now
        titles = {m["title"] for m in (await call(client, "list_meetings", {"per_page": 100}))["data"]}
        assert "Only in the other file" in titles
        state.unlink()  # deleted: starts again from the demo data
        titles = {m["title"] for m in (await call(client, "list_meetings", {"per_page": 100}))["data"]}
        assert "Only in the other file" not in titles and "Customer Support Standup" in titles


async def test_daywise_analytics_over_thousands_of_years_is_refused_at_once(tmp_path: Path) -> None:
    async with sandbox_client() as client:
        message = await call_error(client, "get_daywise_analytics", {"start_date": "0001-01-01", "end_date": "9999-12-31"})
        assert "3652059 days" in message and "at most 3653 days per call" in message
        message = await call_error(client, "get_daywise_analytics", {"start_date": "0001-01-01"})
        assert "at most 3653 days per call" in message
        year = await call(client, "get_daywise_analytics", {"start_date": "2025-01-01", "end_date": "2025-12-31"})
        assert len(year["session_stats"]["day_stats"]) == 365
