"""Reading a transcript, chat or summary through its presigned URL, against a loopback fake API and a
separate loopback "storage" server (real HTTP on 127.0.0.1): what storage sees, what is refused, and
that every failure is one clear error after which the next call works.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx2
import pytest
from mcp import Client

from rtk_mcp.api.client import RealtimeKitClient
from rtk_mcp.results.content import MAX_FILE_BYTES, SOURCE
from rtk_mcp.server import build_server
from tests.conftest import TOKEN, settings, text_of

SESSION = "sess-1"
HEADERLESS = b'"1000","peer-1","user-1","cust-1","Alice","Hello everyone"\n"3000","peer-2","user-2","cust-2","Bob","Hi Alice"\n'


@contextmanager
def loopback(respond: Callable[[BaseHTTPRequestHandler], None]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An HTTP server on a free loopback port answering GETs with ``respond``; yields its origin and
    the requests it saw (path and headers)."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            seen.append({"path": self.path, "headers": dict(self.headers)})
            respond(self)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", **headers: str) -> None:
    handler.send_response(status)
    for name, value in {"Content-Length": str(len(body)), **headers}.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


class Storage:
    """The storage server's behaviour, switched per test step: ``files[name]`` is a body, or a
    callable that answers the request itself."""

    def __init__(self) -> None:
        self.files: dict[str, bytes | Callable[[BaseHTTPRequestHandler], None]] = {}

    def __call__(self, handler: BaseHTTPRequestHandler) -> None:
        answer = self.files.get(urlsplit(handler.path).path.lstrip("/"))
        if answer is None:
            send(handler, 404)
        elif callable(answer):
            answer(handler)
        else:
            send(handler, 200, answer, **{"Content-Type": "text/csv"})


@contextmanager
def api_and_storage(storage: Storage) -> Iterator[tuple[str, list[dict[str, Any]], list[dict[str, Any]]]]:
    """The fake RealtimeKit API hands out links to ``<storage>/<kind>`` with a signature in the query."""
    with loopback(storage) as (storage_url, storage_seen):

        def api(handler: BaseHTTPRequestHandler) -> None:
            kind = handler.path.rsplit("/", 1)[-1]
            url = f"{storage_url}/{kind}?X-Amz-Signature=s1gn4tur3&X-Amz-Expires=3600"
            keys = {"transcript": "transcript_download_url", "chat": "chat_download_url", "summary": "summaryDownloadUrl"}
            body = httpx2.Response(200, json={"success": True, "data": {"sessionId": SESSION, keys[kind]: url}}).content
            send(handler, 200, body, **{"Content-Type": "application/json"})

        with loopback(api) as (api_url, api_seen):
            yield api_url + "/client/v4", api_seen, storage_seen


@contextmanager
def serving(storage: Storage, **options: Any) -> Iterator[tuple[Callable[[], Client], list[dict[str, Any]], list[dict[str, Any]]]]:
    with api_and_storage(storage) as (base, api_seen, storage_seen):
        config = settings(base_url=base, **{"timeout": 5.0, **options})
        # Quick retries: real waits on loopback, kept short.
        client = RealtimeKitClient(config, backoff_initial=0.01, backoff_max=0.02)
        yield (lambda: Client(build_server(config, client=client))), api_seen, storage_seen


async def read(client: Client, tool: str = "get_session_transcript", **arguments: Any) -> Any:
    with anyio.fail_after(30):
        return await client.call_tool(tool, {"session_id": SESSION, "include_content": True, **arguments})


async def test_storage_never_sees_the_api_token_or_any_authorization() -> None:
    storage = Storage()
    storage.files["transcript"] = HEADERLESS
    storage.files["summary"] = b"## Summary\n- decided X\n"
    with serving(storage) as (connect, api_seen, storage_seen):
        async with connect() as client:
            transcript = await read(client)
            summary = await read(client, "get_session_summary")
    assert not transcript.is_error and not summary.is_error, (text_of(transcript), text_of(summary))
    content = transcript.structured_content["content"]
    assert content["utterances"] == [
        {"t": "0:01", "speaker": "Alice", "text": "Hello everyone"},
        {"t": "0:03", "speaker": "Bob", "text": "Hi Alice"},
    ]
    assert content["source"] == SOURCE and content["total"] == 2 and "next" not in content
    assert summary.structured_content["content"]["text"] == "## Summary\n- decided X"
    assert all(request["headers"].get("Authorization") == f"Bearer {TOKEN}" for request in api_seen)
    assert len(storage_seen) == 2
    for request in storage_seen:
        assert not any(name.lower() in {"authorization", "cookie"} for name in request["headers"])
        assert TOKEN not in repr(request)
        assert "X-Amz-Signature=s1gn4tur3" in request["path"]  # the presigned query arrives untouched


async def test_a_redirect_to_another_host_is_not_followed_and_the_next_call_works() -> None:
    with loopback(lambda handler: send(handler, 200, HEADERLESS)) as (elsewhere, elsewhere_seen):
        storage = Storage()
        storage.files["transcript"] = lambda handler: send(handler, 302, Location=f"{elsewhere}/stolen")
        with serving(storage) as (connect, _, storage_seen):
            async with connect() as client:
                refused = await read(client)
                storage.files["transcript"] = HEADERLESS
                works = await read(client)
    assert refused.is_error
    assert "redirected elsewhere" in text_of(refused) and "not followed" in text_of(refused)
    assert elsewhere_seen == []
    assert not works.is_error and works.structured_content["content"]["total"] == 2


async def test_a_redirect_within_the_storage_host_is_followed() -> None:
    storage = Storage()
    storage.files["transcript"] = lambda handler: send(handler, 307, Location="/moved?sig=1")
    storage.files["moved"] = HEADERLESS
    with serving(storage) as (connect, _, storage_seen):
        async with connect() as client:
            result = await read(client)
    assert not result.is_error, text_of(result)
    assert [urlsplit(r["path"]).path for r in storage_seen] == ["/transcript", "/moved"]


def oversized(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/csv")
    handler.end_headers()
    chunk = b"x" * (1024 * 1024)
    try:
        for _ in range(MAX_FILE_BYTES // len(chunk) + 2):
            handler.wfile.write(chunk)
    except OSError:
        pass  # the client stopped reading, as it should


async def test_an_oversized_file_and_a_403_each_give_one_clear_error_and_the_next_call_works() -> None:
    storage = Storage()
    cases = [
        (oversized, "larger than 20 MB; it was not read"),
        (lambda handler: send(handler, 403, b"<Error><Code>AccessDenied</Code>Request has expired</Error>"),
         "refused (HTTP 403): it has expired. Call get_session_transcript again for a fresh link"),
    ]
    with serving(storage) as (connect, _, storage_seen):
        async with connect() as client:
            for answer, expected in cases:
                storage.files["transcript"] = answer
                failed = await read(client)
                assert failed.is_error and expected in text_of(failed), text_of(failed)
                assert "Traceback" not in text_of(failed) and "s1gn4tur3" not in text_of(failed)
                storage.files["transcript"] = HEADERLESS
                works = await read(client)
                assert not works.is_error and works.structured_content["content"]["total"] == 2, text_of(works)
    # Neither is retried (each is the final word about that link), and each next call is one request.
    assert len(storage_seen) == 2 * len(cases)


async def test_a_slow_file_times_out_per_attempt_and_the_next_call_works() -> None:
    release = threading.Event()

    def trickle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        handler.wfile.write(b'"1000","p","u","c","Alice","Hel')
        handler.wfile.flush()
        release.wait(10)  # never finishes while the client waits

    storage = Storage()
    storage.files["transcript"] = trickle
    with serving(storage, timeout=0.3) as (connect, _, storage_seen):
        async with connect() as client:
            started = time.monotonic()
            slow = await read(client)
            elapsed = time.monotonic() - started
            release.set()
            storage.files["transcript"] = HEADERLESS
            works = await read(client)
    assert slow.is_error and "Downloading the file failed (ReadTimeout) after 3 attempts" in text_of(slow)
    assert elapsed < 5  # three attempts of 0.3 s, not the trickle's 10 s
    assert not works.is_error and works.structured_content["content"]["total"] == 2


async def test_header_names_find_the_columns_whatever_their_order_extras_or_gaps() -> None:
    storage = Storage()
    storage.files["transcript"] = (b"Transcript,Participant Name,Extra Column,Timestamp\n"
                                   b"\"Hello, world\",Alice,x,2026-11-16T15:00:12.000Z\n"
                                   b"Second line,Bob,y\n")
    storage.files["chat"] = (b"id,participantId,sessionId,meetingId,displayName,pinned,isEdited,payloadType,payload,"
                             b"createdAt,reactions\n"
                             b"c1,p1,s,m,Alice,true,false,TEXT_MESSAGE,see https://example.com/doc \xf0\x9f\x91\x8d,"
                             b"2026-11-16T15:00:30.000Z,3\n"
                             b"c2,p2,s,m,Bob,false,true,FILE_MESSAGE,https://files.example.com/a.pdf,"
                             b"2026-11-16T15:01:00.000Z,0\n")
    with serving(storage) as (connect, _, _):
        async with connect() as client:
            transcript = await read(client)
            chat = await read(client, "get_session_chat")
    assert transcript.structured_content["content"]["utterances"] == [
        {"t": "2026-11-16T15:00:12.000Z", "speaker": "Alice", "text": "Hello, world"},
        {"speaker": "Bob", "text": "Second line"},
    ]
    assert chat.structured_content["content"]["messages"] == [
        {"t": "2026-11-16T15:00:30.000Z", "speaker": "Alice", "text": "see https://example.com/doc 👍", "pinned": True},
        {"t": "2026-11-16T15:01:00.000Z", "speaker": "Bob", "text": "https://files.example.com/a.pdf", "type": "file",
         "edited": True},
    ]


async def test_redact_secrets_still_reads_the_file_and_masks_the_signature() -> None:
    storage = Storage()
    storage.files["transcript"] = HEADERLESS
    with serving(storage, redact_secrets=True) as (connect, _, storage_seen):
        async with connect() as client:
            result = await read(client)
    assert not result.is_error, text_of(result)
    assert result.structured_content["content"]["total"] == 2
    assert "s1gn4tur3" not in text_of(result) and result.structured_content["transcript_download_url"].endswith(
        "/transcript?[redacted]")
    assert "X-Amz-Signature=s1gn4tur3" in storage_seen[0]["path"]  # the server fetched the real link


async def test_live_only_https_links_are_fetched() -> None:
    """Against an https API (live), an http link is refused before anything is sent to it."""
    fetched: list[httpx2.Request] = []

    def api(request: httpx2.Request) -> httpx2.Response:
        if request.url.host != "api.test":
            fetched.append(request)
            return httpx2.Response(200, content=HEADERLESS)
        return httpx2.Response(200, json={"success": True, "data": {
            "sessionId": SESSION, "transcript_download_url": "http://storage.test/t.csv?sig=1"}})

    async with Client(build_server(settings(), transport=httpx2.MockTransport(api))) as client:
        result = await read(client)
    assert result.is_error and "not https; it was not fetched" in text_of(result)
    assert fetched == []


@pytest.mark.parametrize("count", [2_500])
async def test_windows_over_a_long_transcript_lose_and_repeat_nothing(count: int) -> None:
    rows = "".join(f'"{i * 1000}","peer-{i % 5}","u","c","Speaker {i % 5}","utterance number {i}"\n' for i in range(count))
    storage = Storage()
    storage.files["transcript"] = rows.encode()
    seen: list[str] = []
    with serving(storage) as (connect, _, _):
        async with connect() as client:
            arguments: dict[str, Any] = {"limit": 700}
            while True:
                result = await read(client, **arguments)
                assert not result.is_error, text_of(result)
                content = result.structured_content["content"]
                assert content["offset"] == len(seen) and content["total"] == count
                seen += [entry["text"] for entry in content["utterances"]]
                if "next" not in content:
                    break
                assert content["remaining"] == count - len(seen)
                arguments = content["next"]
    assert seen == [f"utterance number {i}" for i in range(count)]
