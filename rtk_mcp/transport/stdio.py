"""MCP over stdio: the SDK's transport, with every line answered and a bound on work in flight.

The SDK's ``stdio_server`` owns the reading and writing: it serves from private duplicates of fd 0
and fd 1 and points fd 1 at stderr meanwhile, so stray output cannot corrupt the JSON-RPC stream.
Three things it does not do are added as thin wrappers around its streams, with no task or queue of
their own on the way of a message (every hop between tasks costs each call its share of a loop turn):

- **Every line is answered.** The SDK drops a line it cannot parse, and the client waits forever.
  Each raw line is screened first (:mod:`rtk_mcp.transport.wire`), inside the SDK's own reading; a line the
  server cannot take is answered with the JSON-RPC error the specification names, and serving goes on.
- **Bounded work.** A client may pipe calls faster than the API answers them. At most
  :data:`MAX_OPEN_REQUESTS` requests are with the server at once, one per id (a request reusing an
  open id waits for its answer, as an id names one request at a time, without holding up others; a
  script that reuses one id for every call has them served one after another). Requests read while
  there is no room wait in arrival order, up to as many again and :data:`MAX_WAITING_CHARS` of lines;
  only then does reading pause, so the client's writes block instead of the process's memory growing
  (a line, and a message, are bounded too: :mod:`rtk_mcp.transport.wire`). Until then reading goes on, so a
  ``notifications/cancelled`` reaches the server at once (one naming a request still waiting removes
  it: no answer is due), and a ``ping`` is answered at once: it needs nothing but the server, so it
  passes the line, within an allowance of its own.
- **Answers for what was read before input ends.** At the end of input the SDK cancels the requests
  still running, so ``printf '...' | rtk-mcp`` loses its last answers. Here the end is held back
  until each request read is answered, cancelled by the client, or a grace period has run out (a
  hung call must not keep the process alive); then what still waits is answered as closed, as the
  SDK answers the requests it stops. While the line is full nothing is read, so the end of input is
  seen, and the grace starts, once it moves; each call is bounded by the API timeout meanwhile.

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
from typing import Any, BinaryIO, NamedTuple

import anyio
import mcp_types as types
from anyio.abc import TaskGroup
from mcp.server.stdio import stdio_server
from mcp.shared.dispatcher import coerce_request_id
from mcp.shared.jsonrpc_dispatcher import cancelled_request_id_from_params
from mcp.shared.message import ServerMessageMetadata, SessionMessage
from mcp_types import RequestId

from rtk_mcp.transport.wire import MAX_LINE_CHARS, overlong_line, screen

__all__ = ["stdio_transport", "MAX_OPEN_REQUESTS"]

logger = logging.getLogger("rtk_mcp")

#: How long requests read before the end of input may still run; then serving stops, and those
#: left are answered as closed.
END_OF_INPUT_GRACE_SECONDS = 10.0
#: Requests with the server at once (and, separately, pings). Far above what the API's rate limits
#: let through, and low enough that a flood of piped calls holds little memory while it waits.
MAX_OPEN_REQUESTS = 64
#: Characters of the lines waiting for room (and read ahead) at most: a message parsed waits whole,
#: so besides their number their size is bounded, and reading pauses at whichever comes first.
MAX_WAITING_CHARS = 4 << 20


@asynccontextmanager
async def stdio_transport() -> AsyncIterator[tuple[Any, Any]]:
    """``(read_stream, write_stream)`` for ``Server.run``, over the process's stdin and stdout.

    A client that stops reading ends serving quietly: nobody is left to answer.
    """
    stdin, restore_stdin = _claim_stdin()
    try:
        lines = _ScreenedLines(_UnownedText(stdin, encoding="utf-8", errors="replace"))
        async with stdio_server(stdin=lines) as (from_client, to_client):  # type: ignore[arg-type]
            # Our own answers go through clones of the SDK's writer, which ends once every one is closed.
            screening_replies, closing_replies = to_client.clone(), to_client.clone()
            lines.answer_through(screening_replies)  # before the SDK's reader first runs
            async with anyio.create_task_group() as tasks:
                admission = _Admission(from_client, MAX_OPEN_REQUESTS, tasks, closing_replies, lines.chars)
                try:
                    yield admission, _Settling(to_client, admission)
                finally:
                    tasks.cancel_scope.cancel()  # a read-ahead still waiting for a line
                    screening_replies.close()
                    closing_replies.close()
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
    """The client's lines as the SDK reads them, minus those it cannot take, which are answered.

    A line is read at most :data:`~rtk_mcp.transport.wire.MAX_LINE_CHARS` at a time: a longer one is read on and
    dropped piece by piece, never held whole, and answered as an invalid request.
    """

    def __init__(self, source: TextIOWrapper) -> None:
        self._source = source
        self._replies: Any = None
        self.chars: deque[int] = deque()  # of each line passed on, for the SDK's message made of it

    def answer_through(self, replies: Any) -> None:
        self._replies = replies

    def __aiter__(self) -> AsyncIterator[str]:
        return self._lines()

    async def _read(self) -> str:
        return await anyio.to_thread.run_sync(self._source.readline, MAX_LINE_CHARS + 1)

    async def _lines(self) -> AsyncIterator[str]:
        async with self._replies:
            while line := await self._read():
                if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
                    while (rest := await self._read()) and not rest.endswith("\n"):
                        pass
                    screened = overlong_line()
                else:
                    screened = screen(line)
                if screened.reply is not None:
                    await self._replies.send(SessionMessage(types.JSONRPCError.model_validate(screened.reply)))
                elif screened.line is not None:
                    self.chars.append(len(screened.line))
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


class _Received(NamedTuple):
    """A message as the SDK parsed it, with the context it was sent in and its line's length."""

    context: contextvars.Context | None
    item: SessionMessage | Exception
    chars: int


