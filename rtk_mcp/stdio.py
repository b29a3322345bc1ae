"""MCP over stdio with one reader and one writer thread for the whole session.

The SDK's stdio transport reads each line, writes each answer and flushes it through anyio's worker
pool: three round trips between the event loop and a thread per tool call. Here a reader thread and
a writer thread each own one end of the wire and hand lines over without waiting for an answer,
which takes what a call costs on top of its API request from about 0.9 ms to about 0.65 ms
(``tools/benchmark.py``). What the SDK's transport guarantees still holds:

- file descriptors stay blocking: nothing switches them to ``O_NONBLOCK``, which would leak into a
  terminal or into the client's end of a shared pipe after we exit;
- while serving, fd 1 points at stderr and fd 0 at the null device, so a stray ``print`` (ours, a
  library's, a child process's) can never corrupt the JSON-RPC stream; both are restored on exit;
- a line may be any length; one that is not JSON-RPC is reported to the server as such, and serving
  goes on;
- at end of input, answers already produced are written out before ``stdio_transport`` returns;

and two things are added: at end of input, requests already read get up to 10 s to be answered
before serving stops (the SDK's transport stops at once, so ``printf '...' | rtk-mcp`` could lose its
last answer); and a client that stops reading (its end of stdout closed) ends the session, where the
SDK's transport would keep serving into the void.

On Windows (no ``fcntl``) the SDK's transport is used.

Threads use ``os.read``/``os.write`` on private duplicates of the descriptors, never a buffered
file object: a daemon thread blocked inside a buffered reader would hold its lock at interpreter
shutdown.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import sys
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import mcp_types as types
from mcp.shared.dispatcher import as_request_id, coerce_request_id
from mcp.shared.message import SessionMessage
from mcp_types import RequestId

from rtk_mcp.wire import screen

__all__ = ["stdio_transport"]

_CHUNK = 1 << 16
#: How long queued answers may take to drain at exit (a client that stopped reading can't block us).
_DRAIN_SECONDS = 5.0
#: After the end of input, how long requests already read may take to be answered before they are
#: cancelled: ``printf '...' | rtk-mcp`` gets its answers, a hung call cannot hold the process.
_EOF_GRACE_SECONDS = 10.0
_LINE_END = re.compile(rb"[\r\n]")  # like the SDK's text layer: a bare CR ends a line too
_in_use = threading.Lock()  # the standard streams can be claimed once at a time


@asynccontextmanager
async def stdio_transport() -> AsyncIterator[tuple[Any, Any]]:
    """``(read_stream, write_stream)`` for ``Server.run``, over the process's stdin and stdout."""
    loop = asyncio.get_running_loop()  # before claiming anything: this transport needs asyncio
    if not _in_use.acquire(blocking=False):
        raise RuntimeError("the standard streams are already being served in this process")
    try:
        wire_in, wire_out, restore = _claim_standard_streams()
    except BaseException:
        _in_use.release()
        raise
    lines: asyncio.Queue[bytes | None] = asyncio.Queue()
    answers: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    pending = _Pending()
    writer: threading.Thread | None = None

    def deliver(line: bytes | None) -> None:
        _call_soon(loop, lines.put_nowait, line)

    def hang_up() -> None:  # from the writer thread: the client stopped reading
        _call_soon(loop, pending.hang_up)
        deliver(None)

    try:
        threading.Thread(target=_read_lines, args=(wire_in, deliver), name="rtk-mcp-stdin", daemon=True).start()
        writer = threading.Thread(target=_write_answers, args=(wire_out, answers, hang_up), name="rtk-mcp-stdout",
                                  daemon=True)
        writer.start()
        read_send, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](16)
        write_stream, write_receive = anyio.create_memory_object_stream[SessionMessage](16)
        reading = anyio.CancelScope()

        async def pump_in() -> None:
            with reading:
                async with read_send:
                    while (line := await lines.get()) is not None:
                        # Invalid UTF-8 is replaced, not refused: the request still gets an answer.
                        screened = screen(line.decode("utf-8", "replace"))
                        if screened.reply is not None:  # a line the server could not take is answered here
                            answers.put(json.dumps(screened.reply, separators=(",", ":")).encode() + b"\n")
                            continue
                        if screened.line is None:
                            continue
                        try:
                            message = types.jsonrpc_message_adapter.validate_json(screened.line, by_name=False)
                        except Exception as exc:  # not JSON-RPC: the server answers it, serving goes on
                            message = exc
                        else:
                            pending.read(message)
                        try:
                            await read_send.send(message if isinstance(message, Exception) else SessionMessage(message))
                        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                            return  # the server stopped reading: serving is over
                    await pending.settle(_EOF_GRACE_SECONDS)

        async def pump_out() -> None:
            async with write_receive:
                async for outgoing in write_receive:
                    pending.written(outgoing.message)
                    answers.put(outgoing.message.model_dump_json(by_alias=True, exclude_unset=True).encode() + b"\n")

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(pump_in)
            tasks.start_soon(pump_out)
            try:
                yield read_stream, write_stream
            finally:
                reading.cancel()  # serving is over: further input no longer matters
                write_stream.close()  # pump_out still hands over what the server already sent
    finally:
        answers.put(None)
        try:
            if writer is not None:
                with anyio.CancelScope(shield=True):  # even when cancelled: drain, then give the fds back
                    await anyio.to_thread.run_sync(writer.join, _DRAIN_SECONDS)
        finally:
            restore()
            _in_use.release()


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[..., Any], *args: Any) -> None:
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:  # the loop has closed: nobody is listening any more
        pass


