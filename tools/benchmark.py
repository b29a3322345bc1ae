"""Benchmark rtk-mcp against a floor and a peer; every figure is also given as a ratio to both.

- the floor: a bare SDK low-level server with one tool, ``get_meeting``, doing the same HTTP request
  and returning the body, nothing else (no validation, no shaping) — what serving MCP over stdio in
  Python costs at the least;
- the peer: the generic alternative, FastMCP's OpenAPI-to-MCP generator, built from an OpenAPI
  document of the same endpoints generated from rtk-mcp's catalog (``tools/openapi_from_catalog.py``).
  FastMCP 2.14 needs ``mcp`` 1.x, so it lives in its own virtual environment, created on first run in
  ``.bench/fastmcp-venv`` (from the package index).

All serve MCP over stdio (a subprocess each, as a desktop client launches them; driven by the test
suite's stdio client, ``tests/stdio_session.py``) in front of the same fake RealtimeKit API: the
built-in sandbox, served over real loopback HTTP by uvicorn in its own process.

Measured, per server:

- start: process start to the ``tools/list`` answer (median of several fresh starts, taken in turn),
  from compiled modules, as after an install;
- catalogue: tokens of the ``tools/list`` result as compact JSON (o200k when the tokenizer in
  ``../shared/tokenizer`` or ``RTK_TOKENIZER_DIR`` is available, else characters/4, labelled);
- per-call overhead: ``get_meeting`` tool-call latency minus the latency of a direct httpx2 GET of
  the same URL, interleaved call by call; p50 is the median over rounds (each a fresh process, the
  rounds taken in turn across the servers) of the two medians' difference, p95 the difference of
  the pooled 95th percentiles; the ratios to the floor and the peer are medians of per-round ratios;
- 50 concurrent calls: wall time of 50 simultaneous ``tools/call`` requests, as a multiple of one
  call's median latency, against a second copy of the fake API that answers after a simulated
  network delay (``--api-latency-ms``, default 50: the real API is a WAN round trip away; with a
  zero-latency fake on loopback every call is pure CPU and nothing could overlap);
- peak memory: the server process's VmHWM (peak RSS) from /proc at the end.

rtk-mcp queues its requests in a client-side rate limiter (250 per 10 s, RealtimeKit's published
limit), so each server process makes fewer than 250 calls here.

It reports; it does not judge: there are no pass/fail thresholds here.

Run from the checkout with the project's virtual environment (the first run installs the peer):

    .venv/bin/python tools/benchmark.py [--calls 300] [--starts 5] [--out tools/benchmark.md]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import anyio  # noqa: E402
import httpx2  # noqa: E402

from rtk_mcp import __version__  # noqa: E402
from rtk_mcp.sandbox import SANDBOX_APP_ID, SEED  # noqa: E402
from tests.stdio_session import StdioSession, stdio_session  # noqa: E402
from tools.tokens import token_counter  # noqa: E402

BENCH = ROOT / ".bench"
PEER_VENV = BENCH / "fastmcp-venv"
PEER_REQUIREMENT = "fastmcp>=2.14,<2.15"
ACCOUNT = "bench-account"
CONCURRENT = 50

PEER_SERVER = '''
import json, sys
import httpx
from fastmcp import FastMCP
spec = json.load(open(sys.argv[1]))
client = httpx.AsyncClient(base_url=spec["servers"][0]["url"], timeout=30)
FastMCP.from_openapi(openapi_spec=spec, client=client, name="realtimekit-openapi").run(show_banner=False)
'''

FLOOR_SERVER = '''
import json, sys, anyio, httpx2
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

base, token = sys.argv[1], sys.argv[2]
http = httpx2.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
TOOL = types.Tool(name="get_meeting", input_schema={
    "type": "object", "properties": {"app_id": {"type": "string"}, "meeting_id": {"type": "string"}},
    "required": ["app_id", "meeting_id"]})

async def list_tools(ctx, params):
    return types.ListToolsResult(tools=[TOOL])

async def call_tool(ctx, params):
    args = params.arguments or {}
    response = await http.get(f"/{args['app_id']}/meetings/{args['meeting_id']}")
    data = response.json().get("data")
    return types.CallToolResult(content=[types.TextContent(type="text", text=json.dumps(data))],
                                structured_content=data, is_error=response.is_error)

async def main():
    server = Server("floor", on_list_tools=list_tools, on_call_tool=call_tool)
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())

anyio.run(main)
'''


# --------------------------------------------------------------------------- setup


def ensure_peer_venv() -> Path:
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {PEER_VENV} and installing {PEER_REQUIREMENT} (once)...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", PEER_REQUIREMENT], check=True)
    return python


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


FAKE_API = """
import asyncio, sys, uvicorn
from rtk_mcp.sandbox import sandbox_app
inner, delay = sandbox_app(), float(sys.argv[2]) / 1000

