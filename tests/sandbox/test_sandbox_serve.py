"""``rtk-mcp sandbox serve``: the emulator over HTTP for any RealtimeKit client, sharing the state file.

The server runs as a real subprocess on a free loopback port; the official ``cloudflare`` SDK and a
plain HTTP client talk to it, and an ``rtk-mcp --sandbox`` process on the same file sees their work.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import httpx2
from anyio.abc import Process
from anyio.streams.text import TextReceiveStream
from cloudflare import AsyncCloudflare

from rtk_mcp.sandbox import SANDBOX_APP_ID
from rtk_mcp.testing import SEED, Faults, Sandbox
from tests.webhook_receiver import receiver, verify

CHECKOUT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": "Bearer whatever"}  # any token works
ENV = {**{k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "RTK_"))}, "PYTHONPATH": str(CHECKOUT)}


@asynccontextmanager
async def served(*args: str) -> AsyncIterator[tuple[str, Process]]:
    """``rtk-mcp sandbox serve --port 0 ARGS`` running; the base URL it printed, and the process."""
    command = [sys.executable, "-m", "rtk_mcp", "sandbox", "serve", "--port", "0", *args]
    async with await anyio.open_process(command, cwd=CHECKOUT, env=ENV) as process:
        try:
            assert process.stderr is not None
            printed = ""
            with anyio.fail_after(60):
                async for chunk in TextReceiveStream(process.stderr):
                    printed += chunk
                    if "\n" in printed:
                        break
            found = re.search(r"at (http://127\.0\.0\.1:\d+/client/v4) ", printed)
            assert found, printed
            yield found.group(1), process
        finally:
            process.terminate()
            with anyio.fail_after(30):
                await process.wait()


def _rtk_mcp_call(state: Path, tool: str, arguments: dict[str, object]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rtk_mcp", "call", tool, json.dumps(arguments), "--sandbox", "--sandbox-state", str(state)],
        cwd=CHECKOUT, env=ENV, capture_output=True, text=True, timeout=60, check=False,
    )


async def test_the_cloudflare_sdk_creates_and_lists_a_meeting_that_rtk_mcp_on_the_same_file_sees(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    async with served("--sandbox-state", str(state)) as (base_url, _):
        async with AsyncCloudflare(api_token="any-token", base_url=base_url, max_retries=0) as cloudflare:
            meetings = cloudflare.realtime_kit.meetings
            created = await meetings.create(SANDBOX_APP_ID, account_id="any-account", title="Made with the SDK")
            assert created.success and created.data is not None and created.data.title == "Made with the SDK"
            listed = await meetings.get(SANDBOX_APP_ID, account_id="any-account", search="Made with the SDK")
            assert [m.id for m in listed.data] == [created.data.id]
            assert listed.paging.total_count == 1
        seen = await anyio.to_thread.run_sync(_rtk_mcp_call, state, "list_meetings", {"search": "Made with the SDK"})
        assert seen.returncode == 0, seen.stderr
        assert [m["id"] for m in json.loads(seen.stdout)["data"]] == [created.data.id]


async def test_a_plain_http_client_gets_the_api_envelope_and_faults_switched_in_the_file(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    async with (
        served("--sandbox-state", str(state)) as (base_url, _),
        httpx2.AsyncClient(base_url=base_url, headers=AUTH) as http,
    ):
        apps = await http.get("/accounts/acc/realtime/kit/apps")
        assert apps.status_code == 200 and apps.json()["success"] is True
        assert SANDBOX_APP_ID in {app["id"] for app in apps.json()["data"]}
        Faults(state).fail(429, times=1)
        limited = await http.get("/accounts/acc/realtime/kit/apps")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "300"
        assert limited.json()["success"] is False
        assert (await http.get("/accounts/acc/realtime/kit/apps")).status_code == 200


async def test_serve_delivers_webhooks_for_actions_through_its_api_and_for_time_passing(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    api = f"/accounts/acc/realtime/kit/{SANDBOX_APP_ID}"
    with receiver() as sink:
        async with (
            served("--sandbox-state", str(state)) as (base_url, _),
            httpx2.AsyncClient(base_url=base_url, headers=AUTH) as http,
        ):
            hook = {"name": "r", "url": sink.url, "events": ["meeting.participantLeft", "meeting.ended"]}
            assert (await http.post(f"{api}/webhooks", json=hook)).status_code == 201
            assert (await http.post(f"{api}/meetings/{SEED.meeting_live}/active-session/kick-all")).is_success
            # The keep-alive runs out in sandbox time, moved by another process that sends nothing itself.
            await Sandbox(state).advance(3600)
            with anyio.fail_after(30):  # nothing but the served sandbox's own delivery loop sends them
                while len(sink.unique()) < 5:
                    assert await anyio.to_thread.run_sync(sink.arrived.wait, 30)
                    sink.arrived.clear()
            published = await http.get(base_url.removesuffix("/client/v4") + "/.well-known/webhooks.json")
    events = [r.event["event"] for r in sink.unique()]
    assert events == ["meeting.participantLeft"] * 4 + ["meeting.ended"]
    for request in sink.unique():
        verify(published.json()["data"]["publicKey"], request)


def test_serve_refuses_a_state_path_that_is_not_a_file_in_one_line() -> None:
    done = subprocess.run([sys.executable, "-m", "rtk_mcp", "sandbox", "serve", "--port", "0", "--sandbox-state",
                           "/dev/null"], cwd=CHECKOUT, env=ENV, capture_output=True, text=True, timeout=60, check=False)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0].startswith("rtk-mcp sandbox: error: The sandbox could not use its state file /dev/null: it is not a regular file")
