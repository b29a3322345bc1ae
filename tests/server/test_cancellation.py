"""A call the MCP client abandons (``notifications/cancelled``) stops its HTTP request promptly.

The in-memory ``mcp.Client`` sends ``notifications/cancelled`` when the task awaiting ``call_tool``
is cancelled; the server then cancels the handler, and with it the HTTP request.
"""

from __future__ import annotations

import anyio
import anyio.abc
import httpx2
from mcp import Client

from rtk_mcp.server import build_server
from tests.conftest import FakeAPI, settings, text_of


async def abandon_call(client: Client, started: anyio.Event, stopped: anyio.Event) -> None:
    """Start a call, cancel it once its request is in flight, and require ``stopped`` within 1 s."""
    caller = anyio.CancelScope()

    async def call() -> None:
        with caller:
            await client.call_tool("list_meetings", {})

    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        with anyio.fail_after(5):
            await started.wait()
        caller.cancel()
        with anyio.fail_after(1):  # timed from the cancel itself
            await stopped.wait()


async def test_cancelled_call_closes_its_connection_to_a_loopback_api() -> None:
    started, closed = anyio.Event(), anyio.Event()

    async def hold_open(stream: anyio.abc.SocketStream) -> None:
        # Read the request, never answer, and wait for the client to hang up.
        async with stream:
            await stream.receive()
            started.set()
            try:
                while await stream.receive():
                    pass
            except (anyio.EndOfStream, anyio.BrokenResourceError, ConnectionError):
                pass
            closed.set()

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as server_tasks:
        server_tasks.start_soon(listener.serve, hold_open)
        server = build_server(settings(base_url=f"http://127.0.0.1:{port}/client/v4"))
        async with Client(server) as client:
            await abandon_call(client, started, closed)
        server_tasks.cancel_scope.cancel()


async def test_cancelled_call_cancels_the_transport_and_the_next_call_works() -> None:
    started, stopped = anyio.Event(), anyio.Event()
    fake_api = FakeAPI()

    async def respond(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/meetings"):
            started.set()
            try:
                await anyio.sleep_forever()
            finally:
                stopped.set()  # runs only when the transport's task is cancelled
        return fake_api.handle(request)

    server = build_server(settings(), transport=httpx2.MockTransport(respond))
    async with Client(server) as client:
        await abandon_call(client, started, stopped)
        again = await client.call_tool("list_apps", {})
        assert not again.is_error, text_of(again)
