"""Faults on demand: the sandbox answers 401, 403, 429 or a 5xx, or ends a recording ERRORED, when asked.

Each fault is switched on and off in a state file (from Python or the command line), and what the
agent reads for it is exactly what it reads when the live API, faked at the transport seam, answers
that status with Cloudflare's error body.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from rtk_mcp.testing import (
    SEED,
    Faults,
    ManualClock,
    Sandbox,
    call,
    call_error,
    sandbox_client,
)
from tests.conftest import FakeAPI, connect
from tests.webhook_receiver import receiver

CHECKOUT = Path(__file__).resolve().parents[2]


def _cloudflare_error(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}


#: What the live API answers for each status (Cloudflare's v4 error envelope), and its headers.
LIVE = {
    401: (_cloudflare_error(10000, "Authentication error"), {}),
    403: (_cloudflare_error(10000, "Authentication error"), {}),
    429: (_cloudflare_error(971, "Please wait and consider throttling your request speed"), {"Retry-After": "300"}),
    500: (_cloudflare_error(500, "Internal Server Error"), {}),
    503: (_cloudflare_error(503, "Service Unavailable"), {}),
}


async def _live_error_text(status: int, tool: str, arguments: dict[str, Any]) -> str:
    body, headers = LIVE[status]
    api = FakeAPI(responder=lambda request: httpx2.Response(status, json=body, headers=headers))
    async with connect(api) as client:
        return await call_error(client, tool, arguments)


# A write: not resent after a 5xx, so each call meets the fault once and nothing waits between attempts.
WRITE = ("create_meeting", {"title": "Standup"})


@pytest.mark.parametrize("status", sorted(LIVE))
async def test_a_status_fault_reads_exactly_like_the_live_api_and_switches_off(tmp_path: Path, status: int) -> None:
    state = tmp_path / "state.db"
    faults = Faults(state)
    tool, arguments = WRITE
    with anyio.fail_after(30):
        async with sandbox_client(state) as client:
            fault_id = faults.fail(status)
            from_sandbox = await call_error(client, tool, arguments)
            assert from_sandbox == await _live_error_text(status, tool, arguments)
            assert f"HTTP {status}" in from_sandbox
            assert (await call_error(client, "list_apps")).startswith(f"HTTP {status}")  # every operation, until off
            assert faults.clear(fault_id) == 1
            assert (await call(client, tool, arguments))["title"] == "Standup"


async def test_a_fault_scoped_to_an_operation_and_counted_fails_only_those_calls(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    faults = Faults(state)
    with anyio.fail_after(30):
        async with sandbox_client(state) as client:
            faults.fail(401, operation="list_meetings", times=2)
            await call(client, "create_meeting", {"title": "Unaffected"})
            for _ in range(2):
                assert (await call_error(client, "list_meetings")).startswith("HTTP 401 Unauthorized")
            assert await call(client, "list_meetings")  # used up
            assert faults.list() == []


async def test_a_fault_scoped_to_a_path_pattern_fails_only_matching_requests(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    faults = Faults(state)
    with anyio.fail_after(30):
        async with sandbox_client(state) as client:
            faults.fail(403, path="*/recordings*", message="Token lacks Realtime Admin")
            message = await call_error(client, "list_recordings")
            assert message.startswith("HTTP 403 Forbidden: Token lacks Realtime Admin.")
            await call(client, "list_meetings")


def test_faults_cannot_be_switched_on_as_nothing_the_api_answers(tmp_path: Path) -> None:
    faults = Faults(tmp_path / "state.db")
    for wrong, reason in [({"status": 404}, "401, 403, 429 or 500-599"), ({"status": 401, "operation": "nope"}, "not an operation"),
                          ({"status": 401, "times": 0}, "at least 1")]:
        with pytest.raises(ValueError, match=reason):
            faults.fail(**wrong)
    assert faults.list() == []


async def test_faults_switched_from_the_command_line_reach_a_running_sandbox(tmp_path: Path) -> None:
    state = tmp_path / "state.db"

    def rtk_mcp(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(CHECKOUT)}
        return subprocess.run([sys.executable, "-m", "rtk_mcp", "sandbox", "fault", "--sandbox-state", str(state), *args],
                               cwd=CHECKOUT, env=env, capture_output=True, text=True, timeout=60, check=False)

    with anyio.fail_after(120):
        async with sandbox_client(state) as client:
            switched = await anyio.to_thread.run_sync(lambda: rtk_mcp("on", "429", "--operation", "create_meeting"))
            assert switched.returncode == 0, switched.stderr
            message = await call_error(client, *WRITE)
            assert message == await _live_error_text(429, *WRITE)
            assert "Retry after 300 s" in message
            assert (await anyio.to_thread.run_sync(lambda: rtk_mcp("off"))).returncode == 0
            await call(client, *WRITE)
            refused = await anyio.to_thread.run_sync(lambda: rtk_mcp("on", "418"))
            assert refused.returncode == 2 and refused.stderr.startswith("rtk-mcp sandbox: error: status 418")


async def _recording_in_progress(client: Any, clock: ManualClock) -> dict[str, Any]:
    started = await call(client, "start_recording", {"meeting_id": SEED.meeting_live})
    clock.advance(seconds=5)
    recording = await call(client, "get_recording", {"recording_id": started["id"]})
    assert recording["status"] == "RECORDING"
    return recording


async def test_a_recording_fault_ends_the_recording_in_progress_errored(tmp_path: Path) -> None:
    state, clock = tmp_path / "state.db", ManualClock()
    async with sandbox_client(state, clock=clock) as client:
        recording = await _recording_in_progress(client, clock)
        Faults(state).fail_recording(recording["id"])
        clock.advance(seconds=30)
        ended = await call(client, "get_recording", {"recording_id": recording["id"]})
        assert ended["status"] == "ERRORED"
        assert ended["stop_reason"]["reason"] == "INTERNAL_ERROR"
        assert ended["recording_duration"] == 32 and ended.get("download_url") is None  # recording from 3 s to 35 s
        assert Faults(state).list() == []  # used up by that recording


async def test_a_recording_fault_set_ahead_ends_the_next_recording_errored(tmp_path: Path) -> None:
    state, clock = tmp_path / "state.db", ManualClock()
    faults = Faults(state)
    async with sandbox_client(state, clock=clock) as client:
        faults.fail_recording()
        started = await call(client, "start_recording", {"meeting_id": SEED.meeting_live})
        assert started["status"] == "INVOKED"
        clock.advance(seconds=5)
        assert (await call(client, "get_recording", {"recording_id": started["id"]}))["status"] == "ERRORED"
        # Only that one: the next recording runs normally.
        again = await _recording_in_progress(client, clock)
        assert again["status"] == "RECORDING"


async def test_a_recording_ended_errored_by_a_fault_sends_its_status_update_webhook_without_a_request(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    sandbox = Sandbox(state, clock=ManualClock())
    with receiver() as sink, anyio.fail_after(30):
        async with sandbox_client(sandbox=sandbox) as client:
            await call(client, "create_webhook", {"name": "r", "url": sink.url, "events": ["recording.statusUpdate"]})
            started = await call(client, "start_recording", {"meeting_id": SEED.meeting_live})
            await sandbox.advance(5)
            Faults(state).fail_recording(started["id"])
            await sandbox.advance(1)  # no API request: moving time is enough for the fault to act
            assert await sandbox.deliver() == 0
            ended = await call(client, "get_recording", {"recording_id": started["id"]})
    assert ended["status"] == "ERRORED"
    updates = [r.event["recording"] for r in sink.unique()]
    assert [u["status"] for u in updates] == ["INVOKED", "RECORDING", "ERRORED"]
    assert updates[-1]["id"] == started["id"] and updates[-1]["stoppedTime"] == ended["stopped_time"]
