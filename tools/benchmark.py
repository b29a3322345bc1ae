"""Benchmark rtk-mcp against the generic alternative: FastMCP's OpenAPI-to-MCP generator.

Both serve MCP over stdio (a subprocess each, as a desktop client launches them) in front of the
same fake RealtimeKit API: the built-in sandbox, served over real loopback HTTP by uvicorn in its
own process. The peer is built from an OpenAPI document of the same endpoints, generated from
rtk-mcp's catalog (``tools/openapi_from_catalog.py``). FastMCP 2.14 needs ``mcp`` 1.x, so it lives
in its own virtual environment, created on first run in ``.bench/fastmcp-venv``.

Measured, per server (rtk-mcp with all tools, the default toolset, read-only; and the peer):

- start: process start to the ``tools/list`` answer (median of several fresh starts, taken in turn);
- catalogue: tokens of the ``tools/list`` result as compact JSON (o200k when the tokenizer in
  ``../shared/tokenizer`` or ``RTK_TOKENIZER_DIR`` is available, else characters/4, labelled);
- per-call overhead: ``get_meeting`` tool-call latency minus the latency of a direct httpx2 GET of
  the same URL, interleaved call by call; p50 is the median over rounds (each a fresh process, the
  rounds taken in turn across the servers) of the two medians' difference, p95 the difference of
  the pooled 95th percentiles; the ratio to the peer is the median of the per-round ratios;
- 50 concurrent calls: wall time of 50 simultaneous ``tools/call`` requests, as a multiple of one
  call's median latency, against a second copy of the fake API that answers after a simulated
  network delay (``--api-latency-ms``, default 50: the real API is a WAN round trip away; with a
  zero-latency fake on loopback every call is pure CPU and nothing could overlap);
- peak memory: the server process's VmHWM (peak RSS) from /proc at the end.

rtk-mcp queues its requests in a client-side rate limiter (250 per 10 s, RealtimeKit's published
limit), so each server process makes fewer than 250 calls here.

Run from the checkout with the project's virtual environment (needs network once, for the peer):

    .venv/bin/python tools/benchmark.py [--calls 300] [--starts 5] [--out tools/benchmark.md]
"""

from __future__ import annotations

import argparse
import asyncio
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

import httpx2  # noqa: E402

from rtk_mcp import __version__  # noqa: E402
from rtk_mcp.tokens import token_counter  # noqa: E402
from rtk_mcp.sandbox import SANDBOX_APP_ID, SEED  # noqa: E402

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


# --------------------------------------------------------------------------- a minimal stdio MCP client


class StdioServer:
    """Newline-delimited JSON-RPC over a subprocess's stdin/stdout: just enough MCP to time it."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.next_id = 0
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, argv: list[str], env: dict[str, str]) -> StdioServer:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, env=env, cwd=ROOT, limit=64 * 1024 * 1024,
        )
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stdout
        async for line in self.proc.stdout:
            message = json.loads(line)
            future = self.pending.pop(message.get("id"), None) if "id" in message else None
            if future and not future.done():
                future.set_result(message)

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")

    async def request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        self._send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        message = await asyncio.wait_for(future, 120)
        if "error" in message:
            raise RuntimeError(f"{method}: {message['error']}")
        return message["result"]

    async def initialize(self) -> None:
        await self.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                          "clientInfo": {"name": "rtk-mcp-benchmark", "version": __version__}})
        self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    async def call(self, tool: str, arguments: dict[str, Any]) -> None:
        result = await self.request("tools/call", {"name": tool, "arguments": arguments})
        if result.get("isError"):
            raise RuntimeError(f"{tool} failed: {result['content']}")

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    async def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 5)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        self.reader.cancel()


# --------------------------------------------------------------------------- measurements


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure_start(server_for: Any, api: str) -> tuple[float, str]:
    """Seconds from process start to the ``tools/list`` answer, and that answer as compact JSON."""
    argv, env = server_for(api)
    began = time.perf_counter()
    server = await StdioServer.start(argv, env)
    await server.initialize()
    listed = await server.request("tools/list", {})
    elapsed = time.perf_counter() - began
    await server.close()
    return elapsed, json.dumps(listed, separators=(",", ":"))


async def measure_calls(server_for: Any, api: str, calls: int) -> tuple[list[float], list[float], float]:
    """``calls`` tool-call latencies and as many direct GETs of the same URL, interleaved; peak RSS."""
    argv, env = server_for(api)
    arguments = {"app_id": SANDBOX_APP_ID, "meeting_id": SEED.meeting_team_sync}
    path = f"/accounts/{ACCOUNT}/realtime/kit/{SANDBOX_APP_ID}/meetings/{SEED.meeting_team_sync}"
    server = await StdioServer.start(argv, env)
    await server.initialize()
    tool_ms, direct_ms = [], []
    async with httpx2.AsyncClient(timeout=30) as http:
        for _ in range(10):  # warm up both paths
            await server.call("get_meeting", arguments)
            (await http.get(api + path)).raise_for_status()
        for _ in range(calls):
            began = time.perf_counter()
            (await http.get(api + path)).raise_for_status()
            direct_ms.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            await server.call("get_meeting", arguments)
            tool_ms.append((time.perf_counter() - began) * 1000)
    peak = server.peak_rss_mb()
    await server.close()
    return tool_ms, direct_ms, peak


async def measure_concurrency(server_for: Any, slow_api: str) -> dict[str, Any]:
    """One call's latency against the slow fake API, and the wall time of 50 at once."""
    argv, env = server_for(slow_api)
    arguments = {"app_id": SANDBOX_APP_ID, "meeting_id": SEED.meeting_team_sync}
    server = await StdioServer.start(argv, env)
    await server.initialize()
    for _ in range(3):
        await server.call("get_meeting", arguments)
    one_ms = []
    for _ in range(10):
        began = time.perf_counter()
        await server.call("get_meeting", arguments)
        one_ms.append((time.perf_counter() - began) * 1000)
    began = time.perf_counter()
    await asyncio.gather(*(server.call("get_meeting", arguments) for _ in range(CONCURRENT)))
    concurrent_ms = (time.perf_counter() - began) * 1000
    peak = server.peak_rss_mb()
    await server.close()
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
             "tokens": count_tokens(catalogue)} for (name, _), catalogue, times in zip(servers, catalogues, starts)]
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


