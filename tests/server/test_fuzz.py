"""Property-based: arguments generated from each tool's own input schema, valid and invalid.

For every tool: no crash and no JSON-RPC error; every invalid input is an ``isError`` result and no
request is sent; every valid input sends exactly one request, to the documented host, method and
path (from ``../shared/reference/endpoints.json``, not from the catalog), with the ids in place.

The generator below turns the JSON Schema subset our tools use into hypothesis strategies. It reads
each schema with every rule as validation states it (``input_schema(..., portable=False)``: bounds
and lengths that the served dialect moves into descriptions are kept), so "valid" means valid.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import anyio
import httpx2
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from mcp import Client

from rtk_mcp.catalog import ENDPOINTS, Endpoint, input_schema
from rtk_mcp.sandbox import SANDBOX_APP_ID, SEED, sandbox_settings, sandbox_transport
from rtk_mcp.server import build_server
from tests.conftest import ACCOUNT, APP, REFERENCE, FakeAPI, settings, text_of

FUZZ = hsettings(max_examples=20, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Ids as an agent would pass them; arbitrary text everywhere else (ids with "/" are the invalid case).
_ID = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12).filter(lambda s: s not in {".", ".."})
_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner, max_size=2),
    max_leaves=4,
)


def _documented_paths() -> dict[tuple[str, str], str]:
    """(method, path with our placeholder names) -> the documented path."""
    documented = json.loads(REFERENCE.read_text())["endpoints"]
    return {(e["method"], re.sub(r"{([\w-]+)}", lambda m: "{" + m[1].replace("-", "_") + "}", e["path"])): e["path"]
            for e in documented}


DOCUMENTED = _documented_paths()


def _kind(node: dict[str, Any]) -> str:
    if "enum" in node or "const" in node or "anyOf" in node:
        return "choice"
    if "type" in node:
        return node["type"]
    if "properties" in node or "additionalProperties" in node:
        return "object"
    if "items" in node:
        return "array"
    if "pattern" in node or "format" in node:
        return "string"
    return "any"


def valid(node: dict[str, Any], *, path_id: bool = False) -> st.SearchStrategy[Any]:
    """Values the schema ``node`` accepts."""
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if "const" in node:
        return st.just(node["const"])
    if "anyOf" in node:
        return st.one_of([valid(option) for option in node["anyOf"]])
    kind = _kind(node)
    if kind == "string":
        pattern, fmt = node.get("pattern"), node.get("format")
        if pattern == "^https://":
            return st.builds("https://{}.example.com/{}".format, _ID, _ID)
        if pattern == "^https?://":
            return st.builds("{}://{}.example.com/{}".format, st.sampled_from(["http", "https"]), _ID, _ID)
        if pattern == "^rtmps?://":
            return st.builds("{}://live.example.com/app/{}".format, st.sampled_from(["rtmp", "rtmps"]), _ID)
        if fmt == "uri":  # any absolute URL: the reference names no scheme
            return st.builds("{}://{}.example.com/{}".format, st.sampled_from(["https", "http", "ftp"]), _ID, _ID)
        if fmt == "date":
            return st.dates().map(lambda d: d.isoformat())
        if fmt == "date-time":
            return st.datetimes().map(lambda d: d.isoformat())
        if node.get("contentMediaType") == "application/json":
            return st.dictionaries(_ID, _ANY_JSON, max_size=2).map(json.dumps)
        if path_id:
            return _ID
        return st.text(min_size=node.get("minLength", 0), max_size=node.get("maxLength", 16))
    if kind == "integer":
        # page_no/per_page leave their minimum (0/1) unstated on purpose, to save tokens (see
        # catalog/common.py): where no minimum is stated, stay positive.
        low = node.get("minimum", 1)
        return st.integers(low, node.get("maximum", low + 10_000))
    if kind == "number":
        return st.floats(node.get("minimum", 0), node.get("maximum", 1e6), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        items = node.get("items", {})
        # Named items (start_track_recording's layers) are unique by name, as their description says.
        named = "name" in items.get("required", [])
        return st.lists(valid(items), min_size=node.get("minItems", 0), max_size=max(node.get("minItems", 0), 3),
                        unique_by=(lambda item: item["name"]) if named else None)
    if kind == "object":
        props = node.get("properties", {})
        required = set(node.get("required", []))
        fixed = st.fixed_dictionaries(
            {k: valid(v) for k, v in props.items() if k in required},
            optional={k: valid(v) for k, v in props.items() if k not in required},
        )
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            return st.tuples(fixed, st.dictionaries(_ID, valid(extra), max_size=2)).map(lambda t: {**t[1], **t[0]})
        return fixed
    return _ANY_JSON


def _violations(node: dict[str, Any], *, path_id: bool) -> list[st.SearchStrategy[Any]]:
    """Values of the right shape that break one of the node's stated rules."""
    out: list[st.SearchStrategy[Any]] = []
    if "enum" in node or "const" in node:
        allowed = node.get("enum", [node.get("const")])
        out.append(st.text(min_size=1, max_size=8).filter(lambda s: s not in allowed))
    kind = _kind(node)
    if kind != "any" and kind != "choice":
        out.append(st.just("not-an-object") if kind == "object" else st.just({"not": "a " + kind}))
    if node.get("pattern") == "^https://":
        out.append(st.sampled_from(["http://example.com/x", "javascript:alert(1)", "//example.com/x", "https://",
                                    "file:///etc/passwd", "https://exa mple.com/", "ftp://example.com",
                                    "https://user:pw@example.com/"]))
    if node.get("pattern") == "^rtmps?://":
        out.append(st.sampled_from(["https://live.example.com/app", "rtmp://", "rtmp://live.example.com/a b"]))
    if node.get("pattern") == "^https?://":
        out.append(st.sampled_from(["javascript:alert(1)", "//example.com/x", "http://", "ftp://example.com"]))
    if node.get("format") == "uri":
        out.append(st.sampled_from(["", "example.com/x", "//example.com/x", "https://exa mple.com/"]))
    if node.get("format") == "date":
        out.append(st.sampled_from(["2026-13-45", "yesterday", "2026/01/01"]))
    if node.get("format") == "date-time":
        out.append(st.sampled_from(["yesterday", "2026-01-01", "2026-13-01T00:00:00Z"]))
    if node.get("contentMediaType") == "application/json":
        out.append(st.sampled_from(["{not json", "[1, 2]", "42"]))
    if path_id:
        out.append(st.sampled_from(["a/b", "..", ".", "x?y=1", "x#f", "%2e%2e", "a b", "", "a\\b", "a\nb", "a\x00"]))
    if "minimum" in node:
        out.append(st.integers(max_value=node["minimum"] - 1))
    if "maximum" in node:
        out.append(st.integers(min_value=node["maximum"] + 1))
    if node.get("minLength"):
        out.append(st.just(""))
    if node.get("minItems"):
        out.append(st.just([]))
    if kind == "array" and ("enum" in node.get("items", {})):
        out.append(st.just(["not-a-member"]))
    if kind == "object" and node.get("properties"):
        out.append(valid(node).map(lambda value: {**value, "unexpected_key": 1}))  # nested objects are strict too
    return out