class _Wrapper:
    """Closing passed on to the SDK's stream underneath."""

    _inner: Any

    def close(self) -> None:
        self._inner.close()

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class _Admission(_Wrapper):
    """The server's read stream: the client's messages as the SDK parsed them, with requests admitted
    at most ``limit`` at a time (pings separately), the rest waiting as described above."""

    def __init__(self, inner: Any, limit: int, tasks: TaskGroup, replies: Any, line_chars: deque[int]) -> None:
        self._inner = inner
        self._line_chars = line_chars  # the length of each line the SDK parsed, in order
        self._limit = limit
        self._tasks = tasks
        self._replies = replies  # for the requests still waiting when the grace runs out
        #: Open requests by id, as the SDK correlates ids (``"7"`` is request 7), each marked ``True``
        #: for a ping. A request reusing an open id waits until that one is answered, so an answer
        #: always frees the allowance of the request it answers.
        self._open: dict[RequestId, bool] = {}
        self._open_count = {False: 0, True: 0}
        self._waiting: deque[_Received] = deque()  # requests without room yet, in arrival order
        self._read_ahead: deque[_Received] = deque()  # what reading on while requests wait brought in
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

    async def receive(self) -> SessionMessage | Exception:
        while True:
            if self._waiting and (first := self._first_with_room()) is not None:
                entry = self._waiting[first]
                del self._waiting[first]
                return self._admit(entry)
            if self._read_ahead:
                entry = self._read_ahead.popleft()
                if _is_request(entry.item) and not self._has_room(entry.item):  # a ping whose room went meanwhile
                    self._waiting.append(entry)
                    continue
            elif self._ended:
                if self._grace_over:
                    await self._close_waiting()
                if not self._waiting and (self._grace_over or not self._open):
                    raise anyio.EndOfStream
                await self._changed.wait()
                continue
            elif self._reading_ahead or self._waiting:
                if not self._reading_ahead and self._may_read_ahead():
                    self._reading_ahead = True
                    self._tasks.start_soon(self._read_ahead_while_waiting)
                await self._changed.wait()
                continue
            else:
                entry = await self._read_and_file()
            if entry is not None:
                if _is_request(entry.item):
                    return self._admit(entry)
                self.last_context = entry.context
                return entry.item

    def settle(self, request_id: RequestId | None) -> None:
        """A request was answered (or settled without an answer): its allowance frees up."""
        ping = self._open.pop(coerce_request_id(request_id), None) if request_id is not None else None
        if ping is not None:
            self._open_count[ping] -= 1
            self._signal()

    async def _read_and_file(self) -> _Received | None:
        """The client's next message, filed (see :meth:`_file`); ``None`` at the end of input too."""
        try:
            item = await self._inner.receive()
        except anyio.EndOfStream:
            self._end_of_input()
            return None
        chars = self._line_chars.popleft() if self._line_chars else 0
        return self._file(_Received(getattr(self._inner, "last_context", None), item, chars))

    def _file(self, entry: _Received) -> _Received | None:
        """A message just read, if the server is to have it now; ``None`` once it has joined the waiting
        line (a request without room; a ping, needing only the server, may pass the line) or has
        withdrawn a request from it (a cancellation: no answer is due)."""
        item = entry.item
        if _is_request(item):
            if (_is_ping(item) or not self._waiting) and self._has_room(item):  # type: ignore[arg-type]
                return entry
            self._waiting.append(entry)
            return None
        if isinstance(item, SessionMessage) and isinstance(item.message, types.JSONRPCNotification):
            if self._withdraws_waiting(item.message):
                return None
        return entry

    def _first_with_room(self) -> int | None:
        """Where in the line the first request that can go now is: requests reusing the id of an open
        one wait for its answer, without holding up the others."""
        if min(self._open_count.values()) >= self._limit:  # the usual state of a full line: no need to look
            return None
        return next((at for at, entry in enumerate(self._waiting) if self._has_room(entry.item)), None)

    def _has_room(self, item: SessionMessage | Exception) -> bool:
        request = item.message  # type: ignore[union-attr]
        return coerce_request_id(request.id) not in self._open and self._open_count[_is_ping(item)] < self._limit

    def _admit(self, entry: _Received) -> SessionMessage:
        context, item, _ = entry
        request = item.message  # type: ignore[union-attr]
        key, ping = coerce_request_id(request.id), _is_ping(item)
        self._open[key] = ping
        self._open_count[ping] += 1
        self.last_context = context
        # The SDK calls on_request_unanswered for a request it settles without an answer (cancelled).
        return SessionMessage(request, ServerMessageMetadata(on_request_unanswered=partial(self._unanswered, key)))

    async def _unanswered(self, key: RequestId) -> None:
        self.settle(key)

    def _withdraws_waiting(self, note: types.JSONRPCNotification) -> bool:
        cancelled = cancelled_request_id_from_params(note.params) if note.method == "notifications/cancelled" else None
        if cancelled is None:
            return False
        key = coerce_request_id(cancelled)
        for entry in self._waiting:
            if coerce_request_id(entry.item.message.id) == key:  # type: ignore[union-attr]
                self._waiting.remove(entry)
                return True
        return False

    def _may_read_ahead(self) -> bool:
        """Whether to read on while requests wait: until one of them can go, or the line is full."""
        return (bool(self._waiting) and self._first_with_room() is None
                and len(self._waiting) < self._limit and len(self._read_ahead) < self._limit
                and sum(entry.chars for entry in (*self._waiting, *self._read_ahead)) < MAX_WAITING_CHARS)

    async def _read_ahead_while_waiting(self) -> None:
        """Read the client's next messages while no request in line can go, so cancellations and pings
        get through; stops once one can, or the line is full (reading pauses)."""
        try:
            while self._may_read_ahead():
                entry = await self._read_and_file()
                if self._ended:
                    return
                if entry is not None:
                    self._read_ahead.append(entry)
                self._signal()
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
        self._grace_over = True
        self._signal()

    async def _close_waiting(self) -> None:
        """Answer what still waits after the grace as the SDK answers the requests it stops."""
        waiting, self._waiting = self._waiting, deque()
        closed = types.ErrorData(code=types.CONNECTION_CLOSED, message="Connection closed")
        with anyio.move_on_after(1):  # a client that no longer reads must not hold the exit
            for _, item, _ in waiting:
                await self._replies.send(SessionMessage(types.JSONRPCError(
                    jsonrpc="2.0", id=item.message.id, error=closed)))  # type: ignore[union-attr]

    def _signal(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()


def _is_request(item: SessionMessage | Exception) -> bool:
    return isinstance(item, SessionMessage) and isinstance(item.message, types.JSONRPCRequest)


def _is_ping(item: SessionMessage | Exception) -> bool:
    return _is_request(item) and item.message.method == "ping"  # type: ignore[union-attr]


class _Settling(_Wrapper):
    """The server's write stream: the SDK's, noting each answer so its request's allowance frees up."""

    def __init__(self, inner: Any, admission: _Admission) -> None:
        self._inner = inner
        self._admission = admission

    async def send(self, item: SessionMessage) -> None:
        await self._inner.send(item)
        if isinstance(item.message, (types.JSONRPCResponse, types.JSONRPCError)):
            self._admission.settle(item.message.id)
