"""Secrets stay secret: a canary API token and canary storage credentials go through every tool's
success and error paths at DEBUG log level, and appear nowhere an agent or an operator could read
them: results, error texts, log records, stdout or stderr. The fake API is hostile: it echoes the
Authorization header and the request body back in successes, errors and exception texts.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import anyio.lowlevel
import httpx2
import pytest
from mcp import Client

from rtk_mcp import cli
from rtk_mcp.api.client import RealtimeKitClient
from rtk_mcp.catalog import ENDPOINTS
from rtk_mcp.server import build_server
from tests.api.test_requests import CASES
from tests.conftest import FakeAPI, settings, text_of
from tests.stdio_session import JsonHandler, clean_env, loopback_api, stdio_session

CANARY_TOKEN = "cfut_CANARY_TOKEN_5e1f0a77d2"
STORAGE = {
    "type": "sftp", "host": "files.example.com", "username": "rec",
    "access_key": "AKIA_CANARY_ACCESS_KEY_91", "secret": "CANARY_SECRET_b7c2e4",
    "password": "CANARY_PASSWORD_7731", "private_key": "-----CANARY PRIVATE KEY 0042-----",
}
CANARIES = [CANARY_TOKEN, *(STORAGE[k] for k in ("access_key", "secret", "password", "private_key"))]


def _arguments() -> dict[str, dict[str, Any]]:
    """Every tool's representative arguments, with canary credentials wherever storage can be configured."""
    arguments = {name: copy.deepcopy(case[0]) for name, case in CASES.items()}
    arguments["start_recording"]["storage_config"] = dict(STORAGE)
    arguments["create_meeting"]["recording_config"]["storage_config"] = dict(STORAGE)
    arguments["start_track_recording"]["layers"]["default"]["outputs"].append(
        {"type": "STORAGE_CONFIG", "storage_config": dict(STORAGE)}
    )
    return arguments


ARGUMENTS = _arguments()


def _echo(request: httpx2.Request) -> str:
    return f"{request.headers.get('authorization')} {request.url} {request.content.decode()}"


def echo_success(request: httpx2.Request) -> httpx2.Response:
    body = json.loads(request.content) if request.content else None
    return httpx2.Response(200, json={"success": True, "data": {
        "id": "x1", "auth": request.headers.get("authorization"), "echo": body, "storage_config": STORAGE,
    }})


