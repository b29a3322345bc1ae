"""Destructive calls are confirmed with the person, through the client's elicitation, before anything is
sent: a real SDK client answers accept, decline or cancel, over both ways the protocol carries the
question (an ``elicitation/create`` request up to 2025-11-25, an ``input_required`` result from
2026-07-28). The fake API counts what was sent."""

from __future__ import annotations

from typing import Any

import httpx2
import mcp_types as types
import pytest
from mcp import Client

from rtk_mcp.catalog import ENDPOINTS
from rtk_mcp.config import Settings
from rtk_mcp.confirmation import QUESTIONS
from rtk_mcp.sandbox import SEED, sandbox_settings, sandbox_transport
from rtk_mcp.server import build_server
from tests.conftest import FakeAPI, settings, text_of

#: The protocol up to 2025-11-25 (the question is a request to the client), and from 2026-07-28 (an
#: input_required result the client answers by calling again).
MODES = ["legacy", "2026-07-28"]
MEETING = "m-1"
KICK_ALL = f"/meetings/{MEETING}/active-session/kick-all"


def answering(action: str | None, asked: list[str]) -> Any:
    """An elicitation callback that records each question and answers ``action``."""
    async def callback(ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return types.ElicitResult(action=action, content={} if action == "accept" else None)

    return callback


def live_meeting(request: httpx2.Request) -> httpx2.Response:
    """The API of a meeting with a live session of 4 people; every write succeeds."""
    if request.method == "GET" and request.url.path.endswith("/active-session"):
        return httpx2.Response(200, json={"success": True, "data": {
            "meeting_display_name": "Customer Support Standup", "live_participants": 4}})
    if request.method == "GET" and request.url.path.endswith(f"/meetings/{MEETING}"):
        return httpx2.Response(200, json={"success": True, "data": {"id": MEETING, "title": "Customer Support Standup"}})
    if request.method == "GET":
        return httpx2.Response(404, json={"success": False, "error": {"code": 404, "message": "Not found"}})
    return httpx2.Response(200, json={"success": True, "data": {"action": "done"}})


def writes(api: FakeAPI) -> list[str]:
    """What was sent that changes something (the question's reads are GETs)."""
    return [f"{r.method} {r.url.path.split('/realtime/kit/app-1')[-1]}" for r in api.requests if r.method != "GET"]


def client(api: FakeAPI, mode: str, callback: Any = None, **overrides: Any) -> Client:
    return Client(build_server(settings(**overrides), transport=api.transport), elicitation_callback=callback,
                  mode=mode)


@pytest.mark.parametrize("mode", MODES)
async def test_an_accepted_question_sends_the_call_once(mode: str) -> None:
    api, asked = FakeAPI(live_meeting), []
    async with client(api, mode, answering("accept", asked)) as mcp:
        result = await mcp.call_tool("kick_all_participants", {"meeting_id": MEETING})
    assert not result.is_error, text_of(result)
    assert asked == ['Remove all 4 people from meeting "Customer Support Standup"?']
    assert writes(api) == [f"POST {KICK_ALL}"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("action", "said"), [("decline", "declined"), ("cancel", "dismissed the question")])
async def test_a_declined_or_cancelled_question_sends_nothing_and_says_so(mode: str, action: str, said: str) -> None:
    api, asked = FakeAPI(live_meeting), []
    async with client(api, mode, answering(action, asked)) as mcp:
        result = await mcp.call_tool("kick_all_participants", {"meeting_id": MEETING})
    assert len(asked) == 1
    assert result.is_error and said in text_of(result) and "Nothing was changed" in text_of(result)
    assert result.structured_content == {"error": text_of(result), "confirmed": False}
    assert writes(api) == []


@pytest.mark.parametrize("mode", MODES)
async def test_a_client_without_elicitation_gets_the_call_sent_as_before(mode: str) -> None:
    api = FakeAPI(live_meeting)
    async with client(api, mode) as mcp:
        result = await mcp.call_tool("kick_all_participants", {"meeting_id": MEETING})
    assert not result.is_error, text_of(result)
    assert writes(api) == [f"POST {KICK_ALL}"]
    assert [r.method for r in api.requests] == ["POST"]  # no reads for a question nobody is asked


@pytest.mark.parametrize("mode", MODES)
async def test_with_confirmation_off_nobody_is_asked(mode: str) -> None:
    api, asked = FakeAPI(live_meeting), []
    async with client(api, mode, answering("decline", asked), confirm=False) as mcp:
        result = await mcp.call_tool("kick_all_participants", {"meeting_id": MEETING})
    assert not result.is_error and asked == []
    assert writes(api) == [f"POST {KICK_ALL}"]


def test_no_confirm_and_rtk_confirm_0_turn_it_off_and_a_typo_leaves_it_on(
        caplog: pytest.LogCaptureFixture) -> None:
    from rtk_mcp.cli import build_parser, load_settings

    assert Settings().confirm is True
    assert load_settings(build_parser().parse_args(["--no-confirm"])).confirm is False
    assert load_settings(build_parser().parse_args(["serve", "--no-confirm"])).confirm is False
    assert Settings.load({}, {"RTK_CONFIRM": "0"}).confirm is False
    assert Settings.load({}, {"RTK_CONFIRM": "false"}).confirm is False
    assert Settings.load({}, {"RTK_CONFIRM": "of"}).confirm is True and "RTK_CONFIRM" in caplog.text


@pytest.mark.parametrize("mode", MODES)
async def test_the_question_names_what_will_happen_in_the_sandbox(mode: str) -> None:
    """The whole path against the emulator: its seeded live meeting has 4 people, and after a yes it has none."""
    asked: list[str] = []
    server = build_server(sandbox_settings(), transport=sandbox_transport())
    async with Client(server, elicitation_callback=answering("accept", asked), mode=mode) as mcp:
        result = await mcp.call_tool("kick_all_participants", {"meeting_id": SEED.meeting_live})
        assert not result.is_error, text_of(result)
        session = await mcp.call_tool("get_active_session", {"meeting_id": SEED.meeting_live})
    assert asked == ['Remove all 4 people from meeting "Customer Support Standup"?']
    assert session.structured_content is not None and not session.structured_content.get("live_participants")


#: For each destructive tool: valid arguments, and what its question says when every read fails.
CALLS: dict[str, tuple[dict[str, Any], str]] = {
    "kick_all_participants": ({"meeting_id": MEETING}, f"Remove everyone from meeting {MEETING}?"),
    "kick_participants": ({"meeting_id": MEETING, "participant_ids": ["p-1"], "custom_participant_ids": ["ada"]},
                          f"Remove 2 participants (p-1, ada) from meeting {MEETING}?"),
    "delete_participant": ({"meeting_id": MEETING, "participant_id": "p-1"},
                           f"Delete participant p-1 from meeting {MEETING}?"),
    "replace_meeting": ({"meeting_id": MEETING}, f"Replace meeting {MEETING}? Every setting this call leaves out"),
    "update_recording": ({"recording_id": "r-1", "action": "stop"},
                         "Stop recording r-1 of its meeting?"),
    "stop_meeting_livestream": ({"meeting_id": MEETING}, f"Stop the livestream of meeting {MEETING}?"),
    "replace_webhook": ({"webhook_id": "w-1", "name": "n", "url": "https://example.com/h",
                         "events": ["meeting.started"]}, "Replace webhook w-1?"),
    "delete_webhook": ({"webhook_id": "w-1"}, "Delete webhook w-1? Its URL stops receiving events."),
    "delete_preset": ({"preset_id": "pr-1"}, "Delete preset pr-1?"),
}


def test_every_destructive_tool_has_a_question_and_only_those() -> None:
    assert set(QUESTIONS) == set(CALLS) == {ep.name for ep in ENDPOINTS if ep.destructive}


@pytest.mark.parametrize("tool", sorted(CALLS))
async def test_when_the_reads_fail_the_question_names_ids_and_a_no_sends_nothing(tool: str) -> None:
    def reads_fail(request: httpx2.Request) -> httpx2.Response:
        if request.method == "GET":
            return httpx2.Response(403, json={"success": False, "error": {"code": 403, "message": "Forbidden"}})
        return httpx2.Response(200, json={"success": True, "data": {}})

    api, asked = FakeAPI(reads_fail), []
    arguments, question = CALLS[tool]
    async with client(api, "legacy", answering("decline", asked)) as mcp:
        result = await mcp.call_tool(tool, arguments)
    assert len(asked) == 1 and asked[0].startswith(question), asked
    assert result.is_error and question in text_of(result)
    assert writes(api) == []


@pytest.mark.parametrize("tool", sorted(CALLS))
async def test_when_what_the_call_acts_on_is_not_there_nobody_is_asked_and_the_404_comes_back(tool: str) -> None:
    def not_there(request: httpx2.Request) -> httpx2.Response:
        if request.method == "GET":
            return httpx2.Response(404, json={"success": False, "error": {"code": 404, "message": "Not found"}})
        return httpx2.Response(200, json={"success": True, "data": {}})

    api, asked = FakeAPI(not_there), []
    async with client(api, "legacy", answering("accept", asked)) as mcp:
        result = await mcp.call_tool(tool, CALLS[tool][0])
    assert asked == [] and writes(api) == []
    assert result.is_error and "HTTP 404" in text_of(result)


async def test_names_from_the_api_are_shown_cleaned_and_short() -> None:
    def hostile(request: httpx2.Request) -> httpx2.Response:
        name = "Mallory\u202e\u200b" + "x" * 500
        return httpx2.Response(200, json={"success": True, "data": {"id": "w-1", "name": name}})

    api, asked = FakeAPI(hostile), []
    async with client(api, "legacy", answering("decline", asked)) as mcp:
        await mcp.call_tool("delete_webhook", {"webhook_id": "w-1"})
    [message] = asked
    assert "\u202e" not in message and "\u200b" not in message and len(message) < 160
    assert message.startswith('Delete webhook "Malloryxxx')


async def test_pausing_a_recording_is_not_asked_about_stopping_is() -> None:
    api, asked = FakeAPI(), []
    async with client(api, "legacy", answering("decline", asked)) as mcp:
        paused = await mcp.call_tool("update_recording", {"recording_id": "r-1", "action": "pause"})
        stopped = await mcp.call_tool("update_recording", {"recording_id": "r-1", "action": "stop"})
    assert not paused.is_error and stopped.is_error and len(asked) == 1
    assert writes(api) == ["PUT /recordings/r-1"]


async def test_a_call_that_cannot_be_sent_is_refused_without_a_question() -> None:
    api, asked = FakeAPI(live_meeting), []
    async with client(api, "legacy", answering("accept", asked)) as mcp:
        bad = await mcp.call_tool("kick_all_participants", {"meeting_id": MEETING, "force": True})
    assert bad.is_error and "unknown argument 'force'" in text_of(bad)
    async with client(api, "legacy", answering("accept", asked), api_token=None) as mcp:
        unconfigured = await mcp.call_tool("kick_all_participants", {"meeting_id": MEETING})
    assert unconfigured.is_error and "not configured" in text_of(unconfigured)
    assert asked == [] and api.requests == []


async def test_an_answer_counts_only_for_the_call_it_was_asked_about() -> None:
    """From 2026-07-28 the answer comes back with the next call: one about other arguments is asked again."""
    api = FakeAPI(live_meeting)
    async with client(api, "2026-07-28", answering("accept", [])) as mcp:
        first = await mcp.session.call_tool("kick_all_participants", {"meeting_id": MEETING},
                                            allow_input_required=True)
        assert isinstance(first, types.InputRequiredResult) and first.input_requests
        [(key, request)] = first.input_requests.items()
        assert isinstance(request, types.ElicitRequest)
        yes = {key: types.ElicitResult(action="accept", content={})}
        other = await mcp.session.call_tool("kick_all_participants", {"meeting_id": "m-2"}, input_responses=yes,
                                            request_state=first.request_state, allow_input_required=True)
        assert isinstance(other, types.InputRequiredResult)
        assert writes(api) == []
        same = await mcp.session.call_tool("kick_all_participants", {"meeting_id": MEETING}, input_responses=yes,
                                           request_state=first.request_state, allow_input_required=True)
    assert isinstance(same, types.CallToolResult) and not same.is_error
    assert writes(api) == [f"POST {KICK_ALL}"]


def test_there_is_no_confirm_argument_a_model_could_fill_in() -> None:
    for ep in ENDPOINTS:
        assert not any("confirm" in name for name in ep.params.model_fields), ep.name


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_over_stdio_a_real_client_is_asked_and_its_no_is_kept(mode: str) -> None:
    """`rtk-mcp --sandbox` as a host starts it: the question crosses the process boundary and back."""
    import sys

    import anyio
    from mcp import StdioServerParameters

    from tests.stdio_session import ROOT, clean_env

    asked: list[str] = []
    server = StdioServerParameters(command=sys.executable, args=["-m", "rtk_mcp", "--sandbox"], cwd=str(ROOT),
                                   env=clean_env(PYTHONPATH=str(ROOT)))
    with anyio.fail_after(60):
        async with Client(server, elicitation_callback=answering("decline", asked), mode=mode) as mcp:
            result = await mcp.call_tool("kick_all_participants", {"meeting_id": SEED.meeting_live})
            session = await mcp.call_tool("get_active_session", {"meeting_id": SEED.meeting_live})
    assert asked == ['Remove all 4 people from meeting "Customer Support Standup"?']
    assert result.is_error and "declined" in text_of(result)
    assert session.structured_content is not None and session.structured_content["live_participants"] == 4
