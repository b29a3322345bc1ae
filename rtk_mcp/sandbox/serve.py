"""The sandbox over HTTP, at the live API's paths, for any RealtimeKit client.

``rtk-mcp sandbox serve`` serves the sandbox's app with uvicorn (the same
hardened setup as rtk-mcp's own HTTP transport) at ``http://HOST:PORT/client/v4``, so the official
``cloudflare`` SDK (``base_url=``), curl, or another MCP server can use the emulator; any token and
account id are accepted. With ``--sandbox-state FILE`` it shares its state with every other sandbox
on that file (``rtk-mcp --sandbox --sandbox-state FILE``, ``rtk_mcp.testing``), faults included.
While it runs it delivers the sandbox's webhooks as sandbox time passes them, and publishes the key
that verifies their signatures at ``/.well-known/webhooks.json``.

It binds loopback by default: the emulator asks for no credentials, so anyone who can reach the
port can use and change its state.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import uvicorn
from starlette.types import ASGIApp

from rtk_mcp.transport.http import is_loopback, uvicorn_config

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "base_url", "describe", "listen", "serve"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on *host*:*port* (port 0: a free one, which ``getsockname()`` then tells)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen()
    except OSError:
        sock.close()
        raise
    return sock


def base_url(sock: socket.socket) -> str:
    """The API base URL a client is given, e.g. ``http://127.0.0.1:8787/client/v4``."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/client/v4"


async def serve(sock: socket.socket, app: ASGIApp, *alongside: Callable[[], Awaitable[None]]) -> None:
    """Serve *app* (a sandbox app) on the listening *sock* until interrupted, running each of *alongside*
    (the webhook delivery loop) for as long as the server does."""
    host, port = sock.getsockname()[:2]
    server = uvicorn.Server(uvicorn_config(app, host, port))
    async with anyio.create_task_group() as background:
        for work in alongside:
            background.start_soon(work)
        await server.serve(sockets=[sock])
        background.cancel_scope.cancel()


def describe(sock: socket.socket, state_path: str | Path | None) -> str:
    """The startup line: where the API is, what state it uses, and what to know about it."""
    from .seed import SANDBOX_APP_ID

    host = sock.getsockname()[0]
    state = f"state in {state_path}, shared" if state_path else "state in memory (pass --sandbox-state FILE to share it)"
    exposed = "" if is_loopback(host) else "; it asks for no credentials, and this address is reachable from other machines"
    return (f"rtk-mcp sandbox: serving the RealtimeKit API emulator at {base_url(sock)} ({state}); any API token and "
            f"account id work, the seeded app is {SANDBOX_APP_ID}{exposed}. Stop with Ctrl-C.")
