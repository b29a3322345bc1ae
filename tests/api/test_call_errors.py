"""Bad input, missing configuration and API failures: each an isError result the agent can act on."""

from __future__ import annotations

import httpx2
import pytest
from mcp import Client

from rtk_mcp.api.client import RealtimeKitClient
from rtk_mcp.config import Settings
from rtk_mcp.server import build_server
from tests.conftest import TOKEN, FakeAPI, connect, settings, text_of


async def test_wrong_type_is_rejected_naming_the_field_without_a_request(fake_api: FakeAPI) -> None:
    async with connect(fake_api) as client:
        result = await client.call_tool("list_meetings", {"page_no": "first"})
        assert result.is_error
        assert "'page_no'" in text_of(result) and "integer" in text_of(result)
        assert "No request was sent" in text_of(result)
        assert fake_api.requests == []


async def test_missing_required_field_is_rejected_without_a_request(fake_api: FakeAPI) -> None:
    async with connect(fake_api) as client:
        result = await client.call_tool("get_meeting", {})
        assert result.is_error
        assert "'meeting_id' is required" in text_of(result)
        assert fake_api.requests == []


async def test_unknown_argument_is_rejected_and_valid_names_are_listed(fake_api: FakeAPI) -> None:
    async with connect(fake_api) as client:
        result = await client.call_tool("get_meeting", {"meeting_id": "m1", "appId": "a"})
        assert result.is_error
        assert "unknown argument 'appId'" in text_of(result)
        assert "app_id" in text_of(result)
        assert fake_api.requests == []


async def test_unknown_nested_argument_is_rejected(fake_api: FakeAPI) -> None:
    async with connect(fake_api) as client:
        result = await client.call_tool("create_meeting", {"ai_config": {"transcription": {"langauge": "de"}}})
        assert result.is_error
        assert "ai_config.transcription.langauge" in text_of(result)
        assert fake_api.requests == []


@pytest.mark.parametrize("bad_id", ["a/b", "..", "x?y=1", "x#frag", "a\nb", "a\x00b", "a b", "%2e%2e", ""])
async def test_unsafe_path_id_is_rejected_without_a_request(fake_api: FakeAPI, bad_id: str) -> None:
    async with connect(fake_api) as client:
        result = await client.call_tool("get_meeting", {"meeting_id": bad_id})
        assert result.is_error
        assert "'meeting_id'" in text_of(result)
        assert fake_api.requests == []


async def test_app_id_falls_back_to_environment_default(fake_api: FakeAPI) -> None:
    async with connect(fake_api) as client:
        await client.call_tool("get_meeting", {"meeting_id": "m1"})
        assert fake_api.requests[-1].url.path == "/client/v4/accounts/acc123/realtime/kit/app-1/meetings/m1"
        await client.call_tool("get_meeting", {"meeting_id": "m1", "app_id": "other"})
        assert fake_api.requests[-1].url.path == "/client/v4/accounts/acc123/realtime/kit/other/meetings/m1"


async def test_call_without_app_id_or_default_says_how_to_fix(fake_api: FakeAPI) -> None:
    server = build_server(settings(default_app_id=None), transport=fake_api.transport)
    async with Client(server) as client:
        result = await client.call_tool("list_meetings", {})
    assert result.is_error
    assert "pass app_id" in text_of(result) and "RTK_APP_ID" in text_of(result) and "list_apps" in text_of(result)
    assert fake_api.requests == []


async def test_missing_configuration_still_lists_tools_and_every_call_names_the_variables(fake_api: FakeAPI) -> None:
    server = build_server(settings(api_token=None, account_id=None), transport=fake_api.transport)
    async with Client(server) as client:
        tools = await client.list_tools()
        assert len(tools.tools) == 53
        for name in ("list_apps", "get_meeting"):
            result = await client.call_tool(name, {"meeting_id": "m"} if name == "get_meeting" else {})
            assert result.is_error
            assert "CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID are not set" in text_of(result)
    assert fake_api.requests == []


async def test_only_the_missing_variable_is_named(fake_api: FakeAPI) -> None:
    server = build_server(settings(account_id=None), transport=fake_api.transport)
    async with Client(server) as client:
        result = await client.call_tool("list_apps", {})
    assert "CLOUDFLARE_ACCOUNT_ID is not set" in text_of(result)
    assert "CLOUDFLARE_API_TOKEN" not in text_of(result)


async def test_unknown_tool_is_an_error_result(fake_api: FakeAPI) -> None:
    async with connect(fake_api) as client:
        result = await client.call_tool("drop_database", {})
        assert result.is_error and "Unknown tool 'drop_database'" in text_of(result)


