"""MCP over stdio: the SDK's transport, plus the three things it does not guarantee.

- **Every line gets exactly one answer.** The SDK parses each line once; one it cannot read reaches
  the server as an exception, which the server drops silently, leaving the client waiting forever
  (modelcontextprotocol/python-sdk#2751, open). Only then is the line looked at again, to answer it
  with the JSON-RPC error it deserves (a client's responses and notifications are never answered);
  serving goes on.
- **Memory stays bounded.** At most :data:`MAX_OPEN_REQUESTS` requests are with the server at once.
  While that many are open, reading pauses, so a client piping calls faster than they are answered
  blocks on its writes instead of the process holding them all.
- **Requests piped before input ends are answered.** At the end of input the SDK's server cancels
  the requests still running, so ``printf '...' | rtk-mcp`` would lose its last answers. Here the end
  is held back until every request read is answered or a grace (10 s by default) has run out, counted
  from the moment the client closes its end of stdin, which Linux reports even while reading is
  paused; then what is left is answered as closed, as the SDK answers the requests it stops.

Stdout is the SDK's: fd 1 points at stderr while serving, so stray output cannot corrupt the wire.
Stdin is read here, by a daemon thread: the SDK's reader blocks in a worker thread that cannot be
left behind, so Ctrl-C waited for the client's next line. Reading in place, fd 0 is not pointed at
the null device as the SDK's reader does (its helpers for that are private); this server starts no
child process that could read it.
"""

from __future__ import annotations

import json
import logging
import math
import re
import select
import threading
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from functools import partial
from typing import Any

import anyio
import mcp_types as types
from anyio import from_thread
from anyio.abc import TaskGroup
from mcp.server.stdio import stdio_server
from mcp.shared.jsonrpc_dispatcher import cancelled_request_id_from_params
from mcp.shared.message import ServerMessageMetadata, SessionMessage
from pydantic import ValidationError

__all__ = ["END_OF_INPUT_GRACE", "MAX_OPEN_REQUESTS", "stdio_transport"]

logger = logging.getLogger("rtk_mcp")

#: Seconds the requests read before the client closed stdin may still take to be answered.
END_OF_INPUT_GRACE = 10.0
#: Requests with the server at once: far above what the API's rate limits let through, and low
#: enough that a flood of piped calls holds little memory.
MAX_OPEN_REQUESTS = 64
#: After JSON decoding, surrogates can only be lone ones (pairs decode to one character).
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
#: Longer integers Python refuses to convert (and converting them would take quadratic time).
_MAX_INT_DIGITS = 4300


@asynccontextmanager
async def stdio_transport(grace: float = END_OF_INPUT_GRACE) -> AsyncIterator[tuple[Any, Any]]:
    """``(read_stream, write_stream)`` for ``Server.run``, over the process's stdin and stdout.

    A client that stops reading ends serving quietly: nobody is left to answer.
    """
    to_sdk, lines = anyio.create_memory_object_stream[str](0)
    try:
        async with (stdio_server(stdin=lines) as (from_client, to_client),  # type: ignore[arg-type]
                    anyio.create_task_group() as tasks):
            gate = _Gate(from_client, to_client.clone(), tasks, grace)
            token = anyio.lowlevel.current_token()
            threading.Thread(target=_read_stdin, args=(gate, to_sdk, token), daemon=True).start()
            threading.Thread(target=_watch_hangup, args=(gate, token), daemon=True).start()
            try:
                yield gate, _Settling(to_client, gate)
            finally:
                tasks.cancel_scope.cancel()  # the grace, if it is still running
                gate.replies.close()
    except* BrokenPipeError:
        logger.info("the client closed its end of stdout; serving stopped")