def echo_400(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(400, json={"success": False, "error": {"message": _echo(request)[:200]},
                                      "errors": [{"message": _echo(request)[-200:]}]})


def echo_500(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(500, text=f"<html>{_echo(request)}</html>", headers={"content-type": "text/html"})


def echo_success_false(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json={"success": False, "message": _echo(request)})


def echo_reset(request: httpx2.Request) -> httpx2.Response:
    raise httpx2.ReadError(f"connection reset while sending {_echo(request)}", request=request)


def echo_connect_error(request: httpx2.Request) -> httpx2.Response:
    raise httpx2.ConnectError(f"refused {_echo(request)}", request=request)


def echo_bug(request: httpx2.Request) -> httpx2.Response:
    raise RuntimeError(f"a bug in the transport: {_echo(request)}")


RESPONDERS: dict[str, Callable[[httpx2.Request], httpx2.Response]] = {
    "success": echo_success, "400": echo_400, "500": echo_500, "success false": echo_success_false,
    "reset": echo_reset, "connect error": echo_connect_error, "internal error": echo_bug,
}


async def _no_wait(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


def _assert_no_canary(text: str, where: str) -> None:
    for canary in CANARIES:
        assert canary not in text, f"canary {canary[:12]}... leaked into {where}"


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # the root logger: ours, httpx2's, httpcore's and the MCP SDK's records
    for name in ("rtk_mcp", "rtk_mcp.transport.http", "httpx2", "httpcore", "httpcore2", "mcp"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.mark.parametrize("mode", RESPONDERS)
async def test_no_canary_in_any_result_or_log(
    mode: str, debug_logs: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    api = FakeAPI(responder=RESPONDERS[mode])
    seen: list[str] = []
    http = RealtimeKitClient(settings(api_token=CANARY_TOKEN), transport=api.transport, sleep=_no_wait)
    async with Client(build_server(settings(api_token=CANARY_TOKEN), client=http)) as client:
        for endpoint in ENDPOINTS:
            result = await client.call_tool(endpoint.name, ARGUMENTS[endpoint.name])
            assert result.is_error is (mode != "success"), (endpoint.name, text_of(result))
            seen.append(result.model_dump_json())
    assert len(api.requests) >= len(ENDPOINTS)
    # The canaries did go out: the token in every request, the credentials in the storage bodies.
    assert all(r.headers["authorization"] == f"Bearer {CANARY_TOKEN}" for r in api.requests)
    assert sum(STORAGE["secret"] in r.content.decode() for r in api.requests) >= 3
    _assert_no_canary("\n".join(seen), "a tool result")
    assert debug_logs.records, "nothing was logged at DEBUG: the check below would prove nothing"
    _assert_no_canary(debug_logs.text, "the logs")
    for record in debug_logs.records:
        _assert_no_canary(record.getMessage() + repr(record.args) + str(record.exc_info), "a log record")
    out, err = capsys.readouterr()
    _assert_no_canary(out + err, "stdout/stderr")


async def test_invalid_arguments_never_echo_credentials(debug_logs: pytest.LogCaptureFixture) -> None:
    api = FakeAPI()
    bad_storage = {**STORAGE, "type": "ftp", "port": CANARY_TOKEN, "extra": STORAGE["secret"]}
    async with Client(build_server(settings(api_token=CANARY_TOKEN), transport=api.transport)) as client:
        result = await client.call_tool("start_recording", {"meeting_id": "m1", "storage_config": bad_storage})
    assert result.is_error and "storage_config" in text_of(result)
    assert api.requests == []
    _assert_no_canary(result.model_dump_json() + debug_logs.text, "a validation error")


@pytest.fixture
def echo_api_url() -> Iterator[str]:
    class Echo(JsonHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            failing = "meetings" in self.path
            payload = (
                {"success": False, "error": {"message": f"{self.headers['Authorization']} rejected {body}"[:290]}}
                if failing
                else {"success": True, "data": {"id": "r1", "echo": body, "storage_config": STORAGE}}
            )
            self.answer(payload, 400 if failing else 200)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer  # noqa: N815 (http.server's naming)

    with loopback_api(Echo) as url:
        yield url


async def test_no_canary_on_a_stdio_servers_stdout_or_stderr(echo_api_url: str) -> None:
    env = clean_env(CLOUDFLARE_API_TOKEN=CANARY_TOKEN, CLOUDFLARE_ACCOUNT_ID="acc-9", RTK_APP_ID="app-9",
                    RTK_API_BASE_URL=echo_api_url)
    async with stdio_session("--log-level", "DEBUG", env=env) as session:
        await session.initialize()
        calls = [("start_recording", ARGUMENTS["start_recording"], False),  # success, echoing the body
                 ("create_meeting", ARGUMENTS["create_meeting"], True),  # 400, echoing token and body
                 ("start_recording", {"meeting_id": "m1", "storage_config": {**STORAGE, "type": "ftp"}}, True)]
        for name, arguments, failing in calls:
            assert bool((await session.call(name, arguments)).get("isError")) is failing
        await session.end_input()
    assert "tool=create_meeting POST" in session.stderr  # DEBUG logging really was on
    _assert_no_canary(b"".join(session.stdout_lines).decode(), "stdout")
    _assert_no_canary(session.stderr, "stderr")


# --redact-secrets: the secrets a call is *for* (participant tokens, stream keys, signed URLs) masked.

SIGNED = "https://bucket.example.com/rec/r1.mp4?X-Amz-Signature=abcdef0123&X-Amz-Credential=AKIA"
REVEALING = {
    "add_participant": {"id": "p1", "token": "eyJhbGciOi.participant.jwt"},
    "refresh_participant_token": {"token": "eyJhbGciOi.refreshed.jwt"},
    "create_livestream": {"id": "l1", "stream_key": "live_sk_0123456789", "ingest_server": "rtmps://live.example.com"},
    "get_recording": {"id": "r1", "download_url": SIGNED, "audio_download_url": SIGNED,
                      "storage_config": {"type": "aws", "access_key": "AKIAECHOED", "secret": "echoed-secret"}},
    "get_session_chat": {"chat_download_url": SIGNED, "chat_download_url_expiry": "2026-01-01T00:00:00Z"},
    "get_session_summary": {"summaryDownloadUrl": SIGNED, "summary": "ok"},
    "list_recordings": [{"id": "r1", "download_url": SIGNED}, {"id": "r2", "download_url": None}],
}
SECRET_VALUES = ["eyJhbGciOi", "live_sk_0123456789", "X-Amz-Signature", "AKIAECHOED", "echoed-secret"]


def _revealing_api() -> FakeAPI:
    by_tool = {KIT_PATHS[name]: data for name, data in REVEALING.items()}

    def respond(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"success": True, "data": by_tool[(request.method, request.url.path)]})

    return FakeAPI(responder=respond)


KIT_PATHS = {name: (CASES[name][1], "/client/v4/accounts/acc123/realtime/kit" + CASES[name][2]) for name in REVEALING}


@pytest.mark.parametrize("redact", [False, True], ids=["default", "redact"])
async def test_redact_secrets_masks_tokens_stream_keys_and_signatures(redact: bool) -> None:
    api = _revealing_api()
    async with Client(build_server(settings(redact_secrets=redact), transport=api.transport)) as client:
        results = {name: await client.call_tool(name, CASES[name][0]) for name in REVEALING}
    for name, result in results.items():
        assert not result.is_error, (name, text_of(result))
        text = text_of(result)
        assert json.loads(text) == result.structured_content
        if redact:
            assert [s for s in SECRET_VALUES if s in text] == [], name
    if redact:
        recording = results["get_recording"].structured_content
        assert recording["download_url"] == "https://bucket.example.com/rec/r1.mp4?[redacted]"
        assert recording["storage_config"] == {"type": "aws", "access_key": "[redacted]", "secret": "[redacted]"}
        assert results["add_participant"].structured_content == {"id": "p1", "token": "[redacted]"}
        assert results["create_livestream"].structured_content["stream_key"] == "[redacted]"
        assert results["create_livestream"].structured_content["ingest_server"] == "rtmps://live.example.com"
    else:  # the token is the point of add_participant: by default the agent gets it, and the URLs work
        assert results["add_participant"].structured_content["token"] == "eyJhbGciOi.participant.jwt"
        assert results["create_livestream"].structured_content["stream_key"] == "live_sk_0123456789"
        assert results["get_recording"].structured_content["download_url"] == SIGNED
        # Storage credentials are write-only in the API: echoed, they are masked even so.
        assert results["get_recording"].structured_content["storage_config"]["secret"] == "[redacted]"


@pytest.mark.parametrize("how", ["flag", "env"])
def test_redact_secrets_from_the_command_line(
    how: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["call", "add_participant", json.dumps({"meeting_id": "5a0db0c5-0003-4000-8000-000000000001",
                                                   "name": "Ada", "preset_name": "group_call_host",
                                                   "custom_participant_id": "ada"}), "--sandbox"]
    assert cli.main(argv) == 0
    plain = json.loads(capsys.readouterr().out)
    assert plain["token"] and plain["token"] != "[redacted]"
    if how == "flag":
        argv.append("--redact-secrets")
    else:
        monkeypatch.setenv("RTK_REDACT_SECRETS", "1")
    assert cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["token"] == "[redacted]"
