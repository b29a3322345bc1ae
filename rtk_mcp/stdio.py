"""MCP over stdio: the SDK's transport, with every line answered and a bound on work in flight.

The SDK's ``stdio_server`` owns the writing side: it serves from a private duplicate of fd 1 and
points fd 1 at stderr meanwhile, so stray output cannot corrupt the JSON-RPC stream. Three things
it does not do, added here around it:

- **Every line is answered.** The SDK drops a line it cannot parse, and the client waits forever.
  Each raw line is screened first (:mod:`rtk_mcp.wire`); a line the server cannot take is answered
  with the JSON-RPC error the specification names, and serving goes on.
- **Bounded work.** A client may pipe calls faster than the API answers them. At most
  :data:`MAX_OPEN_REQUESTS` requests are with the server at once; while that many are open, reading
  pauses, so the client's writes block instead of the process's memory growing.
- **Answers for what was read before input ends.** At the end of input the SDK cancels the requests
  still running, so ``printf '...' | rtk-mcp`` loses its last answers. Here the end is held back
  until each request passed on is answered, cancelled by the client, or a grace period has run out
  (a hung call must not keep the process alive).

Reading stdin ourselves (so screening sees raw lines) means claiming fd 0 as the SDK would: it is
served from a private duplicate and points at the null device while serving, so a child process
cannot steal the client's input; it is restored on exit. Descriptors stay blocking.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from functools import partial
from io import TextIOWrapper
from typing import Any, BinaryIO

import anyio
import mcp_types as types
from anyio.streams.memory import MemoryObjectSendStream
from mcp.server.stdio import stdio_server
from mcp.shared.dispatcher import coerce_request_id
from mcp.shared.message import ServerMessageMetadata, SessionMessage
from mcp_types import RequestId

from rtk_mcp.wire import screen

__all__ = ["stdio_transport", "MAX_OPEN_REQUESTS"]

logger = logging.getLogger("rtk_mcp")

#: How long requests read before the end of input may still run; then serving stops and they are
#: answered as cancelled.
END_OF_INPUT_GRACE_SECONDS = 10.0
#: Requests with the server at once. Far above what the API's rate limits let through, and low
#: enough that a flood of piped calls holds little memory while it waits.
MAX_OPEN_REQUESTS = 64


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
            open_requests = _OpenRequests(MAX_OPEN_REQUESTS)

            async def inbound() -> None:
                """Every message the client sends reaches the server through here."""
                async with to_server, from_client:
                    async for item in from_client:
                        if isinstance(item, SessionMessage) and isinstance(item.message, types.JSONRPCRequest):
                            item = SessionMessage(item.message, await open_requests.opened(item.message.id))
                        await to_server.send(item)
                    with anyio.move_on_after(END_OF_INPUT_GRACE_SECONDS):
                        await open_requests.all_settled()

            async def outbound() -> None:
                async with from_server, to_client:
                    async for item in from_server:
                        await to_client.send(item)
                        if isinstance(item.message, (types.JSONRPCResponse, types.JSONRPCError)):
                            open_requests.settle(item.message.id)

            async def screened_out(to_client: MemoryObjectSendStream[SessionMessage]) -> None:
                """The answers to lines the server never saw."""
                async with replies_out, to_client:
                    async for reply in replies_out:
                        await to_client.send(reply)

            async with anyio.create_task_group() as relays:
                relays.start_soon(inbound)
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


class _OpenRequests:
    """Requests passed to the server and not settled yet, counted per id as the SDK correlates ids
    (``"7"`` is request 7) since a client may reuse one; at most ``limit`` at once."""

    def __init__(self, limit: int) -> None:
        self._counts: Counter[RequestId] = Counter()
        self._slots = anyio.Semaphore(limit)
        self._none_open = anyio.Event()
        self._none_open.set()

    async def opened(self, request_id: RequestId) -> ServerMessageMetadata:
        """Count the request in (waiting for a slot); the metadata lets the server report one it
        settles without an answer."""
        await self._slots.acquire()
        key = coerce_request_id(request_id)
        if self._none_open.is_set():
            self._none_open = anyio.Event()
        self._counts[key] += 1
        return ServerMessageMetadata(on_request_unanswered=partial(self._unanswered, key))

    def settle(self, request_id: RequestId | None) -> None:
        key = None if request_id is None else coerce_request_id(request_id)
        if self._counts[key] > 0:
            self._counts[key] -= 1
            self._slots.release()
            if not +self._counts:
                self._none_open.set()

    async def _unanswered(self, key: RequestId) -> None:  # the client cancelled it: no answer is due
        self.settle(key)

    async def all_settled(self) -> None:
        await self._none_open.wait()