def _read_stdin(gate: _Gate, to_sdk: Any, token: Any) -> None:
    """Hand stdin to the SDK line by line, each as soon as it takes one (so reading pauses with it)."""
    # A reader of fd 0 of its own: one blocked in sys.stdin's would hold its lock at the exit, which
    # Python's finalisation then waits for in vain. As the SDK's: UTF-8, universal newlines.
    text = open(0, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115 (never closed: fd 0 stays)
    with suppress(BaseException):  # serving has ended, or is being cancelled: nobody is left to take lines
        with suppress(OSError):  # a terminal that went away ends input as the end of a pipe does
            while line := text.readline():
                from_thread.run(gate.deliver, to_sdk, line, token=token)
        from_thread.run_sync(to_sdk.close, token=token)


def _watch_hangup(gate: _Gate, token: Any) -> None:
    """Start the grace once the client closes its end of stdin, however much is left unread. Polling
    for no event but POLLRDHUP reports only that (and, always, POLLHUP and errors); elsewhere than
    Linux, the grace starts when reading reaches the end."""
    if not hasattr(select, "POLLRDHUP"):
        return
    poller = select.poll()
    poller.register(0, select.POLLRDHUP)
    poller.poll()
    with suppress(BaseException):  # serving has ended
        from_thread.run_sync(gate.start_grace, token=token)


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


class _Gate(_Wrapper):
    """The server's read stream: the SDK's messages, lines it could not read answered, and requests
    let through only while fewer than :data:`MAX_OPEN_REQUESTS` are open."""

    def __init__(self, inner: Any, replies: Any, tasks: TaskGroup, grace: float) -> None:
        self._inner, self.replies, self._tasks, self._grace = inner, replies, tasks, grace
        self._lines: deque[str] = deque()  # handed to the SDK, their message not yet received
        #: Open requests by exact id: ``"7"`` and ``7`` are two ids in JSON-RPC.
        self._open: Counter[tuple[type, Any]] = Counter()
        self._changed = anyio.Event()
        self._grace_started = self._grace_over = False

    async def deliver(self, to_sdk: Any, line: str) -> None:
        self._lines.append(line)
        await to_sdk.send(line)

    def __aiter__(self) -> _Gate:
        return self

    async def __anext__(self) -> SessionMessage:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def receive(self) -> SessionMessage:
        while True:
            try:
                item = await self._inner.receive()
            except anyio.EndOfStream:
                self.start_grace()
                await self._until(lambda: not self._open)
                raise
            line = self._lines.popleft()
            if isinstance(item, Exception):
                item = await self._unread(line, item)
            elif not isinstance(item.message, types.JSONRPCRequest):
                item = await self._misread(line, item)
            if item is None:
                continue
            message = item.message
            if isinstance(message, types.JSONRPCRequest):
                if not await self._until(lambda: self._open.total() < MAX_OPEN_REQUESTS):
                    await self._refuse(message.id, types.CONNECTION_CLOSED, "Connection closed")
                    continue
                self._open[_exact(message.id)] += 1
                # The SDK calls on_request_unanswered for a request it settles without an answer.
                return SessionMessage(message, ServerMessageMetadata(
                    on_request_unanswered=partial(self._settled, message.id)))
            if isinstance(message, types.JSONRPCNotification) and message.method == "notifications/cancelled":
                cancelled = cancelled_request_id_from_params(message.params)
                if cancelled is not None and _exact(cancelled) not in self._open:
                    continue  # the SDK would take it for the request whose id reads the same ("7" for 7)
            return item

    async def _unread(self, line: str, failure: Exception) -> SessionMessage | None:
        """A line the SDK could not read: the message itself if only lone surrogates (what JavaScript
        leaves when it cuts an emoji in half) stopped it, repaired; otherwise ``None``, once the error
        it deserves is sent (a blank line or a client's response is never answered)."""
        if not line.strip():
            return None
        try:
            message = json.loads(line, parse_int=_integer)
        except RecursionError:
            return await self._refuse(None, types.INVALID_REQUEST, "Invalid Request: nested too deeply to be read")
        except ValueError:
            return await self._refuse(None, types.PARSE_ERROR, "Parse error: the line is not valid JSON")
        if isinstance(message, dict) and "method" not in message and ("result" in message or "error" in message):
            logger.info("dropped a response from the client that is not valid JSON-RPC")
            return None
        with suppress(ValueError, RecursionError):
            text = json.dumps(message, ensure_ascii=False)
            if _LONE_SURROGATE.search(text):
                repaired = types.jsonrpc_message_adapter.validate_json(_LONE_SURROGATE.sub("\ufffd", text))
                return await self._misread(line, SessionMessage(repaired))
        return await self._refuse(_readable_id(message), types.INVALID_REQUEST, f"Invalid Request: {_reason(failure, message)}")

    async def _misread(self, line: str, item: SessionMessage) -> SessionMessage | None:
        """A message the SDK read as a notification or response although it has a method and an id:
        a request with an id of the wrong type, or carrying a result or error (answered as invalid)."""
        if isinstance(item.message, types.JSONRPCRequest):
            return item
        with suppress(ValueError, RecursionError):
            message = json.loads(line, parse_int=_integer)
            if isinstance(message, dict) and {"method", "id"} <= message.keys():
                return await self._refuse(_readable_id(message), types.INVALID_REQUEST,
                                          "Invalid Request: a request has a string or integer id, and no result or error")
        return item

    async def _refuse(self, request_id: Any, code: int, text: str) -> None:
        error = types.ErrorData(code=code, message=text)
        await self.replies.send(SessionMessage(types.JSONRPCError(jsonrpc="2.0", id=request_id, error=error)))

    async def _until(self, condition: Callable[[], bool]) -> bool:
        """Wait until ``condition`` holds or the grace is over; whether it held in time."""
        while not (self._grace_over or condition()):
            await self._changed.wait()
        return not self._grace_over

    def settle(self, request_id: Any) -> None:
        """A request was answered (or settled without an answer): its place frees up."""
        key = _exact(request_id)
        if self._open[key]:
            self._open[key] -= 1
            if not self._open[key]:
                del self._open[key]
            self._signal()

    async def _settled(self, request_id: Any) -> None:
        self.settle(request_id)

    def start_grace(self) -> None:
        if not self._grace_started:
            self._grace_started = True
            self._tasks.start_soon(self._run_grace)

    async def _run_grace(self) -> None:
        await anyio.sleep(self._grace)
        if self._open:
            logger.info("input ended; stopping with requests still unanswered after the grace period")
        self._grace_over = True
        self._signal()

    def _signal(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()


class _Settling(_Wrapper):
    """The server's write stream: the SDK's, noting each answer so its request's place frees up."""

    def __init__(self, inner: Any, gate: _Gate) -> None:
        self._inner, self._gate = inner, gate

    async def send(self, item: SessionMessage) -> None:
        await self._inner.send(item)
        if isinstance(item.message, (types.JSONRPCResponse, types.JSONRPCError)) and item.message.id is not None:
            self._gate.settle(item.message.id)


def _exact(request_id: Any) -> tuple[type, Any]:
    return type(request_id), request_id


def _integer(digits: str) -> int | float:
    return int(digits) if len(digits) <= _MAX_INT_DIGITS else math.inf


def _readable_id(message: Any) -> str | int | None:
    request_id = message.get("id") if isinstance(message, dict) else None
    if isinstance(request_id, str):
        return _LONE_SURROGATE.sub("\ufffd", request_id)
    return request_id if isinstance(request_id, int) and not isinstance(request_id, bool) else None


def _reason(failure: Exception, message: Any) -> str:
    """Why the SDK refused ``message``, from its own error: for a request, or else a notification."""
    errors = failure.errors() if isinstance(failure, ValidationError) else []
    if not errors:
        return str(failure)
    member = "JSONRPCRequest" if isinstance(message, dict) and "id" in message else "JSONRPCNotification"
    error = next((e for e in errors if e["loc"][:1] == (member,)), errors[0])
    if error["type"] == "json_invalid":  # valid JSON all the same: beyond what the SDK's parser reads
        return f"the server cannot read it ({error['msg'].removeprefix('Invalid JSON: ')})"
    where = ".".join(map(str, error["loc"][1:]))
    return f"{where}: {error['msg']}" if where else error["msg"]
