"""The sandbox's state file: shared safely by clients and processes, refused clearly when unusable,
never changed by a write that could not be saved."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import pytest

from rtk_mcp import cli
from rtk_mcp.sandbox import SandboxStateError, sandbox_app
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
    ],
    ids=["directory", "missing-folder", "not-a-database", "another-apps-database", "unreadable"],
)
def test_an_unusable_state_path_is_one_clear_start_up_error(tmp_path: Path, make, reason: str, capsys) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    with pytest.raises(SandboxStateError, match=reason):
        sandbox_app(path)
    assert cli.main(["call", "list_apps", "--sandbox", "--sandbox-state", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("rtk-mcp: ") and reason in err[0] and "Traceback" not in err[0]


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
