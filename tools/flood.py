"""Flood rtk-mcp's stdio with calls from a client that does not read for a while; report memory and answers.

    python tools/flood.py [--calls 200000] [--pause 10]

Starts ``rtk-mcp --sandbox``, writes ``--calls`` requests as fast as the server takes them (half tool
calls with invalid arguments, half pings, which the server answers itself: calls that reach the API
are bounded by its rate limits, 250 per 10 s, not by the transport), reads nothing for ``--pause``
seconds (the server fills its 64 places and stops reading), then reads every answer. Prints the server's peak resident memory (VmHWM) after the pause
and at the end, and whether every request was answered exactly once. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from collections import Counter


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--pause", type=float, default=10.0, help="seconds the client reads nothing")
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-m", "rtk_mcp", "--sandbox"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert server.stdin is not None and server.stdout is not None
    initialize = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "flood", "version": "0"}}}

    def write() -> None:
        assert server.stdin is not None
        lines = [json.dumps(initialize), json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})]
        for n in range(1, args.calls + 1):
            call = ({"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {"name": "get_meeting", "arguments": {}}}
                    if n % 2 else {"jsonrpc": "2.0", "id": n, "method": "ping"})
            lines.append(json.dumps(call))
            if len(lines) >= 1_000:
                server.stdin.write(("\n".join(lines) + "\n").encode())
                lines = []
        server.stdin.write(("\n".join(lines) + "\n").encode() if lines else b"")
        server.stdin.flush()

    started = time.monotonic()
    threading.Thread(target=write, daemon=True).start()
    time.sleep(args.pause)  # the point: a client that does not read
    after_pause = _peak_rss_mb(server.pid)
    answered: Counter[int] = Counter()
    for line in server.stdout:
        answered[json.loads(line)["id"]] += 1
        if len(answered) == args.calls + 1:
            break
    elapsed = time.monotonic() - started
    peak = _peak_rss_mb(server.pid)
    server.stdin.close()
    server.wait(timeout=60)
    every_once = set(answered) == set(range(args.calls + 1)) and max(answered.values()) == 1
    print(f"calls={args.calls} pause={args.pause:g}s peak_rss_after_pause={after_pause:.0f}MB peak_rss={peak:.0f}MB "
          f"answered={len(answered) - 1} every_request_answered_once={every_once} seconds={elapsed:.0f}")
    return 0 if every_once else 1


if __name__ == "__main__":
    raise SystemExit(main())
