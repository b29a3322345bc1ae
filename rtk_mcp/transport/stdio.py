"""MCP over stdio: the SDK's transport, plus three things it does not guarantee.

- **Every line gets the answer it deserves.** The SDK parses each line once; a line it cannot read
  reaches the server as an exception, which the server drops, and the client waits forever
  (modelcontextprotocol/python-sdk#2751, open). Only such a line, or a message the SDK did not read
  as a request, is looked at again (:meth:`_Gate.screen`), and answered with its JSON-RPC error.
- **Memory stays bounded.** At most :data:`MAX_OPEN_REQUESTS` requests are with the server; while
  that many are open, reading pauses, so a client piping calls faster than they are answered blocks.
- **Requests piped before input ends are answered** (``printf '...' | rtk-mcp``): the end of input is
  held back until every request read is answered or a grace, counted from the client closing stdin
  (Linux reports it even while reading is paused), has run out; what is left is answered as closed.

Stdout is the SDK's (fd 1 points at stderr while serving). Stdin is read by a daemon thread, since the
SDK's reader blocks in a worker thread that Ctrl-C had to wait for; so fd 0 is not pointed at the null
device as the SDK's reader does (its helpers for that are private): this server starts no child process.
"""

from __future__ import annotations

import asyncio
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
    """``(read_stream, write_stream)`` for ``Server.run``; a client that stops reading ends serving quietly."""
    to_sdk, lines = anyio.create_memory_object_stream[str](0)
    try:
        async with stdio_server(stdin=lines) as (from_client, to_client):  # type: ignore[arg-type]
            gate = _Gate(from_client, to_client.clone(), grace)
            token = anyio.lowlevel.current_token()
            threading.Thread(target=_read_stdin, args=(gate, to_sdk, token), daemon=True).start()
            threading.Thread(target=_watch_hangup, args=(gate, token), daemon=True).start()
            try:
                yield gate, _Settling(to_client, gate)
            finally:  # a line still being handed over (Ctrl-C while full) fails at once, not at the loop's end
                gate.replies.close(), lines.close()
    except* BrokenPipeError:
        logger.info("the client closed its end of stdout; serving stopped")
    except* anyio.BrokenResourceError:  # the SDK's reader, mid-hand-over when serving was cancelled
        if not asyncio.current_task().cancelling():  # type: ignore[union-attr]
            raise
        raise asyncio.CancelledError from None  # the stop wins: Ctrl-C is reported as itself


