"""Ctrl-C stops a stdio server at once, with stdin still open: in a terminal (a pseudo-terminal here,
where the line discipline turns Ctrl-C into SIGINT), and by a real SIGINT. Exit code 130, no traceback."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

from tests.stdio_session import INITIALIZE, ROOT, clean_env, jsonrpc_lines

#: How long the server may take to stop after Ctrl-C (a bound, not a measurement).
STOP_WITHIN = 2.0
#: Starts rtk-mcp with the pseudo-terminal on fd 0 as its controlling terminal, as a shell would.
IN_A_TERMINAL = ("import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
                 "os.execv(sys.executable, [sys.executable, '-m', 'rtk_mcp', '--sandbox'])")


def _read_until(fd: int, needle: bytes, timeout: float = 60) -> bytes:
    """What the terminal shows until ``needle`` appears (or the other end closes)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"no {needle!r} within {timeout} s; the terminal showed {seen!r}"
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the other side has closed (Linux reports EIO)
            break
        if not chunk:
            break
        seen += chunk
    return seen


def test_ctrl_c_in_a_terminal_stops_the_server() -> None:
    terminal, server_side = pty.openpty()
    with subprocess.Popen([sys.executable, "-c", IN_A_TERMINAL], stdin=server_side, stdout=server_side,
                          stderr=server_side, cwd=ROOT, env=clean_env(), start_new_session=True) as process:
        os.close(server_side)
        try:
            assert b"serving" in _read_until(terminal, b"over stdio")
            os.write(terminal, b"\x03")  # Ctrl-C, typed
            assert process.wait(timeout=STOP_WITHIN) == 130
            shown = _read_until(terminal, b"\0")  # the rest, to the end
        finally:
            process.kill()
            os.close(terminal)
    assert b"Traceback" not in shown, shown


def test_sigint_stops_the_server_with_stdin_still_open() -> None:
    with subprocess.Popen([sys.executable, "-m", "rtk_mcp", "--sandbox"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=clean_env()) as process:
        assert process.stdin and process.stdout and process.stderr
        process.stdin.write(jsonrpc_lines(INITIALIZE))
        process.stdin.flush()
        assert json.loads(process.stdout.readline())["id"] == 0  # serving, and reading stdin
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=STOP_WITHIN) == 130
        finally:
            process.kill()
        assert process.stdout.read() == b""
        stderr = process.stderr.read().decode()
    assert "Traceback" not in stderr and "Error" not in stderr, stderr