def _answer(status: int, body: object | None = None, text: str | None = None, **headers: str):
    def respond(request: httpx2.Request) -> httpx2.Response:
        if text is not None:
            return httpx2.Response(status, text=text, headers=headers)
        return httpx2.Response(status, json=body, headers=headers)

    return respond


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, {"success": False, "error": {"code": 401, "message": "Invalid token"}},
         ["HTTP 401", "Invalid token", "CLOUDFLARE_API_TOKEN"]),
        (403, {"errors": [{"code": 10000, "message": "Authentication error"}]},
         ["HTTP 403", "Authentication error", "Realtime Admin permission"]),
        (404, {"success": False, "error": {"message": "Meeting not found"}},
         ["HTTP 404", "Meeting not found", "Check app_id, meeting_id", "list_meetings shows valid meeting_id"]),
        (422, {"success": False, "error": {"message": "title must be a string"}},
         ["HTTP 422", "title must be a string", "Fix the arguments"]),
        (400, {"message": "Bad value for record_on_start"}, ["HTTP 400", "Bad value for record_on_start"]),
    ],
)
async def test_api_error_status_is_mapped_to_an_actionable_message(
    fake_api: FakeAPI, status: int, body: object, expected: list[str]
) -> None:
    fake_api.responder = _answer(status, body)
    async with Client(build_server(settings(), transport=fake_api.transport)) as client:
        result = await client.call_tool("get_meeting", {"meeting_id": "m1"})
    assert result.is_error
    for fragment in expected:
        assert fragment in text_of(result)
    assert "Traceback" not in text_of(result)


async def test_success_false_on_http_200_is_an_error(fake_api: FakeAPI) -> None:
    fake_api.responder = _answer(200, {"success": False, "error": {"message": "quota exceeded"}})
    async with Client(build_server(settings(), transport=fake_api.transport)) as client:
        result = await client.call_tool("list_apps", {})
    assert result.is_error and "quota exceeded" in text_of(result)


async def test_html_error_page_is_an_error_and_the_server_keeps_working(fake_api: FakeAPI) -> None:
    fake_api.responder = _answer(200, text="<html><body>Gateway</body></html>", **{"content-type": "text/html"})
    async with Client(build_server(settings(), transport=fake_api.transport)) as client:
        result = await client.call_tool("list_apps", {})
        assert result.is_error and "not JSON (text/html)" in text_of(result)
        fake_api.responder = None
        again = await client.call_tool("list_apps", {})
    assert not again.is_error


async def test_api_echoing_the_token_is_masked(fake_api: FakeAPI) -> None:
    fake_api.responder = _answer(400, {"success": False, "error": {"message": f"bad header Bearer {TOKEN}"}})
    async with Client(build_server(settings(), transport=fake_api.transport)) as client:
        result = await client.call_tool("list_apps", {})
    assert result.is_error and TOKEN not in text_of(result) and "***" in text_of(result)


async def test_every_request_carries_bearer_auth_and_user_agent(fake_api: FakeAPI) -> None:
    async with connect(fake_api) as client:
        await client.call_tool("list_apps", {})
        request = fake_api.requests[-1]
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.headers["user-agent"].startswith("rtk-mcp/")


async def test_not_found_with_no_ids_points_at_the_account_and_base_url(fake_api: FakeAPI) -> None:
    fake_api.responder = _answer(404, {"success": False, "error": {"message": "Not found"}})
    async with connect(fake_api) as client:
        result = await client.call_tool("list_apps", {})
    assert "CLOUDFLARE_ACCOUNT_ID" in text_of(result) and "RTK_API_BASE_URL" in text_of(result)
    async with connect(fake_api) as client:
        result = await client.call_tool("list_meetings", {})
    assert "Check app_id; list_apps shows valid app_id values" in text_of(result)


async def test_session_participant_not_found_points_at_session_participants(fake_api: FakeAPI) -> None:
    fake_api.responder = _answer(404, {"success": False, "error": {"message": "Participant not found"}})
    async with connect(fake_api) as client:
        result = await client.call_tool("get_session_participant", {"session_id": "s1", "participant_id": "p1"})
    assert "list_session_participants shows valid participant_id values" in text_of(result)
    assert "list_meeting_participants" not in text_of(result)


async def test_an_infinite_retry_after_is_ignored_not_a_crash(fake_api: FakeAPI) -> None:
    fake_api.responder = _answer(429, {"success": False, "error": {"message": "slow down"}}, **{"retry-after": "1e999"})
    server = build_server(settings(), client=RealtimeKitClient(settings(), transport=fake_api.transport, max_retries=0))
    async with Client(server) as client:
        result = await client.call_tool("list_apps", {})
    assert result.is_error and "HTTP 429" in text_of(result) and "internally" not in text_of(result)


def test_a_bad_timeout_setting_falls_back_instead_of_crashing() -> None:
    for bad in ("abc", "0", "-5", "inf"):
        assert Settings.from_env({"RTK_TIMEOUT": bad}).timeout == 30.0
    assert Settings.from_env({"RTK_TIMEOUT": "7.5"}).timeout == 7.5


async def test_a_write_stuck_in_the_rate_limit_queue_is_reported_as_not_sent(fake_api: FakeAPI) -> None:
    from rtk_mcp.api.ratelimit import RateLimiter

    api = RealtimeKitClient(settings(), transport=fake_api.transport, deadline=0.3,
                            rate_limiter=RateLimiter(((1, 1000.0),)))
    async with Client(build_server(settings(), client=api)) as client:
        first = await client.call_tool("create_meeting", {"title": "a"})
        second = await client.call_tool("create_meeting", {"title": "b"})
    assert not first.is_error
    assert second.is_error and "was not sent" in text_of(second) and "Nothing was changed" in text_of(second)
    assert len(fake_api.requests) == 1
