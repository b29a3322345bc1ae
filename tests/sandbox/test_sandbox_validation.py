"""The sandbox checks request bodies against the reference file: the parameter schemas of
``endpoints.json`` and the ranges and URL formats its docs page adds, told as a 400 naming the field.

Bodies go straight to the emulator here (the catalog's own validation would stop most of them first).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from rtk_mcp.sandbox import SANDBOX_APP_ID, SEED, sandbox_app

ROOT = Path(__file__).resolve().parents[2]
KIT = "/accounts/sandbox-account/realtime/kit"
APP = f"/{SANDBOX_APP_ID}"  # where the rows' paths start, under KIT
_PARTICIPANT = f"{APP}/meetings/{SEED.meeting_live}/participants/{SEED.participant_live_guest}"


@pytest.fixture
async def client() -> AsyncIterator[httpx2.AsyncClient]:
    transport = httpx2.ASGITransport(app=sandbox_app())
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox/client/v4") as c:
        yield c


@pytest.mark.parametrize(
    ("method", "path", "body", "problem"),
    [
        # the docs page's ranges and formats, which endpoints.json leaves out
        ("POST", f"{APP}/recordings", {"meeting_id": SEED.meeting_live, "video_config": {"width": 1921}},
         "'video_config.width' must be <= 1920"),
        ("POST", f"{APP}/recordings", {"meeting_id": SEED.meeting_live, "max_seconds": 59}, "'max_seconds' must be >= 60"),
        ("POST", f"{APP}/meetings", {"recording_config": {"video_config": {"watermark": {"size": {"height": 0}}}}},
         "'recording_config.video_config.watermark.size.height' must be >= 1"),
        ("POST", f"{APP}/meetings", {"recording_config": {"live_streaming_config": {"rtmp_url": "live/key"}}},
         "'recording_config.live_streaming_config.rtmp_url' must be an absolute URI"),
        ("PATCH", f"{APP}/presets/{SEED.preset_participant}", {"config": {"media": {"video": {"frame_rate": 31}}}},
         "'config.media.video.frame_rate' must be <= 30"),
        ("PATCH", f"{APP}/webhooks/{SEED.webhook_id}", {"url": "/hooks"}, "'url' must be an absolute URI"),
        ("PATCH", _PARTICIPANT, {"picture": "me.png"}, "'picture' must be an absolute URI"),
        # endpoints.json's own schemas
        ("POST", f"{APP}/meetings", {"title": 42}, "'title' must be a string or null"),
        ("POST", "/apps", [], "'body' must be an object"),
        ("POST", "/apps", None, "'name' is required"),
        ("POST", f"{APP}/recordings", {"interactive_config": {"type": "ID4"}}, "'interactive_config.type' must be ID3"),
        ("POST", f"{APP}/recordings/track", {"meeting_id": "m", "layers": {"default": {"outputs": [{"type": "DISK"}]}}},
         "'layers.default.outputs[0].type' must be one of: REALTIMEKIT_BUCKET, STORAGE_CONFIG"),
    ],
)
async def test_a_body_against_the_reference_is_refused_with_the_field_and_its_rule(
    client: httpx2.AsyncClient, method: str, path: str, body: Any, problem: str
) -> None:
    r = await client.request(method, KIT + path, json=body)
    assert r.status_code == 400, r.text
    assert r.json() == {"success": False, "error": {"code": 400, "message": f"Invalid request body: {problem}"}}


async def test_a_refused_value_is_never_repeated_in_the_answer(client: httpx2.AsyncClient) -> None:
    storage = {"type": "aws", "bucket": "b", "secret": 8675309123}
    r = await client.post(f"{KIT}{APP}/meetings", json={"recording_config": {"storage_config": storage}})
    assert r.json()["error"]["message"] == "Invalid request body: 'recording_config.storage_config.secret' must be a string"
    assert "8675309123" not in r.text


async def test_the_documented_bounds_themselves_and_unnamed_keys_are_accepted(client: httpx2.AsyncClient) -> None:
    meeting = {"title": "t", "session_keep_alive_time_in_secs": 600, "not_in_the_reference": 1,
               "recording_config": {"max_seconds": 86400, "video_config": {"width": 1920, "height": 1}}}
    assert (await client.post(f"{KIT}{APP}/meetings", json=meeting)).is_success
    preset = {"config": {"media": {"video": {"frame_rate": 30}}}}
    assert (await client.patch(f"{KIT}{APP}/presets/{SEED.preset_participant}", json=preset)).is_success


_PROBE = """
import json, sys, anyio
from rtk_mcp.testing import call, sandbox_client

async def main():
    loaded = {}
    async with sandbox_client() as client:
        await client.list_tools()
        loaded["listed"] = "jsonschema" in sys.modules
        await call(client, "list_meetings", {})
        loaded["read"] = "jsonschema" in sys.modules
        await call(client, "create_meeting", {"title": "t"})
        loaded["written"] = "jsonschema" in sys.modules
    print(json.dumps(loaded))

anyio.run(main)
"""


def test_jsonschema_loads_only_when_the_sandbox_first_checks_a_body() -> None:
    run = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout) == {"listed": False, "read": False, "written": True}


@pytest.mark.parametrize("body", ["[" * 5000, '{"title": ' + "[" * 3000 + "]" * 3000 + "}"])
async def test_a_body_nested_too_deeply_is_a_400_not_a_crash(client: httpx2.AsyncClient, body: str) -> None:
    answer = await client.post(f"{KIT}{APP}/meetings", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and "nested too deeply" in answer.json()["error"]["message"]
