"""MCP over stdio: the SDK's transport, with every line answered and a bound on work in flight.

The SDK's ``stdio_server`` owns the writing side: it serves from a private duplicate of fd 1 and
points fd 1 at stderr meanwhile, so stray output cannot corrupt the JSON-RPC stream. Three things
it does not do, added here around it:

- **Every line is answered.** The SDK drops a line it cannot parse, and the client waits forever.
  Each raw line is screened first (:mod:`rtk_mcp.wire`); a line the server cannot take is answered
  with the JSON-RPC error the specification names, and serving goes on.
- **Bounded work, and a client heard while it lasts.** A client may pipe calls faster than the API
  answers them. At most :data:`MAX_OPEN_REQUESTS` requests are with the server at once; requests
  read beyond that wait their turn in a queue of :data:`MAX_QUEUED_REQUESTS`, in arrival order.
  Reading goes on meanwhile, so notifications and the client's answers reach the server at once:
  above all ``notifications/cancelled``, which drops a queued request (no answer is due for it) or
  reaches the server for an open one, so a client can cancel the very calls that fill the server.
  Pings skip the queue (see :data:`PINGS_PAST_THE_BOUND`). Only when the queue is full too does
  reading pause, so the client's writes block instead of the process's memory growing.
- **Answers for what was read before input ends.** At the end of input the SDK cancels the requests
  still running, so ``printf '...' | rtk-mcp`` loses its last answers. Here the end is held back
  until each request read is answered (queued ones still get their turn), cancelled by the client,
  or a grace period has run out (a hung call must not keep the process alive); then the requests
  still queued are answered as the SDK answers the open ones it stops: "Connection closed".

Reading stdin ourselves (so screening sees raw lines) means claiming fd 0 as the SDK would: it is
served from a private duplicate and points at the null device while serving, so a child process
cannot steal the client's input; it is restored on exit. Descriptors stay blocking.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from functools import partial
from io import TextIOWrapper
from typing import Any, BinaryIO

import anyio
import mcp_types as types
from anyio.streams.memory import MemoryObjectSendStream
from mcp.server.stdio import stdio_server
from mcp.shared.dispatcher import as_request_id, coerce_request_id
from mcp.shared.message import ServerMessageMetadata, SessionMessage
from mcp_types import RequestId

from rtk_mcp.wire import screen

__all__ = ["stdio_transport", "MAX_OPEN_REQUESTS", "MAX_QUEUED_REQUESTS"]

logger = logging.getLogger("rtk_mcp")

#: How long requests read before the end of input may still run; then serving stops and those left,
#: queued ones too, are answered as cancelled.
END_OF_INPUT_GRACE_SECONDS = 10.0
#: Requests with the server at once. Far above what the API's rate limits let through, and low
#: enough that a flood of piped calls holds little memory while it waits.
MAX_OPEN_REQUESTS = 64
#: Requests read while the server is full, waiting their turn. Reading on while it is full is what
#: lets the client's cancellations through; bounding the wait keeps memory bounded whatever the
#: client sends (beyond it reading pauses).
MAX_QUEUED_REQUESTS = 64
#: How far pings may go past MAX_OPEN_REQUESTS. A ping skips the queue: answering it costs nothing,
#: and it is how a client checks the server is alive, most of all when the server is full. The server
#: still answers it (so the answer means the server is serving), and it counts as open, so a client
#: that pings without reading the answers gets only this far before reading pauses.
PINGS_PAST_THE_BOUND = 8


@asynccontextmanager
async def stdio_transport() -> AsyncIterator[tuple[Any, Any]]:
    """``(read_stream, write_stream)`` for ``Server.run``, over the process's stdin and stdout.

    A client that stops reading ends serving quietly: nobody is left to answer.
    """
    stdin, restore_stdin = _claim_stdin()
    try:
        replies_in, replies_out = anyio.create_memory_object_stream[SessionMessage](1)
        lines = _ScreenedLines(anyio.wrap_file(_UnownedText(stdin, encoding="utf-8", errors="replace")), replies_in)
        async with stdio_server(stdin=lines) as (from_client, to_client):  # type: ignore[arg-type]
            to_server, server_reads = anyio.create_memory_object_stream[SessionMessage | Exception](0)
            server_writes, from_server = anyio.create_memory_object_stream[SessionMessage](0)
            admission = _Admission(MAX_OPEN_REQUESTS, MAX_QUEUED_REQUESTS)

            async def inbound(unserved: MemoryObjectSendStream[SessionMessage]) -> None:
                """Every message the client sends reaches the server through here."""
                async with to_server, from_client, unserved, anyio.create_task_group() as passing:
                    passing.start_soon(admission.pass_on, to_server)
                    async for item in from_client:
                        await admission.take(item)
                    with anyio.move_on_after(END_OF_INPUT_GRACE_SECONDS):
                        await admission.all_settled()
                    for request in admission.close():  # answered as the SDK answers the open ones it stops
                        await unserved.send(SessionMessage(types.JSONRPCError(
                            jsonrpc="2.0", id=request.id,
                            error=types.ErrorData(code=types.CONNECTION_CLOSED, message="Connection closed"))))

            async def outbound() -> None:
                async with from_server, to_client:
                    async for item in from_server:
                        await to_client.send(item)
                        if isinstance(item.message, (types.JSONRPCResponse, types.JSONRPCError)):
                            admission.settle(item.message.id)

            async def screened_out(to_client: MemoryObjectSendStream[SessionMessage]) -> None:
                """The answers to lines the server never saw."""
                async with replies_out, to_client:
                    async for reply in replies_out:
                        await to_client.send(reply)

            async with anyio.create_task_group() as relays:
                relays.start_soon(inbound, to_client.clone())
                relays.start_soon(outbound)
                relays.start_soon(screened_out, to_client.clone())
                yield server_reads, server_writes
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

    def __init__(self, source: Any, replies: MemoryObjectSendStream[SessionMessage]) -> None:
        self._source = source
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


class _Admission:
    """The client's messages on their way to the server. Requests wait in arrival order for one of
    ``open_limit`` places with the server; everything else goes on at once. One task passes all of it
    on (:meth:`pass_on`), so nothing overtakes what was read before it: a cancellation never reaches
    the server ahead of the request it names.

    Open requests are counted per id as the SDK correlates ids (``"7"`` is request 7), since a
    client may reuse one."""

    def __init__(self, open_limit: int, queue_limit: int) -> None:
        self._open_limit = open_limit
        self._queue_limit = queue_limit
        self._open: Counter[RequestId] = Counter()
        self._queued: deque[types.JSONRPCRequest] = deque()
        self._at_once: SessionMessage | Exception | None = None
        self._closed = False
        self._change = anyio.Event()

    async def take(self, item: SessionMessage | Exception) -> None:
        """Accept one message read from the client; waits only while the queue is full (or, for a
        ping, while too many pings are unanswered), which is what pauses reading."""
        message = item.message if isinstance(item, SessionMessage) else None
        if isinstance(message, types.JSONRPCRequest) and message.method != "ping":
            await self._until(lambda: len(self._queued) < self._queue_limit)
            self._queued.append(message)
        else:
            if isinstance(message, types.JSONRPCRequest):  # a ping: see PINGS_PAST_THE_BOUND
                await self._until(lambda: self._open.total() < self._open_limit + PINGS_PAST_THE_BOUND)
                item = self._opened(message)
            elif isinstance(message, types.JSONRPCNotification) and message.method == "notifications/cancelled":
                # Per MCP no answer is due for a cancelled request: one still queued is just dropped.
                # The cancellation still goes on, for a request under the same id with the server.
                self._drop_queued((message.params or {}).get("requestId"))
            await self._until(lambda: self._at_once is None)
            self._at_once = item
        self._changed()

    async def pass_on(self, to_server: MemoryObjectSendStream[SessionMessage | Exception]) -> None:
        """Hand the server what was taken, in order (what goes on at once first), until closed."""
        while True:
            await self._until(lambda: self._at_once is not None or self._closed or self._admissible())
            if self._at_once is not None:
                item, self._at_once = self._at_once, None
            elif self._admissible():
                item = self._opened(self._queued.popleft())
            else:
                return
            self._changed()
            await to_server.send(item)

    def settle(self, request_id: RequestId | None) -> None:
        """A request is answered (or cancelled): its place is free."""
        key = None if request_id is None else coerce_request_id(request_id)
        if self._open[key] > 0:
            self._open[key] -= 1
            if not self._open[key]:
                del self._open[key]  # a long session sees many ids: keep only the open ones
            self._changed()

    async def all_settled(self) -> None:
        await self._until(lambda: not self._queued and not self._open)

    def close(self) -> list[types.JSONRPCRequest]:
        """Stop passing requests on; return those still queued, which the server will never see."""
        self._closed = True
        unserved, self._queued = list(self._queued), deque()
        self._changed()
        return unserved

    def _admissible(self) -> bool:
        return bool(self._queued) and not self._closed and self._open.total() < self._open_limit

    def _opened(self, request: types.JSONRPCRequest) -> SessionMessage:
        """Count the request in; the metadata lets the server report one it settles without an answer."""
        key = coerce_request_id(request.id)
        self._open[key] += 1
        return SessionMessage(request, ServerMessageMetadata(on_request_unanswered=partial(self._unanswered, key)))

    def _drop_queued(self, request_id: object) -> None:
        if (key := as_request_id(request_id)) is not None:
            key = coerce_request_id(key)
            self._queued = deque(request for request in self._queued if coerce_request_id(request.id) != key)

    async def _unanswered(self, key: RequestId) -> None:  # the client cancelled it: no answer is due
        self.settle(key)

    async def _until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            await self._change.wait()

    def _changed(self) -> None:
        self._change.set()
        self._change = anyio.Event()
