"""Input a person or a host gets slightly wrong is refused with a message saying what to fix, and the
command line exits quietly when its reader goes away."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx2
import pytest

from rtk_mcp import cli
from rtk_mcp.config import Settings
from tests.conftest import FakeAPI, connect, text_of
from tests.stdio_session import ROOT, clean_env

WEBHOOK = {"name": "events", "events": ["meeting.started"]}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_call_refuses_nan_and_infinity_instead_of_sending_them(capsys: pytest.CaptureFixture[str],
                                                                constant: str) -> None:
    code = cli.main(["--sandbox", "call", "list_meetings", f'{{"per_page": {constant}}}'])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert f"{constant.lstrip('-')} is not a JSON value" in err


@pytest.mark.parametrize(("tool", "arguments", "field", "reason"), [
    # U+202E (right-to-left override) shows ".../exe.png" as ".../gnp.exe"; U+2066 isolates; U+200B zero width.
    ("update_participant", {"meeting_id": "m1", "participant_id": "p1",
                            "picture": "https://example.com/\u202egnp.exe"}, "picture", "bidirectional"),
    ("create_webhook", {**WEBHOOK, "url": "https://exa\u2066mple.com/hook"}, "url", "bidirectional"),
    ("create_webhook", {**WEBHOOK, "url": "https://example\u200b.com/hook"}, "url", "invisible"),
    ("create_webhook", {**WEBHOOK, "url": "https://example.com:0/hook"}, "url", "port"),
    ("create_webhook", {**WEBHOOK, "url": "https://example.com:65536/hook"}, "url", "port"),
    ("create_webhook", {**WEBHOOK, "url": "https://example.com:99999999999/hook"}, "url", "port"),
    ("create_webhook", {**WEBHOOK, "url": "https://example.com:https/hook"}, "url", "port"),
    ("start_recording", {"meeting_id": "m1", "rtmp_out_config": {"rtmp_url": "rtmps://live.example.com:70000/k"}},
     "rtmp_out_config.rtmp_url", "port"),
])
async def test_url_arguments_with_hidden_characters_or_impossible_ports_are_refused_unsent(
        fake_api: FakeAPI, tool: str, arguments: dict, field: str, reason: str) -> None:
    async with connect(fake_api) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error and f"'{field}'" in text_of(result) and reason in text_of(result), text_of(result)
    assert fake_api.requests == []


async def test_url_arguments_with_real_ports_still_go_through(fake_api: FakeAPI) -> None:
    async with connect(fake_api) as client:
        for url in ("https://example.com:1/hook", "https://example.com:65535/hook", "https://[2001:db8::1]:8443/h"):
            result = await client.call_tool("create_webhook", {**WEBHOOK, "url": url})
            assert not result.is_error, text_of(result)
    assert len(fake_api.requests) == 3


@pytest.mark.parametrize("app_id", ["..", ".", "a/b", "%2e%2e", "app\u202e1", " "])
async def test_an_rtk_app_id_that_is_no_id_is_refused_by_every_call(fake_api: FakeAPI, app_id: str) -> None:
    async with connect(fake_api, default_app_id=app_id) as client:
        default = await client.call_tool("list_meetings", {})
        named = await client.call_tool("list_meetings", {"app_id": "app-1"})
    for result in (default, named):
        assert result.is_error and "RTK_APP_ID is not an app id" in text_of(result), text_of(result)
        assert "list_apps" in text_of(result)
    assert fake_api.requests == []


def test_an_rtk_app_id_that_is_no_id_shows_in_the_startup_line() -> None:
    found = Settings.load({}, {"RTK_APP_ID": "..", "CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_ACCOUNT_ID": "a"})
    assert found.default_app_id == ".."
    assert any("RTK_APP_ID is not an app id" in problem for problem in found.malformed())
    assert Settings.load({}, {"RTK_APP_ID": "app-7"}).malformed() == []


@pytest.mark.parametrize("argv", [["tools"], ["tools", "--json"], ["--sandbox", "call", "list_meetings"]],
                         ids=["tools", "tools-json", "call"])
def test_a_reader_that_leaves_early_ends_the_command_quietly(argv: list[str]) -> None:
    """`rtk-mcp tools | head -2`: a pipe whose reader is gone before anything is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "rtk_mcp", *argv], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, cwd=ROOT, env=clean_env(), timeout=120)
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


async def test_in_the_desktop_extension_errors_name_the_settings_form_fields_not_variables() -> None:
    """Bundle users cannot set environment variables: a 401, a 403 and a call without an app name the form's fields."""
    statuses = iter([401, 403])
    api = FakeAPI(responder=lambda request: httpx2.Response(next(statuses), json={"success": False}))
    async with connect(api, settings_form=True, default_app_id=None) as client:
        unauthorized = text_of(await client.call_tool("get_meeting", {"app_id": "a1", "meeting_id": "m1"}))
        forbidden = text_of(await client.call_tool("get_meeting", {"app_id": "a1", "meeting_id": "m1"}))
        no_app = text_of(await client.call_tool("list_meetings", {}))
    assert "'Cloudflare API token'" in unauthorized and "CLOUDFLARE_API_TOKEN" not in unauthorized
    assert "'Cloudflare account ID'" in forbidden and "CLOUDFLARE_ACCOUNT_ID" not in forbidden
    assert "'Default app ID'" in no_app and "RTK_APP_ID" not in no_app
    async with connect(FakeAPI(responder=lambda request: httpx2.Response(401, json={}))) as client:
        assert "CLOUDFLARE_API_TOKEN" in text_of(await client.call_tool("get_meeting", {"meeting_id": "m1"}))