class _Pending:
    """Requests read from the client and not yet answered, for the grace at end of input.

    Ids are matched the way the SDK matches them (``"7"`` is request 7; ``true`` or a list is no id),
    and counted, since a client may reuse an id. A request leaves when its answer is written or when
    the client cancels it (a cancelled request gets no answer).
    """

    def __init__(self) -> None:
        self.counts: Counter[RequestId] = Counter()
        self.changed = asyncio.Event()
        self.client_gone = False

    def read(self, message: Any) -> None:
        if isinstance(message, types.JSONRPCRequest):
            if (key := _request_key(message.id)) is not None:
                self.counts[key] += 1
        elif isinstance(message, types.JSONRPCNotification) and message.method == "notifications/cancelled":
            params = message.params if isinstance(message.params, dict) else {}
            self._settle(_request_key(params.get("requestId")))

    def written(self, message: Any) -> None:
        if isinstance(message, (types.JSONRPCResponse, types.JSONRPCError)):
            self._settle(_request_key(message.id))

    def hang_up(self) -> None:
        """No answer can reach the client any more: nothing is worth waiting for."""
        self.client_gone = True
        self.changed.set()

    async def settle(self, seconds: float) -> None:
        """Wait until every request read has been answered (or the client is gone), at most ``seconds``."""
        with anyio.move_on_after(seconds):
            while any(self.counts.values()) and not self.client_gone:
                self.changed.clear()
                await self.changed.wait()

    def _settle(self, key: RequestId | None) -> None:
        if key is not None and self.counts[key] > 0:
            self.counts[key] -= 1
            self.changed.set()


def _request_key(value: object) -> RequestId | None:
    request_id = as_request_id(value)
    return None if request_id is None else coerce_request_id(request_id)


def _read_lines(fd: int, deliver: Callable[[bytes | None], None]) -> None:
    """Deliver each non-empty line read from ``fd``, then ``None`` at end of input."""
    pending = bytearray()
    while True:
        try:
            chunk = os.read(fd, _CHUNK)
        except OSError:
            chunk = b""
        if not chunk:
            if pending.strip():
                deliver(bytes(pending))
            deliver(None)
            return
        scan_from = len(pending)  # a long line is searched for its end once, not once per chunk
        pending += chunk
        while (end := _LINE_END.search(pending, scan_from)) is not None:
            line = bytes(pending[: end.start()])
            del pending[: end.start() + 1]
            scan_from = 0
            if line.strip():
                deliver(line)


def _write_answers(fd: int, answers: queue.SimpleQueue[bytes | None], on_broken: Callable[[], None]) -> None:
    while (data := answers.get()) is not None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(fd, view):]
        except OSError:  # the client closed its end: nothing more can be delivered
            on_broken()
            return


def _claim_standard_streams() -> tuple[int, int, Callable[[], None]]:
    """Private duplicates of fds 0 and 1 for the wire; fd 0 then reads the null device and fd 1
    writes to stderr until the returned ``restore`` puts the wire back."""
    sys.stdout.flush()
    wire_in, wire_out = _dup_above_standard(0), _dup_above_standard(1)
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null, 0)
    finally:
        os.close(null)
    os.dup2(2, 1)

    def restore() -> None:
        try:
            sys.stdout.flush()  # stray output buffered while diverted goes where it was headed
        except (OSError, ValueError):
            pass
        os.dup2(wire_in, 0)
        os.dup2(wire_out, 1)
        # The duplicates stay open: the reader thread may still be blocked on wire_in, and a closed
        # descriptor number could be reused under it.

    return wire_in, wire_out, restore


def _dup_above_standard(fd: int) -> int:
    import fcntl

    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)


if sys.platform == "win32":  # pragma: no cover - no fcntl; the SDK's transport is the portable one
    from mcp.server.stdio import stdio_server as stdio_transport
