"""Every line a stdio client sends gets the answer it deserves, and only one: a real ``rtk-mcp`` subprocess.

A request gets its answer; a line that is not JSON, or not a valid request, the JSON-RPC error for it
(with the request's id where it can be read, ``null`` otherwise); a notification, a client's response
(even an error response, even a malformed one) and a blank line get none.
"""

from __future__ import annotations

import json

import anyio
import pytest

from tests.stdio_session import stdio_session

_NESTED = "[" * 500 + "]" * 500
_DEEP_PARAMS = '{"a":' * 300 + "1" + "}" * 300
_HUGE_INT = "9" * 5000
#: (line, the id its answer carries, the error code or None for a normal answer)
LINES = [
    ("not json at all", None, -32700),
    ('{"jsonrpc": "2.0", "id": 10, "method": "ping"', None, -32700),
    ('{"jsonrpc": "2.0", "id": 11, "method": "tools/call", "params": "list_apps"}', 11, -32600),
    ('{"jsonrpc": "2.0", "id": 12, "method": "tools/call", "params": [1, 2]}', 12, -32600),
    ('{"jsonrpc": "1.0", "id": 13, "method": "tools/list"}', 13, -32600),
    ('{"id": 14, "method": "tools/list"}', 14, -32600),
    ('{"jsonrpc": "2.0", "id": 15, "method": 7}', 15, -32600),
    # A request that also carries an error: the SDK reads it as a response, which would go unanswered.
    ('{"jsonrpc": "2.0", "id": 23, "method": "ping", "error": {"code": 1, "message": "x"}}', 23, -32600),
    # One that carries a result the SDK reads as the request it also is: answered as such.
    ('{"jsonrpc": "2.0", "id": 24, "method": "ping", "result": {}}', 24, None),
    # Ids that are neither strings nor integers: the SDK reads these as notifications, never answered.
    ('{"jsonrpc": "2.0", "id": {"x": 1}, "method": "ping"}', None, -32600),
    ('{"jsonrpc": "2.0", "id": 1.5, "method": "ping"}', None, -32600),
    ('{"jsonrpc": "2.0", "id": true, "method": "ping"}', None, -32600),
    ('[{"jsonrpc": "2.0", "id": 16, "method": "ping"}]', None, -32600),
    ("[]", None, -32600),
    ("42", None, -32600),
    ('{"jsonrpc": "2.0", "method": "notifications/progress", "params": "half"}', None, -32600),
    # Valid JSON beyond what the SDK's parser reads (nesting, a huge integer): refused, with the id.
    (_NESTED, None, -32600),
    (f'{{"jsonrpc": "2.0", "id": 17, "method": "tools/call", "params": {{"name": "list_apps", "arguments": {_DEEP_PARAMS}}}}}',
     17, -32600),
    (f'{{"jsonrpc": "2.0", "id": 26, "method": "ping", "params": {{"n": {_HUGE_INT}}}}}', 26, -32600),
    (f'{{"jsonrpc": "2.0", "id": -{_HUGE_INT}, "method": "ping"}}', None, -32600),
    # Nested deeper than Python reads either: the id cannot be read.
    ('{"jsonrpc": "2.0", "id": 27, "method": "ping", "params": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}",
     None, -32600),
    # A lone surrogate, as JavaScript leaves it after cutting an emoji in half: repaired, then served.
    ('{"jsonrpc": "2.0", "id": 18, "method": "tools/call", "params": {"name": "list_apps", '
     '"arguments": {"fields": ["name\\ud83d"]}}}', 18, None),
    ('{"jsonrpc": "2.0", "id": "19\\udc00", "method": "ping"}', "19\ufffd", None),
    ('{"jsonrpc": "2.0", "id": 20, "method": "no/such/method"}', 20, -32601),
    # Optional params written as null, as some clients serialise them: a normal request.
    ('{"jsonrpc": "2.0", "id": 22, "method": "ping", "params": null}', 22, None),
    ('{"jsonrpc": "2.0", "id": 21, "method": "tools/call", "params": {"name": 5}}', 21, -32602),
]
#: Lines nothing answers.
UNANSWERED = [
    "",
    "   ",
    '{"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}',
    '{"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "Parse error"}}',
    '{"jsonrpc": "2.0", "id": 30, "error": {"code": -32601, "message": "Method not found"}}',
    '{"jsonrpc": "2.0", "id": 31, "result": {}}',
    '{"jsonrpc": "2.0", "id": 32, "error": "not an error object"}',
    '{"jsonrpc": "2.0", "id": null, "result": 5}',
]


async def _answers_to_every_line() -> list[dict]:
    async with stdio_session("--sandbox") as server:
        await server.initialize()
        lines = [line for pair in zip(UNANSWERED, (line for line, _, _ in LINES)) for line in pair]
        lines += [line for line, _, _ in LINES[len(UNANSWERED):]]
        await server.write("".join(line + "\n" for line in lines).encode()
                           + b'{"jsonrpc": "2.0", "id": 99, "method": "ping"}\n')
        assert await server.end_input() == 0  # every request read is answered before the process exits
    for line in server.stdout_lines:
        assert json.loads(line)["jsonrpc"] == "2.0"
    assert "Traceback" not in server.stderr
    return [answer for request_id, answered in server.answers.items() if request_id != 1 for answer in answered]


@pytest.fixture(scope="module")
def answers() -> list[dict]:
    return anyio.run(_answers_to_every_line)


def test_every_line_gets_exactly_one_answer_and_responses_and_notifications_none(answers: list[dict]) -> None:
    assert len(answers) == len(LINES) + 1
    with_ids = [a["id"] for a in answers if a["id"] is not None]
    assert sorted(map(str, with_ids)) == sorted(str(i) for _, i, _ in LINES if i is not None) + ["99"]
    assert sum(a["id"] is None for a in answers) == sum(i is None for _, i, _ in LINES)


@pytest.mark.parametrize(("line", "request_id", "code"), [entry for entry in LINES if entry[1] is not None],
                         ids=lambda value: str(value)[:30])
def test_each_answer_says_what_was_wrong(answers: list[dict], line: str, request_id: object, code: int | None) -> None:
    answer = next(a for a in answers if a["id"] == request_id)
    if code is None:
        assert "result" in answer and not answer["result"].get("isError"), answer
    else:
        assert answer["error"]["code"] == code, answer


def test_unreadable_lines_are_answered_with_a_null_id(answers: list[dict]) -> None:
    codes = sorted(a["error"]["code"] for a in answers if a["id"] is None)
    assert codes == sorted(code for _, i, code in LINES if i is None)
