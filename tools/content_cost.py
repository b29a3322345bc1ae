"""What reading meeting content costs an agent, in o200k tokens, and what a very large file costs the
server (a maintainer script, not an MCP tool).

Everything is measured through the MCP protocol. Tokens: against the offline sandbox, the text an agent
reads for the seeded team-sync session's transcript, chat and summary (``include_content``), and for a
typical transcript window (the default 200 utterances), made by repeating the seeded utterances in a
sandbox session; beside each, the raw file it was read from. Prints a Markdown table for the README.

``--large`` reads a 19 MB transcript (just under the 20 MB cap) from a fake storage host, twice: once
under ``tracemalloc`` for the peak memory of the read, as a multiple of the file's size; once while
another client request (``tools/list``) is sent every 10 ms, for the slowest answer it got during the
read against its usual time when idle.

    .venv/bin/python tools/content_cost.py [--large]
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rtk_mcp.results.content import DEFAULT_LIMIT  # noqa: E402
from rtk_mcp.sandbox import SEED, sandbox_app, sandbox_settings  # noqa: E402
from rtk_mcp.sandbox.clock import iso, parse_ts  # noqa: E402
from rtk_mcp.server import build_server  # noqa: E402
from tools.tokens import token_counter  # noqa: E402


def _text(result: Any) -> str:
    return "".join(block.text for block in result.content if block.type == "text")


async def measure() -> list[tuple[str, int, int, int]]:
    """(what, entries, tokens of the raw file, tokens of what the agent reads) per measurement."""
    count = token_counter()
    if count is None:
        raise SystemExit("no tokenizer: expected ../shared/tokenizer beside the checkout (or RTK_TOKENIZER_DIR)")
    app = sandbox_app()
    typical = SEED.session_no_summary  # filled with DEFAULT_LIMIT utterances cycled from the seeded ones
    with app.state.sandbox.store.transaction() as state:
        seeded = state["sessions"][SEED.session_ended]["_transcript"]
        started = parse_ts(state["sessions"][typical]["started_at"])
        state["sessions"][typical]["_transcript"] = [  # one utterance every 15 s: 50 minutes of meeting
            {**seeded[i % len(seeded)], "at": iso(started + timedelta(seconds=15 * i))} for i in range(DEFAULT_LIMIT)
        ]
    rows = []
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://sandbox") as raw:
        async with Client(build_server(sandbox_settings(), transport=httpx2.ASGITransport(app=app))) as client:
            for what, tool, session, file, unit in (
                ("transcript, seeded session (one window)", "get_session_transcript", SEED.session_ended,
                 "transcript.csv", "utterances"),
                (f"transcript, a typical window ({DEFAULT_LIMIT} utterances)", "get_session_transcript", typical,
                 "transcript.csv", "utterances"),
                ("chat, seeded session", "get_session_chat", SEED.session_ended, "chat.csv", "messages"),
                ("summary, seeded session", "get_session_summary", SEED.session_ended, "summary.md", None),
            ):
                result = await client.call_tool(tool, {"session_id": session, "include_content": True})
                if result.is_error:
                    raise SystemExit(f"{tool} failed: {_text(result)}")
                content = result.structured_content["content"]
                entries = len(content[unit]) if unit else 1
                file_text = (await raw.get(f"/sandbox-files/sessions/{session}/{file}")).text
                rows.append((what, entries, count(file_text), count(_text(result))))
    return rows


def long_transcript(target_bytes: int) -> tuple[bytes, int]:
    """Header-less RealtimeKit rows, an utterance every 1.5 s, until ``target_bytes``; the file and its rows."""
    lines, size = [], 0
    while size < target_bytes:
        n = len(lines)
        line = f'"{n * 1500}","peer-{n % 7}","user-{n % 7}","cust-{n % 7}","Speaker {n % 7}","utterance {n}: and then we went through the plan"\n'
        lines.append(line)
        size += len(line)
    return "".join(lines).encode(), len(lines)


async def measure_large(megabytes: int = 19) -> dict[str, float]:
    from tests.conftest import settings  # a fake live configuration, as the tests use

    body, rows = long_transcript(megabytes * 2**20)

    def answer(request: httpx2.Request) -> httpx2.Response:
        if request.url.host == "storage.test":
            return httpx2.Response(200, content=body)
        return httpx2.Response(200, json={"success": True, "data": {
            "sessionId": "s", "transcript_download_url": "https://storage.test/t.csv?sig=1"}})

    arguments = {"session_id": "s", "offset": rows - 200}  # the last window: every row is parsed
    async with Client(build_server(settings(), transport=httpx2.MockTransport(answer))) as client:
        tracemalloc.start()
        result = await client.call_tool("get_session_transcript", arguments)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        if result.is_error:
            raise SystemExit(f"the large read failed: {_text(result)}")

        async def list_time() -> float:
            started = time.perf_counter()
            await client.list_tools()
            return time.perf_counter() - started

        idle = statistics.median([await list_time() for _ in range(20)])
        during: list[float] = []
        done = False

        async def keep_asking() -> None:
            while not done:
                during.append(await list_time())
                await anyio.sleep(0.01)

        async with anyio.create_task_group() as group:
            group.start_soon(keep_asking)
            started = time.perf_counter()
            await client.call_tool("get_session_transcript", arguments)
            took = time.perf_counter() - started
            done = True
    return {"mb": len(body) / 2**20, "rows": rows, "peak_mb": peak / 2**20, "read_s": took,
            "idle_ms": idle * 1000, "worst_ms": max(during) * 1000, "answered": len(during)}


def main() -> None:
    if "--large" in sys.argv[1:]:
        m = anyio.run(measure_large)
        print(f"| {m['mb']:.1f} MB transcript, {m['rows']:,.0f} rows | peak memory of the read, beyond the downloaded file, {m['peak_mb']:.0f} MB "
              f"({m['peak_mb'] / m['mb']:.1f}x the file) | read {m['read_s']:.1f} s | tools/list answered "
              f"{m['answered']:.0f} times meanwhile, slowest {m['worst_ms']:.0f} ms "
              f"({m['worst_ms'] / m['idle_ms']:.0f}x its idle {m['idle_ms']:.1f} ms) |")
        return
    rows = anyio.run(measure)
    print("| read | entries | raw file (o200k tokens) | what the agent reads | per entry |")
    print("|---|---:|---:|---:|---:|")
    for what, entries, raw, read in rows:
        print(f"| {what} | {entries} | {raw:,} | {read:,} | {read / entries:.0f} |")


if __name__ == "__main__":
    main()
