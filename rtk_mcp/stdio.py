"""MCP over stdio: the SDK's transport, with every line answered and a bound on work in flight.

The SDK's ``stdio_server`` owns the reading and writing: it serves from private duplicates of fd 0
and fd 1 and points fd 1 at stderr meanwhile, so stray output cannot corrupt the JSON-RPC stream.
Three things it does not do are added as thin wrappers around its streams, with no task or queue of
their own on the way of a message (every hop between tasks costs each call its share of a loop turn):

- **Every line is answered.** The SDK drops a line it cannot parse, and the client waits forever.
  Each raw line is screened first (:mod:`rtk_mcp.wire`), inside the SDK's own reading; a line the
  server cannot take is answered with the JSON-RPC error the specification names, and serving goes on.
- **Bounded work.** A client may pipe calls faster than the API answers them. At most
  :data:`MAX_OPEN_REQUESTS` requests are with the server at once. Requests read while that many are
  open wait in arrival order, up to as many again; only then does reading pause, so the client's
  writes block instead of the process's memory growing. Until then reading goes on, so a
  ``notifications/cancelled`` reaches the server at once (one naming a request still waiting
  removes it: no answer is due), and a ``ping`` is answered at once: it has its own allowance, since
  it needs nothing but the server.
- **Answers for what was read before input ends.** At the end of input the SDK cancels the requests
  still running, so ``printf '...' | rtk-mcp`` loses its last answers. Here the end is held back
  until each request read is answered, cancelled by the client, or a grace period has run out (a
  hung call must not keep the process alive); then the SDK answers what is left as closed.

Reading stdin ourselves (so screening sees raw lines) means claiming fd 0 as the SDK would: it is
served from a private duplicate and points at the null device while serving, so a child process
cannot steal the client's input; it is restored on exit. Descriptors stay blocking.
"""

from __future__ import annotations

import contextvars
import logging
import os
import sys
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from functools import partial
from io import TextIOWrapper
from typing import Any, BinaryIO

import anyio
import mcp_types as types
from anyio.abc import TaskGroup
from mcp.server.stdio import stdio_server
from mcp.shared.dispatcher import coerce_request_id
from mcp.shared.jsonrpc_dispatcher import cancelled_request_id_from_params
from mcp.shared.message import ServerMessageMetadata, SessionMessage
from mcp_types import RequestId

from rtk_mcp.wire import screen

__all__ = ["stdio_transport", "MAX_OPEN_REQUESTS"]

logger = logging.getLogger("rtk_mcp")

#: How long requests read before the end of input may still run; then serving stops and the SDK
#: answers those left as closed.
END_OF_INPUT_GRACE_SECONDS = 10.0
#: Requests with the server at once (and, separately, pings). Far above what the API's rate limits
#: let through, and low enough that a flood of piped calls holds little memory while it waits.
MAX_OPEN_REQUESTS = 64


@asynccontextmanager
async def stdio_transport() -> AsyncIterator[tuple[Any, Any]]:
    """``(read_stream, write_stream)`` for ``Server.run``, over the process's stdin and stdout.

    A client that stops reading ends serving quietly: nobody is left to answer.
    """
    stdin, restore_stdin = _claim_stdin()
    try:
        lines = _ScreenedLines(anyio.wrap_file(_UnownedText(stdin, encoding="utf-8", errors="replace")))
        async with stdio_server(stdin=lines) as (from_client, to_client):  # type: ignore[arg-type]
            replies = to_client.clone()
            lines.answer_through(replies)  # before the SDK's reader first runs
            async with anyio.create_task_group() as tasks:
                admission = _Admission(from_client, MAX_OPEN_REQUESTS, tasks)
                try:
                    yield admission, _Settling(to_client, admission)
                finally:
                    tasks.cancel_scope.cancel()  # a read-ahead still waiting for a line
                    replies.close()  # the SDK's writer ends once every sender is closed
    except* BrokenPipeError:
        logger.info("the client closed its end of stdout; serving stopped")
    finally:
        restore_stdin()


class _UnownedText(TextIOWrapper):
    """A text layer that never closes the buffer under it: in place (Windows) that buffer is
    ``sys.stdin``'s own, which closing at garbage collection would break for the rest of the process."""

    def close(self) -> None:
        with suppress(ValueError):
            self.detach()


class _ScreenedLines:
    """The client's lines as the SDK reads them, minus those it cannot take, which are answered."""

    def __init__(self, source: Any) -> None:
        self._source = source
        self._replies: Any = None

    def answer_through(self, replies: Any) -> None:
        self._replies = replies

    def __aiter__(self) -> AsyncIterator[str]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[str]:
        async with self._replies:
            async for line in self._source:
                screened = screen(line)
                if screened.reply is not None:
                    await self._replies.send(SessionMessage(types.JSONRPCError.model_validate(screened.reply)))
                elif screened.line is not None:
                    yield screened.line


def _claim_stdin() -> tuple[BinaryIO, Callable[[], None]]:
    """A private duplicate of fd 0 to read, with fd 0 pointed at the null device meanwhile."""
    if sys.platform == "win32":  # no fcntl: read in place, as the SDK does there
        return sys.stdin.buffer, lambda: None
    import fcntl

    try:
        private = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 3)
    except OSError:
        return sys.stdin.buffer, lambda: None
    devnull = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(devnull, 0)
    finally:
        os.close(devnull)

    def restore() -> None:
        with suppress(OSError):
            os.dup2(private, 0)

    # closefd=False: a worker thread may still be blocked reading it after serving ends.
    return os.fdopen(private, "rb", closefd=False), restore


_Received = tuple[contextvars.Context | None, "SessionMessage | Exception"]