def _read_stdin(gate: _Gate, to_sdk: Any, token: Any) -> None:
    """Hand stdin to the SDK line by line, each once it takes the one before (so reading pauses with it)."""
    # Its own reader of fd 0 (UTF-8, universal newlines): one blocked in sys.stdin's holds a lock the exit waits for.
    text = open(0, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115 (never closed: fd 0 stays)
    with suppress(BaseException):  # serving has ended, or is being cancelled: nobody is left to take lines
        with suppress(OSError):  # a terminal that went away ends input as the end of a pipe does
            while line := text.readline():
                from_thread.run(gate.deliver, to_sdk, line, token=token)
        from_thread.run_sync(to_sdk.close, token=token)


def _watch_hangup(gate: _Gate, token: Any) -> None:
    """Start the grace once the client closes its end of stdin, lines left unread or not: polled for
    POLLRDHUP alone, Linux reports just that (and hang-ups). Elsewhere the grace starts when reading ends."""
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

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class _Gate(_Wrapper):
    """The server's read stream: the SDK's messages, lines it could not read answered, and requests
    let through only while fewer than :data:`MAX_OPEN_REQUESTS` are open."""

    def __init__(self, inner: Any, replies: Any, grace: float) -> None:
        self._inner, self.replies, self._grace = inner, replies, grace
        self._lines: deque[str] = deque()  # handed to the SDK, their message not yet received
        self._open: Counter[tuple[type, Any]] = Counter()  # by exact id: "7" and 7 are two ids in JSON-RPC
        self._changed = anyio.Event()
        self._deadline = math.inf  # when the grace is over

    async def deliver(self, to_sdk: Any, line: str) -> None:
        self._lines.append(line)
        await to_sdk.send(line)

    def __aiter__(self) -> _Gate:
        return self

    async def __anext__(self) -> SessionMessage:
        while True:
            try:
                item = await self._inner.receive()
            except anyio.EndOfStream:
                self.start_grace()
                if not await self._until(lambda: not self._open):
                    logger.info("input ended; stopping with requests still unanswered after the grace period")
                raise StopAsyncIteration from None
            line = self._lines.popleft()
            if isinstance(item, Exception) or not isinstance(item.message, types.JSONRPCRequest):
                item = await self.screen(line, item)  # the hot path, a request read, skips this
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
                    on_request_unanswered=partial(self.settle, message.id)))
            if isinstance(message, types.JSONRPCNotification) and message.method == "notifications/cancelled":
                cancelled = cancelled_request_id_from_params(message.params)
                if cancelled is not None and _exact(cancelled) not in self._open:
                    continue  # the SDK would take it for the request whose id reads the same ("7" for 7)
            return item

    async def screen(self, line: str, item: SessionMessage | Exception) -> SessionMessage | None:
        """``item`` as the server should have it, or ``None`` once the error it deserves is sent. A
        notification or response with a method and an id is a misread request (an id of the wrong type;
        a result or error besides); lone surrogates (JavaScript cutting an emoji in half) are repaired."""
        try:
            message = json.loads(line, parse_int=_integer)
        except RecursionError:
            return await self._refuse(None, types.INVALID_REQUEST, "Invalid Request: nested too deeply to be read")
        except ValueError:
            return await self._refuse(None, types.PARSE_ERROR, "Parse error: the line is not valid JSON") \
                if line.strip() else None
        members = message.keys() if isinstance(message, dict) else set()
        if isinstance(item, SessionMessage):
            if {"method", "id"} <= members:
                return await self._refuse(_readable_id(message), types.INVALID_REQUEST,
                                          "Invalid Request: a request has a string or integer id and no result or error")
            return item
        if "method" not in members and members & {"result", "error"}:
            logger.info("dropped a response from the client that is not valid JSON-RPC")
            return None
        with suppress(ValueError, RecursionError):
            text = json.dumps(message, ensure_ascii=False)
            if _LONE_SURROGATE.search(text):
                repaired = SessionMessage(types.jsonrpc_message_adapter.validate_json(_LONE_SURROGATE.sub("\ufffd", text)))
                return repaired if isinstance(repaired.message, types.JSONRPCRequest) else await self.screen(line, repaired)
        return await self._refuse(_readable_id(message), types.INVALID_REQUEST, f"Invalid Request: {_reason(item, message)}")

    async def _refuse(self, request_id: Any, code: int, text: str) -> None:
        error = types.ErrorData(code=code, message=text)
        await self.replies.send(SessionMessage(types.JSONRPCError(jsonrpc="2.0", id=request_id, error=error)))

    def start_grace(self) -> None:
        self._deadline = min(self._deadline, anyio.current_time() + self._grace)
        self._signal()

    async def _until(self, condition: Callable[[], bool]) -> bool:
        """Wait until ``condition`` holds or the grace is over; whether it held in time."""
        while not condition() and anyio.current_time() < self._deadline:
            with anyio.move_on_after(self._deadline - anyio.current_time()):
                await self._changed.wait()
        return anyio.current_time() < self._deadline

    async def settle(self, request_id: Any) -> None:
        """A request was answered (or settled without an answer): its place frees up."""
        self._open -= Counter((_exact(request_id),))  # ids with no request open drop out
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
            await self._gate.settle(item.message.id)


def _exact(request_id: Any) -> tuple[type, Any]:
    return type(request_id), request_id


def _integer(digits: str) -> int | float:
    return int(digits) if len(digits) <= _MAX_INT_DIGITS else math.inf


def _readable_id(message: Any) -> str | int | None:
    request_id = message.get("id") if isinstance(message, dict) else None
    if isinstance(request_id, str):
        return _LONE_SURROGATE.sub("\ufffd", request_id)
    return request_id if isinstance(request_id, int) and not isinstance(request_id, bool) else None


def _reason(failure: Any, message: Any) -> str:
    """Why the SDK refused ``message``, in its own words: as a request if it has an id, else as a notification."""
    member = "JSONRPCRequest" if isinstance(message, dict) and "id" in message else "JSONRPCNotification"
    errors = failure.errors() if isinstance(failure, ValidationError) else [{"type": "", "loc": (), "msg": str(failure)}]
    error = next((e for e in errors if e["loc"][:1] == (member,)), errors[0])
    if error["type"] == "json_invalid":  # valid JSON all the same: beyond what the SDK's parser reads
        return f"the server cannot read it ({error['msg'].removeprefix('Invalid JSON: ')})"
    where = ".".join(map(str, error["loc"][1:]))
    return f"{where}: {error['msg']}" if where else error["msg"]
