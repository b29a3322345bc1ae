"""What reading meeting content costs an agent, in o200k tokens (a maintainer script, not an MCP tool).

Everything is measured through the MCP protocol against the offline sandbox: the text an agent reads
for the seeded team-sync session's transcript, chat and summary (``include_content``), and for a
typical transcript window (the default 200 utterances), made by repeating the seeded utterances in a
sandbox session; beside each, the raw file it was read from. Prints a Markdown table for the README.

    .venv/bin/python tools/content_cost.py
"""

from __future__ import annotations

import sys
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


def main() -> None:
    rows = anyio.run(measure)
    print("| read | entries | raw file (o200k tokens) | what the agent reads | per entry |")
    print("|---|---:|---:|---:|---:|")
    for what, entries, raw, read in rows:
        print(f"| {what} | {entries} | {raw:,} | {read:,} | {read / entries:.0f} |")


if __name__ == "__main__":
    main()