def overhead_ratio(ours: dict[str, Any], peer: dict[str, Any]) -> float:
    """How many times lower our per-call overhead is: the median over rounds of the ratio within a round
    (both servers measured back to back), so a burst of noise between rounds cancels out."""
    return statistics.median(theirs / max(mine, 1e-3)
                             for mine, theirs in zip(ours["overhead_rounds"], peer["overhead_rounds"]))


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
    peer = rows[-1]
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
    lines += [
        "",
        f"rtk-mcp (all tools) vs the peer: catalogue {peer['tokens'] / full['tokens']:.1f}× smaller, "
        f"start {peer['start_s'] / full['start_s']:.1f}× faster, per-call overhead (p50) "
        f"{overhead_ratio(full, peer):.1f}× lower (median of the per-round ratios), peak memory "
        f"{peer['peak_mb'] / full['peak_mb']:.1f}× lower. One direct HTTP GET to the fake API: "
        f"{full['direct_p50']:.2f} ms (p50); one rtk-mcp tool call: {full['call_p50']:.2f} ms.",
    ]
    return "\n".join(lines)


def goals(rows: list[dict[str, Any]]) -> str:
    """The context-economy goals, each checked against this run's numbers (rtk-mcp with all tools, or
    every rtk-mcp mode where the goal is an absolute limit)."""
    full, peer, ours = rows[0], rows[-1], rows[:-1]
    worst_overhead = max(row["overhead_p50"] for row in ours)
    worst_peak = max(row["peak_mb"] for row in ours)
    start_x = peer["start_s"] / full["start_s"]
    overhead_x = overhead_ratio(full, peer)
    checks = [
        ("catalogue, all tools", "≤ 10,000 tokens", f"{full['tokens']:,}", full["tokens"] <= 10_000),
        ("start to tools/list", "≥ 1.5× faster than the peer", f"{start_x:.1f}×", start_x >= 1.5),
        ("per-call overhead p50, every rtk-mcp mode", "≤ 1.5 ms", f"{worst_overhead:.2f} ms (highest)",
         worst_overhead <= 1.5),
        ("per-call overhead p50", "≥ 5× lower than the peer", f"{overhead_x:.1f}×", overhead_x >= 5),
        (f"{CONCURRENT} concurrent calls", "well under 50× one call (≤ 10×)", f"{full['concurrent_x']:.1f}×",
         full["concurrent_x"] <= 10),
        ("peak memory, every rtk-mcp mode", "≤ 100 MB", f"{worst_peak:.0f} MB (highest)", worst_peak <= 100),
    ]
    lines = ["| goal | target | measured | |", "|---|---|---:|---|"]
    lines += [f"| {what} | {target} | {value} | {'met' if ok else '**missed**'} |" for what, target, value, ok in checks]
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> str:
    peer_python = ensure_peer_venv()
    count_tokens, unit = tokenizer()
    BENCH.mkdir(exist_ok=True)
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

    servers = [
        ("rtk-mcp, all tools", rtk()),
        ("rtk-mcp, default toolset", rtk("--toolsets", "default")),
        ("rtk-mcp, read-only", rtk("--read-only")),
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
        f"server, both taken in turn across the servers in a rotating order; the 50 concurrent "
        f"calls go to a copy of the fake API with {args.api_latency_ms:g} ms of simulated network latency.\n"
        f"Reproduce: `.venv/bin/python tools/benchmark.py` (creates `.bench/fastmcp-venv` on first run).\n"
    )
    return header + "\n" + table(rows, unit) + "\n\n" + goals(rows) + "\n"


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
    report = asyncio.run(run(args))
    print(report)
    Path(args.out).write_text("# Benchmark\n\n" + report)
    print(f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