@st.composite
def invalid(draw: st.DrawFn, endpoint: Endpoint, schema: dict[str, Any]) -> dict[str, Any]:
    """A valid argument object with exactly one thing wrong."""
    arguments = draw(_valid_arguments(endpoint, schema))
    props, required = schema["properties"], schema.get("required", [])
    breakers = {name: _violations(node, path_id=name in endpoint.path_fields) for name, node in props.items()}
    kinds = ["unknown key"] + (["missing"] if required else []) + (["broken"] if any(breakers.values()) else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "unknown key":
        arguments[draw(st.sampled_from(["appId", "meetingId", "account_id", "zz", "__proto__"]))] = "x"
    elif kind == "missing":
        del arguments[draw(st.sampled_from(required))]
    else:
        name = draw(st.sampled_from(sorted(n for n, b in breakers.items() if b)))
        arguments[name] = draw(st.one_of(breakers[name]))
    return arguments


def _valid_arguments(endpoint: Endpoint, schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    props, required = schema["properties"], set(schema.get("required", []))
    strategies = {name: valid(node, path_id=name in endpoint.path_fields) for name, node in props.items()}
    return st.fixed_dictionaries({k: s for k, s in strategies.items() if k in required},
                                 optional={k: s for k, s in strategies.items() if k not in required})


def _answer(request: httpx2.Request) -> httpx2.Response:
    """A success; for the content tools' files (include_content), a one-line file from "storage"."""
    if request.url.host == "storage.test":
        return httpx2.Response(200, text="Timestamp,Participant Name,Transcript,payload\n1000,Ada,hello,hello\n")
    link = "https://storage.test/file?sig=1"
    return httpx2.Response(200, json={"success": True, "data": {
        "id": "x1", "transcript_download_url": link, "chat_download_url": link, "summaryDownloadUrl": link}})


async def _call(endpoint: Endpoint, arguments: dict[str, Any]) -> tuple[Any, list[httpx2.Request]]:
    """The result and the requests sent to the API (not the content tools' downloads from storage)."""
    api = FakeAPI(_answer)
    async with Client(build_server(settings(), endpoints=[endpoint], transport=api.transport)) as client:
        with anyio.fail_after(10):
            result = await client.call_tool(endpoint.name, arguments)  # a JSON-RPC error would raise here
    return result, [request for request in api.requests if request.url.host != "storage.test"]


def test_every_tool_has_a_documented_path() -> None:
    missing = [ep.name for ep in ENDPOINTS if (ep.method, ep.full_path) not in DOCUMENTED]
    assert missing == []


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[ep.name for ep in ENDPOINTS])
def test_valid_arguments_send_the_documented_request(endpoint: Endpoint) -> None:
    schema = input_schema(endpoint.params, portable=False)
    documented = DOCUMENTED[(endpoint.method, endpoint.full_path)]

    @FUZZ
    @given(_valid_arguments(endpoint, schema))
    def check(arguments: dict[str, Any]) -> None:
        result, requests = anyio.run(_call, endpoint, arguments)
        assert not result.is_error, (arguments, text_of(result))
        assert len(requests) == 1
        request = requests[0]
        ids = {"account_id": ACCOUNT, "app_id": arguments.get("app_id", APP)} | {
            name: arguments[name] for name in endpoint.path_fields if name in arguments
        }
        expected = re.sub(r"{([\w-]+)}", lambda m: quote(ids[m[1].replace("-", "_")], safe=""), documented)
        assert (request.method, request.url.host, request.url.raw_path.decode().split("?")[0]) == (
            endpoint.method, "api.test", "/client/v4" + expected)
        sent = set(request.url.params) | set(json.loads(request.content) if request.content else {})
        assert sent <= set(schema["properties"]) - set(endpoint.path_fields)

    check()


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[ep.name for ep in ENDPOINTS])
def test_invalid_arguments_are_an_error_and_send_nothing(endpoint: Endpoint) -> None:
    schema = input_schema(endpoint.params, portable=False)

    @FUZZ
    @given(invalid(endpoint, schema))
    def check(arguments: dict[str, Any]) -> None:
        result, requests = anyio.run(_call, endpoint, arguments)
        assert result.is_error, arguments
        assert text_of(result).startswith(f"Invalid arguments for {endpoint.name}: ")
        assert "No request was sent" in text_of(result)
        assert requests == []

    check()