async def app(scope, receive, send):
    if scope["type"] == "http" and delay:
        await asyncio.sleep(delay)  # the network round trip to the real API
    await inner(scope, receive, send)

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


@contextlib.contextmanager
def fake_api(latency_ms: float = 0) -> Any:
    """The sandbox on real loopback HTTP, in its own process; yields the API base URL."""
    port = free_port()
    code = FAKE_API
    proc = subprocess.Popen([sys.executable, "-c", code, str(port), str(latency_ms)], cwd=ROOT)
    base = f"http://127.0.0.1:{port}/client/v4"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx2.get(f"{base}/accounts/{ACCOUNT}/realtime/kit/apps", timeout=1).raise_for_status()
                break
            except Exception:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the fake API did not start") from None
                time.sleep(0.05)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def tokenizer() -> tuple[Any, str]:
    count = token_counter()
    if count is not None:
        return count, "o200k tokens"
    print("tokenizer unavailable; estimating", file=sys.stderr)
    return (lambda text: len(text) // 4), "estimated tokens (chars/4)"


# --------------------------------------------------------------------------- measurements


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def call(server: StdioSession, tool: str, arguments: dict[str, Any]) -> None:
    result = await server.call(tool, arguments)
    if result.get("isError"):
        raise RuntimeError(f"{tool} failed: {result['content']}")


def session(server_for: Any, api: str) -> Any:
    argv, env = server_for(api)
    return stdio_session(argv=tuple(argv), env=env, capture_stderr=False)


async def measure_start(server_for: Any, api: str) -> tuple[float, str]:
    """Seconds from process start to the ``tools/list`` answer, and that answer as compact JSON."""
    began = time.perf_counter()
    async with session(server_for, api) as server:
        await server.initialize()
        listed = await server.request("tools/list", {})
        elapsed = time.perf_counter() - began
    return elapsed, json.dumps(listed["result"], separators=(",", ":"))


async def measure_calls(server_for: Any, api: str, calls: int) -> tuple[list[float], list[float], float]:
    """``calls`` tool-call latencies and as many direct GETs of the same URL, interleaved; peak RSS."""
    arguments = {"app_id": SANDBOX_APP_ID, "meeting_id": SEED.meeting_team_sync}
    path = f"/accounts/{ACCOUNT}/realtime/kit/{SANDBOX_APP_ID}/meetings/{SEED.meeting_team_sync}"
    tool_ms, direct_ms = [], []
    async with session(server_for, api) as server, httpx2.AsyncClient(timeout=30) as http:
        await server.initialize()
        for _ in range(10):  # warm up both paths
            await call(server, "get_meeting", arguments)
            (await http.get(api + path)).raise_for_status()
        for _ in range(calls):
            began = time.perf_counter()
            (await http.get(api + path)).raise_for_status()
            direct_ms.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            await call(server, "get_meeting", arguments)
            tool_ms.append((time.perf_counter() - began) * 1000)
        peak = server.peak_rss_mb()
    return tool_ms, direct_ms, peak


async def measure_concurrency(server_for: Any, slow_api: str) -> dict[str, Any]:
    """One call's latency against the slow fake API, and the wall time of 50 at once."""
    arguments = {"app_id": SANDBOX_APP_ID, "meeting_id": SEED.meeting_team_sync}
    async with session(server_for, slow_api) as server:
        await server.initialize()
        for _ in range(3):
            await call(server, "get_meeting", arguments)
        one_ms = []
        for _ in range(10):
            began = time.perf_counter()
            await call(server, "get_meeting", arguments)
            one_ms.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        async with anyio.create_task_group() as calls:
            for _ in range(CONCURRENT):
                calls.start_soon(call, server, "get_meeting", arguments)
        concurrent_ms = (time.perf_counter() - began) * 1000
        peak = server.peak_rss_mb()
    return {"one_slow_ms": statistics.median(one_ms), "concurrent_ms": concurrent_ms,
            "concurrent_x": concurrent_ms / statistics.median(one_ms), "peak_mb": peak}


async def measure_all(servers: list[tuple[str, Any]], api: str, slow_api: str, count_tokens: Any,
                      args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every server, phase by phase. Starts and call rounds go round-robin over the servers, each round
    in a rotated order, so a burst of noise on this shared machine lands on all of them rather than on
    whichever ran at the time."""
    def rotated(number: int) -> list[int]:
        return [(number + offset) % len(servers) for offset in range(len(servers))]

    starts: list[list[float]] = [[] for _ in servers]
    catalogues = [""] * len(servers)
    for number in range(args.starts + 1):  # the first start of each only warms the disk cache
        print(f"start {number} of {args.starts}...", file=sys.stderr)
        for index in rotated(number):
            elapsed, catalogues[index] = await measure_start(servers[index][1], api)
            if number:
                starts[index].append(elapsed)
    rows = [{"name": name, "tools": len(json.loads(catalogue)["tools"]), "start_s": statistics.median(times),
             "start_rounds": times, "tokens": count_tokens(catalogue)} for (name, _), catalogue, times in zip(servers, catalogues, starts)]
    rounds: list[list[tuple[list[float], list[float], float]]] = [[] for _ in servers]
    for number in range(args.rounds):
        print(f"call round {number + 1} of {args.rounds}...", file=sys.stderr)
        for index in rotated(number):
            rounds[index].append(await measure_calls(servers[index][1], api, args.calls))
    # Per-round ratios must pair the same round of both servers: rounds[index][number] is round ``number``.
    for row, (_, server_for), measured in zip(rows, servers, rounds):
        print(f"concurrency: {row['name']}...", file=sys.stderr)
        concurrency = await measure_concurrency(server_for, slow_api)
        tool_ms = [ms for tools, _, _ in measured for ms in tools]
        direct_ms = [ms for _, direct, _ in measured for ms in direct]
        row.update(
            concurrency,
            call_p50=statistics.median(tool_ms),
            direct_p50=statistics.median(direct_ms),
            # Per round, the call's median minus the direct GET's median; the median of the rounds.
            overhead_rounds=[statistics.median(t) - statistics.median(d) for t, d, _ in measured],
            overhead_p95=percentile(tool_ms, 0.95) - percentile(direct_ms, 0.95),
            peak_mb=max(concurrency["peak_mb"], *(peak for _, _, peak in measured)),
        )
        row["overhead_p50"] = statistics.median(row["overhead_rounds"])
    return rows


def per_round_ratio(row: dict[str, Any], reference: dict[str, Any], key: str) -> str:
    """``row``'s figure as a multiple of ``reference``'s, taken within each round (both measured back to
    back, so a burst of noise between rounds cancels out): the median of the rounds, and their range."""
    ratios = [mine / max(theirs, 1e-6) for mine, theirs in zip(row[key], reference[key])]
    return f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})"


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}; {platform.system()} {platform.release()}; Python {platform.python_version()}"


def peer_version(python: Path) -> str:
    done = subprocess.run([str(python), "-c", "import fastmcp, mcp.types; from importlib.metadata import version; "
                           "print(fastmcp.__version__, version('mcp'))"], capture_output=True, text=True, check=True)
    fastmcp_version, mcp_version = done.stdout.split()
    return f"fastmcp {fastmcp_version} (mcp {mcp_version})"


def table(rows: list[dict[str, Any]], unit: str) -> str:
    lines = [
        f"| server | tools | start to tools/list | catalogue ({unit}) | per-call overhead p50 / p95 | "
        f"{CONCURRENT} concurrent calls | peak memory |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['name']} | {row['tools']} | {row['start_s'] * 1000:.0f} ms | {row['tokens']:,} | "
            f"{row['overhead_p50']:.2f} / {row['overhead_p95']:.2f} ms | "
            f"{row['concurrent_ms']:.0f} ms = {row['concurrent_x']:.1f}× one call ({row['one_slow_ms']:.0f} ms) | "
            f"{row['peak_mb']:.0f} MB |"
        )
    full = rows[0]
    lines.append(f"\nOne direct HTTP GET to the fake API: {full['direct_p50']:.2f} ms (p50); one rtk-mcp tool call "
                 f"(all tools): {full['call_p50']:.2f} ms.")
    return "\n".join(lines)


def ratios(rows: list[dict[str, Any]], floor: dict[str, Any], peer: dict[str, Any]) -> str:
    """Each server's figures divided by the floor's and by the peer's (below 1: less than the reference)."""
    lines = [
        "| server | start ÷ floor | start ÷ peer | per-call overhead ÷ floor | per-call overhead ÷ peer | "
        "catalogue ÷ peer | peak memory ÷ floor | peak memory ÷ peer |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        if row is floor or row is peer:
            continue
        lines.append(
            f"| {row['name']} | {per_round_ratio(row, floor, 'start_rounds')} | "
            f"{per_round_ratio(row, peer, 'start_rounds')} | {per_round_ratio(row, floor, 'overhead_rounds')} | "
            f"{per_round_ratio(row, peer, 'overhead_rounds')} | "
            f"{row['tokens'] / peer['tokens']:.2f} | {row['peak_mb'] / floor['peak_mb']:.2f} | "
            f"{row['peak_mb'] / peer['peak_mb']:.2f} |"
        )
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> str:
    peer_python = ensure_peer_venv()
    count_tokens, unit = tokenizer()
    BENCH.mkdir(exist_ok=True)
    # Started as a user's install is: pip compiles a package's modules when it installs them, as it did
    # the floor's and the peer's. A checkout under PYTHONDONTWRITEBYTECODE would compile on every start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "rtk_mcp")], check=True)
    from tools.openapi_from_catalog import openapi_document

    (BENCH / "peer_server.py").write_text(PEER_SERVER)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("RTK_", "CLOUDFLARE_"))}

    def rtk(*flags: str) -> Any:
        def server_for(api: str) -> tuple[list[str], dict[str, str]]:
            return [sys.executable, "-m", "rtk_mcp", *flags], {
                **base_env, "CLOUDFLARE_API_TOKEN": "bench-token", "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
                "RTK_API_BASE_URL": api}
        return server_for

    specs: list[Path] = []

    def peer(api: str) -> tuple[list[str], dict[str, str]]:
        spec = BENCH / f"openapi-{api.split(':')[-1].split('/')[0]}.json"
        spec.write_text(json.dumps(openapi_document(f"{api}/accounts/{ACCOUNT}/realtime/kit")))
        specs.append(spec)
        return [str(peer_python), str(BENCH / "peer_server.py"), str(spec)], {**base_env, "FASTMCP_LOG_LEVEL": "WARNING"}

    def floor(api: str) -> tuple[list[str], dict[str, str]]:
        return [sys.executable, "-c", FLOOR_SERVER, f"{api}/accounts/{ACCOUNT}/realtime/kit", "bench-token"], base_env

    servers = [
        ("rtk-mcp, all tools", rtk()),
        ("rtk-mcp, default toolset", rtk("--toolsets", "default")),
        ("rtk-mcp, read-only", rtk("--read-only")),
        ("floor: bare SDK server, one tool", floor),
        ("FastMCP OpenAPI peer", peer),
    ]
    try:
        with fake_api() as api, fake_api(args.api_latency_ms) as slow_api:
            rows = await measure_all(servers, api, slow_api, count_tokens, args)
    finally:
        for spec in specs:
            spec.unlink(missing_ok=True)
    header = (
        f"Measured {dt.date.today().isoformat()} on {machine()}.\n"
        f"rtk-mcp {__version__}; peer: {peer_version(peer_python)}, built from an OpenAPI document generated from "
        f"rtk-mcp's catalog (`tools/openapi_from_catalog.py`); fake API: the sandbox over loopback HTTP (uvicorn). "
        f"{args.starts} starts (after one warm-up) and {args.rounds} rounds of {args.calls} sequential calls per "
        f"server, both taken in turn across the servers in a rotating order; the {CONCURRENT} concurrent "
        f"calls go to a copy of the fake API with {args.api_latency_ms:g} ms of simulated network latency.\n"
        f"Reproduce: `.venv/bin/python tools/benchmark.py` (creates `.bench/fastmcp-venv` on first run).\n"
    )
    floor_row, peer_row = rows[-2], rows[-1]
    return (header + "\n" + table(rows, unit) + "\n\nAs ratios: start and per-call overhead are the median of "
            "the ratios taken within each start or round, with their range in brackets:\n\n"
            + ratios(rows, floor_row, peer_row) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200,
                        help="sequential tool calls per server (default 200; keep under 240: rate limiter)")
    parser.add_argument("--api-latency-ms", type=float, default=50,
                        help="simulated API latency for the concurrency test (default 50)")
    parser.add_argument("--starts", type=int, default=7,
                        help="fresh starts per server for the start time, taken in turn (default 7)")
    parser.add_argument("--rounds", type=int, default=7,
                        help="rounds of --calls per server, each in a fresh process (default 7)")
    parser.add_argument("--out", default=str(ROOT / "tools" / "benchmark.md"), help="markdown file to write")
    args = parser.parse_args()
    report = anyio.run(run, args)
    print(report)
    Path(args.out).write_text("# Benchmark\n\n" + report)
    print(f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
