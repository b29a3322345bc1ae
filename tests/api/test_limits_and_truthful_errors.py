"""Input limits, upstream bodies of any shape, masking that cannot be sidestepped, and errors that tell the truth."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client

from rtk_mcp.api.client import RealtimeKitClient
from rtk_mcp.server import MAX_ERROR_CHARS, build_server
from tests.conftest import PRESET, TOKEN, FakeAPI, connect, settings, text_of
from tests.stdio_session import JsonHandler, clean_env, loopback_api, stdio_session

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJwYXJ0aWNpcGFudCI6InAxIn0.c2lnbmF0dXJlLXZhbHVlLTEyMw"


async def _no_wait(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


@asynccontextmanager
async def served(api: FakeAPI, **server_options: Any) -> AsyncIterator[Client]:
    client = RealtimeKitClient(settings(), transport=api.transport, sleep=_no_wait)
    async with Client(build_server(settings(**server_options), client=client)) as mcp_client:
        yield mcp_client


def _preset_with(**ui_changes: Any) -> dict[str, Any]:
    preset = copy.deepcopy(PRESET)
    preset["ui"].update(ui_changes)
    return preset


def _nested(levels: int) -> Any:
    value: Any = "deep"
    for _ in range(levels):
        value = {"a": [value]}
    return value


@pytest.mark.parametrize(("tool", "arguments", "field"), [
    # Non-finite numbers are in test_non_finite_numbers_on_the_wire_are_refused: JSON has no way to
    # write them, so only a raw stdio line can carry them (an in-memory client sends them as null).
    ("list_meetings", {"page_no": 10**30}, "page_no"),
    ("list_meetings", {"search": "x" * 10_000_000}, "search"),
    ("get_meeting", {"meeting_id": "m" * 20_000}, "meeting_id"),
    ("get_meeting", {"meeting_id": "m" * 70_000}, "meeting_id"),
    ("create_meeting", {"title": "t" * 10_001}, "title"),
    ("create_preset", _preset_with(design_tokens={**PRESET["ui"]["design_tokens"], "spacing_base": float("nan")}),
     "ui.design_tokens.spacing_base"),
    ("create_preset", _preset_with(config_diff={"n": -(10**20)}), "ui.config_diff"),
    ("create_preset", _preset_with(config_diff={"s": "x" * 10_001}), "ui.config_diff"),
    ("create_preset", _preset_with(config_diff=_nested(40)), "ui.config_diff"),
])
async def test_values_out_of_bounds_are_refused_naming_the_field_without_a_request(
    fake_api: FakeAPI, tool: str, arguments: dict[str, Any], field: str
) -> None:
    async with connect(fake_api) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error and f"'{field}'" in text_of(result) and "No request was sent" in text_of(result)
    assert len(text_of(result)) < MAX_ERROR_CHARS
    assert fake_api.requests == []


async def test_values_at_the_limits_are_sent(fake_api: FakeAPI) -> None:
    async with connect(fake_api) as client:
        result = await client.call_tool("list_meetings", {"search": "x" * 10_000, "page_no": 2**53 - 1})
        preset = await client.call_tool("create_preset", _preset_with(config_diff={"ok": [1.5, -2, "y" * 100]}))
    assert not result.is_error and not preset.is_error, text_of(preset)
    assert len(fake_api.requests) == 2


@pytest.mark.parametrize("body", [
    '{"success": true, "data": ' + '{"a": [' * 300 + '"deep"' + ']}' * 300 + "}",
    "[" * 100_000 + "]" * 100_000,
])
async def test_an_answer_nested_too_deep_after_a_write_is_a_bad_response_with_the_outcome_hint(body: str) -> None:
    api = FakeAPI(responder=lambda request: httpx2.Response(200, content=body.encode()))
    async with served(api) as client:
        result = await client.call_tool("create_meeting", {"title": "t"})
    text = text_of(result)
    assert result.is_error and "this is a bug" not in text
    assert "may have taken effect" in text and "list_meetings" in text
    assert len(api.requests) == 1


async def test_nan_in_an_answer_never_makes_invalid_json() -> None:
    body = b'{"success": true, "data": {"id": "m1", "score": NaN, "max": Infinity, "list": [1, -Infinity]}}'
    api = FakeAPI(responder=lambda request: httpx2.Response(200, content=body))
    async with served(api) as client:
        result = await client.call_tool("get_meeting", {"meeting_id": "m1"})
    assert not result.is_error

    def refuse(constant: str) -> None:
        raise ValueError(constant)

    assert json.loads(text_of(result), parse_constant=refuse) == {"id": "m1", "list": [1]}


async def test_a_token_echoed_with_an_invisible_character_inside_or_as_a_key_is_masked() -> None:
    hidden = TOKEN[:5] + "\u200b" + TOKEN[5:]
    api = FakeAPI(responder=lambda request: httpx2.Response(200, json={"success": True, "data": {
        "id": "m1", "note": f"token {hidden}", TOKEN: "as a key", f"k{hidden}": 1}}))
    async with served(api) as client:
        result = await client.call_tool("get_meeting", {"meeting_id": "m1"})
    assert TOKEN not in text_of(result) and TOKEN[5:] not in text_of(result)
    assert result.structured_content == {"id": "m1", "note": "token ***", "***": "as a key", "k***": 1}


async def test_a_token_echoed_in_an_api_error_is_masked_even_when_split_by_invisibles() -> None:
    hidden = TOKEN[:5] + "\u2060\u200b" + TOKEN[5:]
    api = FakeAPI(responder=lambda request: httpx2.Response(400, json={"success": False, "error": {
        "message": f"bad header {hidden}"}}))
    async with served(api) as client:
        result = await client.call_tool("get_meeting", {"meeting_id": "m1"})
    assert result.is_error and TOKEN[5:] not in text_of(result) and "***" in text_of(result)


async def test_redact_secrets_masks_a_participant_token_in_an_api_error() -> None:
    api = FakeAPI(responder=lambda request: httpx2.Response(409, json={"success": False, "error": {
        "message": f"participant already has token {JWT}"}}))
    async with served(api, redact_secrets=True) as client:
        result = await client.call_tool("get_participant", {"meeting_id": "m1", "participant_id": "p1"})
    assert result.is_error and JWT not in text_of(result) and "[redacted]" in text_of(result)


async def test_credentials_in_the_base_url_are_never_shown() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused", request=request)

    proxied = settings(base_url="http://user:pa55word@proxy.example:8080/client/v4?key=s3cret")
    client = RealtimeKitClient(proxied, transport=httpx2.MockTransport(refuse), sleep=_no_wait)
    async with Client(build_server(proxied, client=client)) as mcp_client:
        result = await mcp_client.call_tool("get_meeting", {"meeting_id": "m1"})
    text = text_of(result)
    assert result.is_error and "http://proxy.example:8080/client/v4" in text
    assert "pa55word" not in text and "user" not in text and "s3cret" not in text


async def test_a_404_on_a_retried_delete_says_the_earlier_attempt_probably_deleted_it() -> None:
    statuses = iter([502, 404])
    api = FakeAPI(responder=lambda request: httpx2.Response(next(statuses), json={"success": False}))
    async with served(api) as client:
        result = await client.call_tool("delete_webhook", {"webhook_id": "w1"})
    text = text_of(result)
    assert result.is_error and "earlier attempt (502) probably" in text and "deleted it already" in text
    assert len(api.requests) == 2


async def test_a_404_on_a_first_delete_still_says_to_check_the_id() -> None:
    api = FakeAPI(responder=lambda request: httpx2.Response(404, json={"success": False}))
    async with served(api) as client:
        result = await client.call_tool("delete_webhook", {"webhook_id": "w1"})
    assert "probably" not in text_of(result) and "list_webhooks" in text_of(result)


async def test_a_redirect_names_its_target_and_is_not_followed() -> None:
    api = FakeAPI(responder=lambda request: httpx2.Response(
        302, headers={"Location": "https://u:p@login.example.com/sso?ticket=abc"}))
    async with served(api) as client:
        result = await client.call_tool("list_meetings", {})
    text = text_of(result)
    assert result.is_error and "HTTP 302" in text and "https://login.example.com/sso" in text
    assert "RTK_API_BASE_URL" in text and "ticket" not in text and "u:p" not in text
    assert len(api.requests) == 1


@pytest.mark.parametrize(("overrides", "variable"), [
    ({"api_token": TOKEN + "\n"}, "CLOUDFLARE_API_TOKEN"),
    ({"api_token": "abc def"}, "CLOUDFLARE_API_TOKEN"),
    ({"api_token": "t\u00f6ken-0123456789"}, "CLOUDFLARE_API_TOKEN"),
    ({"account_id": ".."}, "CLOUDFLARE_ACCOUNT_ID"),
    ({"account_id": "acc/../other"}, "CLOUDFLARE_ACCOUNT_ID"),
])
async def test_a_credential_that_cannot_be_valid_is_a_configuration_error_at_the_first_call(
    fake_api: FakeAPI, overrides: dict[str, str], variable: str
) -> None:
    async with connect(fake_api, **overrides) as client:
        write = await client.call_tool("create_meeting", {"title": "t"})
        listed = await client.list_tools()
    text = text_of(write)
    assert write.is_error and variable in text and "Nothing was sent" in text and "may have taken effect" not in text
    assert "abc def" not in text and TOKEN not in text
    assert len(listed.tools) == 53 and fake_api.requests == []


async def test_every_error_text_is_bounded(fake_api: FakeAPI) -> None:
    huge = "x" * 5_000_000
    fake_api.responder = lambda request: httpx2.Response(500, json={"success": False, "error": {"message": huge}})
    async with connect(fake_api) as client:
        unknown = await client.call_tool(huge, {})
        bad = await client.call_tool("list_meetings", {huge[:100_000]: 1, "b" * 50_000: 2})
    for result in (unknown, bad):
        assert result.is_error and len(text_of(result)) <= MAX_ERROR_CHARS
    assert "Unknown tool" in text_of(unknown)


class _CountingAPI(JsonHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.requests.append(self.path)
        self.answer({"success": True, "data": []})

    do_POST = do_GET


def _calls_with(literal: str) -> dict[str, str]:
    """For each field: a tools/call's params (raw JSON text) with ``literal`` as that field's number."""
    def raw(arguments: dict[str, Any]) -> str:
        return json.dumps(arguments).replace('"__N__"', literal)

    spacing = _preset_with(design_tokens={**PRESET["ui"]["design_tokens"], "spacing_base": "__N__"})
    diff = _preset_with(config_diff={"nested": {"x": ["__N__"]}})
    return {
        "page_no": f'{{"name": "list_meetings", "arguments": {raw({"page_no": "__N__"})}}}',
        "ui.design_tokens.spacing_base": f'{{"name": "create_preset", "arguments": {raw(spacing)}}}',
        "ui.config_diff": f'{{"name": "create_preset", "arguments": {raw(diff)}}}',
    }


async def test_non_finite_numbers_on_the_wire_are_refused_everywhere() -> None:
    """Lenient parsers (Python's, the SDK's) read these; they must never be sent upstream as invalid JSON."""
    with loopback_api(_CountingAPI) as url:
        async with stdio_session(env=clean_env(CLOUDFLARE_API_TOKEN=TOKEN, CLOUDFLARE_ACCOUNT_ID="acc-9",
                                               RTK_APP_ID="app-9", RTK_API_BASE_URL=url)) as session:
            await session.initialize()
            request_id = 100
            for literal in ("NaN", "Infinity", "-Infinity", "1e309"):
                for field, params in _calls_with(literal).items():
                    request_id += 1
                    await session.write(
                        f'{{"jsonrpc": "2.0", "id": {request_id}, "method": "tools/call", "params": {params}}}\n'.encode())
                    reply = await session.answer_to(request_id)
                    text = reply["result"]["content"][0]["text"]
                    assert reply["result"]["isError"] and f"'{field}'" in text, (literal, text)
            assert not (await session.call("list_meetings", {})).get("isError")
    assert _CountingAPI.requests == ["/client/v4/accounts/acc-9/realtime/kit/app-9/meetings"]
