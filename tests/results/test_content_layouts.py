"""Meeting files in whatever layout they come: the reference documents only their download URLs, so
every variant here is read through MCP from a fake API and a fake storage host (``httpx2.MockTransport``),
and each either reads as entries, comes back as raw lines with a note, or fails with one clear error.
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client

from rtk_mcp.results.content import SOURCE
from rtk_mcp.server import build_server
from tests.conftest import TOKEN, settings, text_of

SESSION = "sess-1"
URL_KEYS = {"transcript": "transcript_download_url", "chat": "chat_download_url", "summary": "summaryDownloadUrl"}
TOOLS = {"transcript": "get_session_transcript", "chat": "get_session_chat", "summary": "get_session_summary"}


class Fake:
    """The API hands out ``links[kind]`` (by default a link to storage); storage serves ``files[kind]``."""

    def __init__(self, **files: bytes) -> None:
        self.files = files
        self.links: dict[str, str] = {}
        self.fetched: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.host == "api.test":
            kind = request.url.path.rsplit("/", 1)[-1]
            link = self.links.get(kind, f"https://storage.test/{kind}.csv?sig=s3cr3t")
            return httpx2.Response(200, json={"success": True, "data": {"sessionId": SESSION, URL_KEYS[kind]: link}})
        self.fetched.append(request)
        assert "authorization" not in request.headers
        return httpx2.Response(200, content=self.files[request.url.path.strip("/").removesuffix(".csv")])


async def read(fake: Fake, kind: str = "transcript", **arguments: Any) -> Any:
    """The tool result of reading ``kind`` with ``include_content`` (a window when given)."""
    with anyio.fail_after(30):
        async with Client(build_server(settings(), transport=httpx2.MockTransport(fake))) as client:
            return await client.call_tool(TOOLS[kind], {"session_id": SESSION, "include_content": True, **arguments})


async def content_of(kind: str, body: bytes, **arguments: Any) -> dict[str, Any]:
    result = await read(Fake(**{kind: body}), kind, **arguments)
    assert not result.is_error, text_of(result)
    content = result.structured_content["content"]
    assert content["source"] == SOURCE
    return content


ALICE_BOB = [{"speaker": "Alice", "text": "Hello everyone"}, {"speaker": "Bob", "text": "Hi Alice, welcome"}]


def timed(*times: str) -> list[dict[str, Any]]:
    return [{"t": t, **entry} for t, entry in zip(times, ALICE_BOB)]


TRANSCRIPTS: dict[str, tuple[bytes, list[dict[str, Any]]]] = {
    "header-less RealtimeKit rows, ms from the start": (
        b'"1000","peer-1","user-1","cust-1","Alice","Hello everyone"\n'
        b'"65000","peer-2","user-2","cust-2","Bob","Hi Alice, welcome"\n', timed("0:01", "1:05")),
    "Dyte's header, ISO 8601 times kept": (
        b"Timestamp,Participant ID,Participant Name,Transcript\n"
        b"2026-11-16T15:00:12.000Z,p1,Alice,Hello everyone\n"
        b'2026-11-16T15:00:14.500Z,p2,Bob,"Hi Alice, welcome"\n',
        timed("2026-11-16T15:00:12.000Z", "2026-11-16T15:00:14.500Z")),
    "header in another order, with a unit in the time's name": (
        b"text,speaker,start_seconds,extra\nHello everyone,Alice,12,x\n\"Hi Alice, welcome\",Bob,3725,y\n",
        timed("0:12", "1:02:05")),
    "header with the unit in camel case; a plural name is no unit": (
        b"startMs,Timestamps,speaker,transcript\n1000,x,Alice,Hello everyone\n65000,y,Bob,\"Hi Alice, welcome\"\n",
        timed("0:01", "1:05")),
    "header of unknown names: columns by shape": (
        b"when,who,what\n1500,Alice,Hello everyone\n9000,Bob,\"Hi Alice, welcome\"\n", timed("0:01", "0:09")),
    "no header, seconds from the start (fractions, gaps under 100)": (
        b"1.5,Alice,Hello everyone\n7.25,Bob,\"Hi Alice, welcome\"\n", timed("0:01", "0:07")),
    "no header, seconds from the start, minutes apart": (
        b"150,Alice,Hello everyone\n400,Bob,\"Hi Alice, welcome\"\n", timed("2:30", "6:40")),
    "no header, epoch seconds": (
        b"1763305212,Alice,Hello everyone\n1763305214,Bob,\"Hi Alice, welcome\"\n",
        timed("2025-11-16T15:00:12Z", "2025-11-16T15:00:14Z")),
    "no header, epoch milliseconds, ids around the name": (
        b"1763305212000,3f2a9c10-peer,Alice,u-1,Hello everyone\n1763305214000,77b1e0d2-peer,Bob,u-2,\"Hi Alice, welcome\"\n",
        timed("2025-11-16T15:00:12Z", "2025-11-16T15:00:14Z")),
    "clock times kept; CRLF line ends; blank lines skipped": (
        b"00:00:01,Alice,Hello everyone\r\n\r\n00:01:05,Bob,\"Hi Alice, welcome\"\r\n", timed("00:00:01", "00:01:05")),
    "no times at all": (b"Alice,Hello everyone\nBob,\"Hi Alice, welcome\"\n", ALICE_BOB),
    "UTF-16 with a byte-order mark": (
        "Timestamp,Participant Name,Transcript\n1000,Alice,Hello everyone\n2000,Bob,\"Hi Alice, welcome\"\n"
        .encode("utf-16"), timed("0:01", "0:02")),
}


@pytest.mark.parametrize("variant", TRANSCRIPTS)
async def test_each_transcript_layout_and_time_unit_reads_as_utterances(variant: str) -> None:
    body, expected = TRANSCRIPTS[variant]
    content = await content_of("transcript", body)
    assert content["utterances"] == expected
    assert content["total"] == len(expected) and "note" not in content


async def test_a_header_without_rows_is_an_empty_transcript() -> None:
    content = await content_of("transcript", b"Timestamp,Participant Name,Transcript\n")
    assert content["utterances"] == [] and content["total"] == 0 and "note" not in content


async def test_times_no_calendar_holds_and_odd_cells_are_kept_as_text() -> None:
    body = (b"1763305212000,Alice,fine\n"
            b"253402300800000,Alice,year 10000 in ms\n"
            b"100000000000000000000,Bob,1e20\n"
            + b"9" * 400 + b",Bob,beyond a float\n"
            b"soon,Carol,not a time\n"
            b'1763305215000,Dan,"quoted"then garbage\n')
    content = await content_of("transcript", body)
    assert [(u.get("t"), u["text"]) for u in content["utterances"]] == [
        ("2025-11-16T15:00:12Z", "fine"),
        ("253402300800000", "year 10000 in ms"),
        ("100000000000000000000", "1e20"),
        ("9" * 400, "beyond a float"),
        ("soon", "not a time"),
        ("2025-11-16T15:00:15Z", "quotedthen garbage"),
    ]


async def test_chat_without_a_header_is_read_by_shape_and_file_messages_keep_their_type() -> None:
    body = (b"2026-11-16T15:00:30Z,Alice,TEXT_MESSAGE,see the doc\n"
            b"2026-11-16T15:01:00Z,Bob,FILE_MESSAGE,https://files.example.com/a.pdf\n")
    content = await content_of("chat", body)
    assert content["messages"] == [
        {"t": "2026-11-16T15:00:30Z", "speaker": "Alice", "text": "see the doc"},
        {"t": "2026-11-16T15:01:00Z", "speaker": "Bob", "text": "https://files.example.com/a.pdf", "type": "file"},
    ]


UNKNOWN = {
    "an HTML error page": b"<html><body>\nService Unavailable\n</body></html>\n",
    "one column of prose": b"Alice said hello\n\nBob said hi\nthe end\n",
    "JSON": b'{"transcript": [{"speaker": "Alice", "text": "hello"}]}\n',
    "a cell longer than the CSV reader takes": b'1000,Alice,"' + b"a" * 200_000 + b'"\n',
}


@pytest.mark.parametrize("variant", UNKNOWN)
async def test_a_file_in_no_known_layout_comes_back_as_raw_lines_with_a_note(variant: str) -> None:
    body = UNKNOWN[variant]
    content = await content_of("transcript", body)
    lines = [line for line in body.decode().splitlines() if line.strip()]
    assert "no transcript layout this server recognises" in content["note"]
    assert content["total"] == len(lines)
    if len(body) < 1000:
        assert content["lines"] == lines


async def test_raw_lines_come_in_windows_like_entries() -> None:
    body = "".join(f"line {i}\n" for i in range(25)).encode()
    first = await content_of("transcript", body, limit=10)
    rest = await content_of("transcript", body, **first["next"])
    assert first["lines"] == [f"line {i}" for i in range(10)] and first["next"] == {"offset": 10, "limit": 10}
    assert rest["lines"] == [f"line {i}" for i in range(10, 20)] and rest["remaining"] == 5


SUMMARIES = {
    "Markdown": (b"## Summary\n- decided X\n", "## Summary\n- decided X"),
    "plain text with commas": (b"We decided X, Y and Z.\nNext: ship it.\n", "We decided X, Y and Z.\nNext: ship it."),
    "CSV with a summary column": (b'sessionId,summary\nsess-1,"## Decisions\n- X, then Y"\n', "## Decisions\n- X, then Y"),
    "CSV of one quoted cell": (b'"We decided X, then Y."\n', "We decided X, then Y."),
}


@pytest.mark.parametrize("variant", SUMMARIES)
async def test_a_summary_reads_as_text_whether_markdown_plain_or_csv(variant: str) -> None:
    body, expected = SUMMARIES[variant]
    assert (await content_of("summary", body))["text"] == expected


async def test_a_binary_file_is_still_returned_as_its_lines_with_a_note() -> None:
    result = await read(Fake(transcript=b"\x1f\x8b\x08\x00\0\0\0\0binary\nmore"))
    assert not result.is_error, text_of(result)
    content = result.structured_content["content"]
    assert "not text" in content["note"] and any("binary" in line for line in content["lines"]), content


BAD_LINKS = {
    "https://storage.test:99999/t.csv?sig=s3cr3t": "not a valid URL",
    "https://storage.test:abc/t.csv?sig=s3cr3t": "not a valid URL",
    "https://[::1/t.csv?sig=s3cr3t": "not a valid URL",
    "https://storage.test:0/t.csv?sig=s3cr3t": "not a valid URL",
    "https://stor%age.test/t.csv?sig=s3cr3t": "not a valid URL",
    "https://storage..test/t.csv?sig=s3cr3t": "not a valid URL",
    "https://storage.test/t\x00.csv?sig=s3cr3t": "control characters",
    "https://storage.test/t\n.csv?sig=s3cr3t": "control characters",
    "https://storage.test/a b.csv?sig=s3cr3t": "spaces",
    "https:accounts/acc123/t.csv?sig=s3cr3t": "has no host",
    "https:///t.csv?sig=s3cr3t": "has no host",
    "/relative/t.csv?sig=s3cr3t": "not https",
}


@pytest.mark.parametrize("link", BAD_LINKS)
async def test_a_malformed_download_link_is_a_clear_error_and_nothing_is_fetched(link: str) -> None:
    fake = Fake(transcript=b"1000,Alice,hi\n")
    fake.links["transcript"] = link
    result = await read(fake)
    text = text_of(result)
    assert result.is_error and BAD_LINKS[link] in text and "it was not fetched" in text, text
    assert "internally" not in text and "s3cr3t" not in text and TOKEN not in text
    assert fake.fetched == []


def long_transcript(target_bytes: int) -> tuple[bytes, int]:
    row = '"{ms}","peer-{n}","user-{n}","cust-{n}","Speaker {n}","utterance {i}: and then we went through the plan"\n'
    rows, size, i = [], 0, 0
    while size < target_bytes:
        line = row.format(ms=i * 1500, n=i % 7, i=i)
        rows.append(line)
        size += len(line)
        i += 1
    return "".join(rows).encode(), i


async def test_a_19_mb_transcript_reads_any_window_in_memory_proportional_to_the_file() -> None:
    body, count = long_transcript(19 * 2**20)
    fake = Fake(transcript=body)
    tracemalloc.start()
    try:
        result = await read(fake, offset=count - 3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not result.is_error, text_of(result)
    content = result.structured_content["content"]
    assert content["total"] == count and [u["text"] for u in content["utterances"]] == [
        f"utterance {i}: and then we went through the plan" for i in range(count - 3, count)]
    # The download holds the file once, and parsing streams its rows; before, every row and entry was
    # kept (hundreds of MB for this file).
    assert peak < 3 * len(body), f"peak {peak / 2**20:.0f} MB for a {len(body) / 2**20:.0f} MB file"