class _Admission:
    """The server's read stream: the client's messages as the SDK parsed them, with requests admitted
    at most ``limit`` at a time (pings separately), the rest waiting as described above."""

    def __init__(self, inner: Any, limit: int, tasks: TaskGroup) -> None:
        self._inner = inner
        self._limit = limit
        self._tasks = tasks
        #: Open requests per id, as the SDK correlates ids (``"7"`` is request 7; a client may reuse
        #: one), each with its allowance: ``True`` for a ping.
        self._open: dict[RequestId, list[bool]] = {}
        self._open_count = {False: 0, True: 0}
        self._waiting: deque[_Received] = deque()  # requests read while full, in arrival order
        self._read_ahead: deque[_Received] = deque()  # what reading on while full brought in
        self._reading_ahead = False
        self._changed = anyio.Event()
        self._ended = False
        self._grace_over = False
        self.last_context: contextvars.Context | None = None  # the SDK runs each message in its sender's

    def __aiter__(self) -> _Admission:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> _Admission:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._inner.aclose()

    def close(self) -> None:
        self._inner.close()

    async def receive(self) -> SessionMessage | Exception:
        while True:
            if self._waiting and (self._grace_over or self._has_room(self._waiting[0][1])):
                return self._admit(*self._waiting.popleft())
            if self._read_ahead:
                context, item = self._read_ahead.popleft()
            elif self._ended:
                if not self._waiting and (self._grace_over or not self._open):
                    raise anyio.EndOfStream
                await self._changed.wait()
                continue
            elif self._reading_ahead or self._waiting:
                if not self._reading_ahead and len(self._waiting) < self._limit:
                    self._reading_ahead = True
                    self._tasks.start_soon(self._read_on_while_full)
                await self._changed.wait()
                continue
            else:
                try:
                    item = await self._inner.receive()
                except anyio.EndOfStream:
                    self._end_of_input()
                    continue
                context = getattr(self._inner, "last_context", None)
            if isinstance(item, SessionMessage):
                message = item.message
                if isinstance(message, types.JSONRPCRequest):
                    if self._has_room(item) and not (self._waiting and message.method != "ping"):
                        return self._admit(context, item)
                    self._waiting.append((context, item))
                    continue
                if isinstance(message, types.JSONRPCNotification) and self._withdraws_waiting(message):
                    continue
            self.last_context = context
            return item

    def settle(self, request_id: RequestId | None) -> None:
        """A request was answered (or settled without an answer): its allowance frees up."""
        key = None if request_id is None else coerce_request_id(request_id)
        kinds = self._open.get(key)
        if kinds:
            self._open_count[kinds.pop(0)] -= 1
            if not kinds:
                del self._open[key]
            self._signal()

    def _has_room(self, item: SessionMessage) -> bool:
        return self._open_count[_is_ping(item)] < self._limit

    def _admit(self, context: contextvars.Context | None, item: SessionMessage) -> SessionMessage:
        request = item.message
        assert isinstance(request, types.JSONRPCRequest)
        key, ping = coerce_request_id(request.id), _is_ping(item)
        self._open.setdefault(key, []).append(ping)
        self._open_count[ping] += 1
        self.last_context = context
        # The SDK calls on_request_unanswered for a request it settles without an answer (cancelled).
        return SessionMessage(request, ServerMessageMetadata(on_request_unanswered=partial(self._unanswered, key)))

    async def _unanswered(self, key: RequestId) -> None:
        self.settle(key)

    def _withdraws_waiting(self, note: types.JSONRPCNotification) -> bool:
        """Whether ``note`` cancels a request still waiting, which is then dropped unanswered."""
        cancelled = cancelled_request_id_from_params(note.params) if note.method == "notifications/cancelled" else None
        if cancelled is None:
            return False
        key = coerce_request_id(cancelled)
        for entry in self._waiting:
            if coerce_request_id(entry[1].message.id) == key:  # type: ignore[union-attr]
                self._waiting.remove(entry)
                return True
        return False

    async def _read_on_while_full(self) -> None:
        """Read the client's next messages while requests wait for room, so cancellations and pings
        get through; stops once there is room again or the waiting line is full (reading pauses)."""
        try:
            while True:
                try:
                    item = await self._inner.receive()
                except anyio.EndOfStream:
                    self._end_of_input()
                    return
                self._read_ahead.append((getattr(self._inner, "last_context", None), item))
                self._signal()
                full = self._open_count[False] >= self._limit
                if not full or len(self._waiting) + len(self._read_ahead) >= self._limit:
                    return
        finally:
            self._reading_ahead = False
            self._signal()

    def _end_of_input(self) -> None:
        self._ended = True
        self._tasks.start_soon(self._end_grace)

    async def _end_grace(self) -> None:
        await anyio.sleep(END_OF_INPUT_GRACE_SECONDS)
        if self._waiting or self._open:
            logger.info("input ended; stopping with requests still unanswered after the grace period")
        self._grace_over = True  # what still waits goes to the server, which answers it as closed
        self._signal()

    def _signal(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()


def _is_ping(item: SessionMessage) -> bool:
    message = item.message
    return isinstance(message, types.JSONRPCRequest) and message.method == "ping"


class _Settling:
    """The server's write stream: the SDK's, noting each answer so its request's allowance frees up."""

    def __init__(self, inner: Any, admission: _Admission) -> None:
        self._inner = inner
        self._admission = admission

    async def send(self, item: SessionMessage) -> None:
        await self._inner.send(item)
        if isinstance(item.message, (types.JSONRPCResponse, types.JSONRPCError)):
            self._admission.settle(item.message.id)

    def close(self) -> None:
        self._inner.close()

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> _Settling:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