# --------------------------------------------------------------------------- the same arguments against the sandbox

#: Where an id argument names a seeded object, so calls reach real state (random ids only ever 404).
_SEEDED = {
    "app_id": SANDBOX_APP_ID, "meeting_id": SEED.meeting_live, "preset_id": SEED.preset_participant,
    "session_id": SEED.session_ended, "recording_id": SEED.recording_id, "webhook_id": SEED.webhook_id,
    "livestream_id": SEED.livestream_id, "livestream_session_id": SEED.livestream_session_id, "peer_id": SEED.peer_id,
}
#: Refusals of a well-formed value that the reference documents ("The time must be specified in ISO format"),
#: and one it implies: start_recording "starts recording a meeting" (or the page at ``url``), so with
#: neither there is nothing to record, though the reference marks neither field required.
_DOCUMENTED_RULES = (
    "Invalid query parameter 'start_time'", "Invalid query parameter 'end_time'",
    "Invalid request body: 'meeting_id' is required (or 'url'",
)


def _seeded_participant(endpoint: Endpoint) -> str:
    return SEED.peer_id if endpoint.group == "sessions" else SEED.participant_live_guest


@st.composite
def _sandbox_arguments(draw: st.DrawFn, endpoint: Endpoint, schema: dict[str, Any]) -> dict[str, Any]:
    arguments = draw(_valid_arguments(endpoint, schema))
    seeded = {**_SEEDED, "participant_id": _seeded_participant(endpoint)}
    for name in arguments.keys() & seeded.keys():
        if draw(st.integers(0, 3)):  # mostly the seeded object, sometimes the generated id
            arguments[name] = seeded[name]
    if "wait_s" in arguments:  # waiting for a summary takes real time; what is sent does not depend on it
        del arguments["wait_s"]
    return arguments


class _Answers(httpx2.AsyncBaseTransport):
    """The sandbox's transport, keeping every answer it gives."""

    def __init__(self) -> None:
        self.inner = sandbox_transport()
        self.answers: list[tuple[int, bytes]] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        self.answers.append((response.status_code, body))
        return httpx2.Response(response.status_code, headers=response.headers, content=body)


async def _call_sandbox(endpoint: Endpoint, arguments: dict[str, Any]) -> list[tuple[int, bytes]]:
    transport = _Answers()
    async with Client(build_server(sandbox_settings(), endpoints=[endpoint], transport=transport)) as client:
        with anyio.fail_after(10):
            await client.call_tool(endpoint.name, arguments)
    return transport.answers


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[ep.name for ep in ENDPOINTS])
def test_valid_arguments_are_never_refused_by_the_sandbox_for_an_undocumented_rule(endpoint: Endpoint) -> None:
    """The catalog and the emulator are written separately from the reference: each checks the other."""
    schema = input_schema(endpoint.params, portable=False)

    @FUZZ
    @given(_sandbox_arguments(endpoint, schema))
    def check(arguments: dict[str, Any]) -> None:
        answers = anyio.run(_call_sandbox, endpoint, arguments)
        status, body = answers[0]  # the API call (content tools may then fetch the file it links)
        if status == 400:
            message = json.loads(body)["error"]["message"]
            # A bound of the sandbox's own (docs/sandbox.md lists them) says so, and is not worded as the API's.
            assert not message.startswith(("Invalid request body", "Invalid query parameter", "Invalid JSON")) or (
                message.startswith(_DOCUMENTED_RULES)), (arguments, message)
        assert all(status < 500 for status, _ in answers), (arguments, answers)

    check()
