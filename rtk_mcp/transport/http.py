"""MCP over Streamable HTTP: the ASGI app behind ``rtk-mcp --transport http``.

What it adds to the SDK's ``Server.streamable_http_app``:

- DNS-rebinding protection always on: the SDK's ``TransportSecuritySettings`` with an explicit list
  of accepted ``Host`` headers and browser ``Origin``s (loopback names by default), so a web page on
  another origin cannot drive a server on the user's machine.
- An optional bearer token (``RTK_MCP_HTTP_TOKEN``): every request to ``/mcp`` without
  ``Authorization: Bearer <token>`` gets 401; compared in constant time. The CLI refuses to bind a
  non-loopback address without one (:func:`check_bind`).
- ``GET /healthz`` for orchestrators and load balancers: no token, no Host check, no session; says
  only ``{"status": "ok"}``.
- Stateless mode (no ``Mcp-Session-Id``; each request is served on its own), so several instances
  can sit behind a load balancer without sticky sessions.
- Limits a slow or greedy client cannot get around (see :class:`GuardedH11Protocol` and
  :class:`SessionLimit`): every request must arrive, headers and body, within
  :data:`REQUEST_RECEIVE_TIMEOUT_S` of its first byte; at most :func:`max_connections` connections are
  held, and at the cap the one that has waited longest without a request in progress is closed to make
  room, so a flood of half-open connections cannot starve ``/healthz`` or authenticated clients (the
  bearer check needs complete headers, so it cannot help against that); sessions expire after
  :data:`SESSION_IDLE_TIMEOUT_S` without a request, and at :data:`MAX_SESSIONS` a new session closes
  the longest-idle one instead of being refused.

The server is uvicorn with its pure-Python h11 protocol, chosen because its connection state machine
is simple enough to extend with the receive deadline and connection cap above, which uvicorn does not
have: its ``timeout_keep_alive`` only runs between requests, and ``limit_concurrency`` answers 503 to
everything (``/healthz`` included) while a flood holds the slots.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import resource
import time
from collections.abc import Sequence
from typing import Any

import h11
import uvicorn
from mcp.server.lowlevel import Server
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = [
    "MCP_PATH",
    "HEALTH_PATH",
    "TOKEN_ENV",
    "BindRefused",
    "build_http_app",
    "check_bind",
    "serve_http",
    "uvicorn_config",
    "is_loopback",
    "security_settings",
]

logger = logging.getLogger("rtk_mcp.http_transport")

MCP_PATH = "/mcp"
HEALTH_PATH = "/healthz"
TOKEN_ENV = "RTK_MCP_HTTP_TOKEN"

_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")

#: A request's headers and body must arrive within this many seconds of its first byte (or of the
#: connection opening). MCP requests are a few kilobytes; a client that trickles them holds a socket.
REQUEST_RECEIVE_TIMEOUT_S = 10.0
#: Between requests a connection may sit idle this long (uvicorn's own keep-alive timeout).
KEEP_ALIVE_TIMEOUT_S = 5.0
#: The most connections held at once, unless the file-descriptor limit calls for fewer.
MAX_CONNECTIONS = 512
#: A stateful session with no request in flight for this long is closed; the client initializes a new one.
SESSION_IDLE_TIMEOUT_S = 5 * 60.0
#: The most stateful sessions at once; a new one beyond this closes the longest-idle one.
MAX_SESSIONS = 256


class BindRefused(ValueError):
    """Serving on this address would expose an unauthenticated server to the network."""


def is_loopback(host: str) -> bool:
    """``127.0.0.0/8``, ``::1`` and ``localhost``; everything else (including ``0.0.0.0``) is not."""
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_bind(host: str, token: str | None) -> None:
    """Refuse a non-loopback bind without a token: anyone who can reach the port could call the API."""
    if not is_loopback(host) and not token:
        raise BindRefused(
            f"refusing to serve on {host}, which is reachable from other machines, without a bearer token: "
            f"set {TOKEN_ENV} to a long random secret (clients then send 'Authorization: Bearer <token>'), "
            "or bind to 127.0.0.1"
        )


def _host_entry(host: str) -> str:
    host = host.strip()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # a bare IPv6 address, as it appears in a Host header
    return host


def security_settings(
    bind_host: str = "127.0.0.1",
    *,
    allowed_hosts: Sequence[str] = (),
    allowed_origins: Sequence[str] = (),
) -> TransportSecuritySettings:
    """Accepted ``Host`` headers and ``Origin``s: the loopback names, the bind address, and what is given.

    Entries without a port match any port (``name`` and ``name:*``). ``0.0.0.0``/``::`` are not a
    name anyone sends, so a server bound to all interfaces accepts only loopback names and the
    hosts it is told about (``--allowed-hosts``). A request without ``Origin`` (any non-browser
    client) is not subject to the origin check.
    """
    names = list(_LOOPBACK_HOSTS)
    bind = _host_entry(bind_host)
    if bind.strip("[]") not in {"0.0.0.0", "::"} and bind not in names:
        names.append(bind)
    names.extend(_host_entry(h) for h in allowed_hosts if h.strip())
    hosts: list[str] = []
    origins: list[str] = []
    for name in dict.fromkeys(names):
        if name.endswith("]") or ":" not in name:  # no port given
            hosts += [name, f"{name}:*"]
            origins += [f"http://{name}", f"http://{name}:*", f"https://{name}", f"https://{name}:*"]
        else:
            hosts.append(name)
            origins += [f"http://{name}", f"https://{name}"]
    origins.extend(o.strip().rstrip("/") for o in allowed_origins if o.strip())
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=list(dict.fromkeys(hosts)),
        allowed_origins=list(dict.fromkeys(origins)),
    )


class BearerTokenMiddleware:
    """401 for any HTTP request (other than the health check) without the right bearer token."""

    def __init__(self, app: ASGIApp, token: str, *, exempt: Sequence[str] = (HEALTH_PATH,)) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()
        self._exempt = frozenset(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._exempt:
            await self.app(scope, receive, send)
            return
        supplied = b""
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                supplied = value
                break
        # Constant-time in the token's content; the scheme is compared case-sensitively on purpose
        # (every MCP client sends "Bearer").
        if not hmac.compare_digest(supplied, self._expected):
            logger.warning("rejected an HTTP request without a valid bearer token (%s %s)",
                           scope.get("method"), scope.get("path"))
            body = json.dumps({"error": "unauthorized",
                               "message": "send 'Authorization: Bearer <token>' (the server's RTK_MCP_HTTP_TOKEN)"})
            response = Response(body, status_code=401, media_type="application/json",
                                headers={"WWW-Authenticate": 'Bearer realm="rtk-mcp"'})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


def build_http_app(
    server: Server[Any],
    *,
    token: str | None = None,
    stateless: bool = False,
    host: str = "127.0.0.1",
    allowed_hosts: Sequence[str] = (),
    allowed_origins: Sequence[str] = (),
    json_response: bool = False,
    max_sessions: int = MAX_SESSIONS,
) -> ASGIApp:
    """The ASGI app serving ``server`` at ``/mcp`` (and ``/healthz``); run it with uvicorn.

    Build one app per server: the SDK's session manager it creates can run only once.
    ``host`` is the address the app will be bound to (it is accepted as a ``Host`` header); this
    function does not refuse anything, :func:`check_bind` does.
    """
    app: ASGIApp = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=stateless,
        json_response=json_response,
        transport_security=security_settings(host, allowed_hosts=allowed_hosts, allowed_origins=allowed_origins),
        host=host,
        custom_starlette_routes=[Route(HEALTH_PATH, _healthz, methods=["GET", "HEAD"])],
        session_idle_timeout=SESSION_IDLE_TIMEOUT_S,
        max_sessions=max_sessions,
    )
    if not stateless:
        app = SessionLimit(app, server, max_sessions)
    if token:
        app = BearerTokenMiddleware(app, token)
    return app


def _fd_limit() -> int | None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def max_connections() -> int:
    """:data:`MAX_CONNECTIONS`, or a quarter of the process's file-descriptor limit if that is lower.

    Accepting until the process runs out of descriptors is what turns a flood into an outage (every
    accept, every log file, every upstream connection fails), so the cap leaves room for the rest:
    connections accepted but not yet counted (see :func:`accept_backlog`), ones closed but not yet
    released by the event loop, the upstream client's and the process's own.
    """
    limit = _fd_limit()
    return MAX_CONNECTIONS if limit is None else max(8, min(MAX_CONNECTIONS, limit // 4))


def accept_backlog() -> int:
    """The listen backlog, which asyncio also uses as how many connections it accepts in one go.

    Those are accepted (each a descriptor) before the connection cap sees any of them, and a flood
    keeps the socket readable so a few such bursts can come before the first is counted; with
    uvicorn's default of 2,048 a flood ran the process out of descriptors in one wake-up.
    """
    limit = _fd_limit()
    return 128 if limit is None else max(4, min(128, limit // 8))


class _RateLimitedWarning:
    """One warning per interval with a count, not one line per offending connection."""

    def __init__(self, text: str, interval_s: float = 10.0) -> None:
        self.text, self.interval_s = text, interval_s
        self.count, self.last = 0, -interval_s

    def __call__(self) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.last >= self.interval_s:
            logger.warning("%s (%d since the last report)", self.text, self.count)
            self.count, self.last = 0, now


_warn_slow = _RateLimitedWarning("closed connections that did not send a complete request in time")
_warn_full = _RateLimitedWarning("at the connection cap: closed the longest-waiting idle connections")
_warn_busy = _RateLimitedWarning("at the connection cap with every connection busy: refused new connections")


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for receiving each request and a cap on connections.

    The deadline starts when the connection opens or a new request's first bytes arrive, and ends
    when h11 has the complete request (headers and body); a connection that misses it is closed.
    Between requests uvicorn's keep-alive timeout applies. At the cap, a new connection closes the
    open connection that has waited longest without a request being served (still sending one, or
    idle between requests); if every connection is being served, the new one gets 503 and is closed.
    """

    cap = MAX_CONNECTIONS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._receive_deadline: asyncio.TimerHandle | None = None
        self.waiting_since = time.monotonic()
        if len(self.connections) >= self.cap and not self._make_room():
            _warn_busy()
            transport.write(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            transport.close()
            return
        super().connection_made(transport)
        self._start_receive_deadline()

    def _make_room(self) -> bool:
        waiting = [c for c in self.connections if isinstance(c, GuardedH11Protocol) and c.waiting]
        if not waiting:
            return False
        oldest = min(waiting, key=lambda c: c.waiting_since)
        _warn_full()
        oldest.close()
        return True

    @property
    def waiting(self) -> bool:
        """Whether no request is being served on this connection (it is sending one, or idle)."""
        return self.cycle is None or self.cycle.response_complete

    def close(self) -> None:
        self.connections.discard(self)  # room for the newcomer now, not when the loop gets to it
        self._cancel_receive_deadline()
        if not self.transport.is_closing():
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.DONE or self.transport.is_closing():
            self._cancel_receive_deadline()  # the request is in: how long it takes to serve is not bounded here
        else:
            self._start_receive_deadline()

    def on_response_complete(self) -> None:
        self.waiting_since = time.monotonic()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_receive_deadline()
        if self.transport is not None:  # None: refused in connection_made, never served
            super().connection_lost(exc)

    def _start_receive_deadline(self) -> None:
        if self._receive_deadline is None:
            self._receive_deadline = self.loop.call_later(REQUEST_RECEIVE_TIMEOUT_S, self._too_slow)

    def _cancel_receive_deadline(self) -> None:
        if self._receive_deadline is not None:
            self._receive_deadline.cancel()
            self._receive_deadline = None

    def _too_slow(self) -> None:
        self._receive_deadline = None
        if self.conn.their_state is not h11.DONE:
            _warn_slow()
            self.close()


class SessionLimit:
    """At :data:`MAX_SESSIONS`, a request opening a new session first closes the longest-idle session.

    The SDK refuses new sessions at its limit (503 until one expires), which lets one client lock
    every other out for the whole idle timeout; closing the longest-idle session instead costs its
    owner a re-initialize at worst. Sessions with a request in flight are never closed; if all are
    busy, the SDK's own 503 applies.
    """

    def __init__(self, app: ASGIApp, server: Server[Any], max_sessions: int = MAX_SESSIONS) -> None:
        self.app = app
        self.server = server
        self.max_sessions = max_sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == MCP_PATH and scope["method"] == "POST":
            if not any(name == b"mcp-session-id" for name, _ in scope.get("headers", ())):
                await self._make_room()
        await self.app(scope, receive, send)

    async def _make_room(self) -> None:
        manager = self.server.session_manager
        sessions = manager._server_instances  # the SDK offers no public view of its sessions
        if len(sessions) < self.max_sessions:
            return
        idle = [(transport.idle_scope.deadline, session_id, transport) for session_id, transport in sessions.items()
                if transport.idle_scope is not None and transport.idle_scope.deadline != float("inf")]
        if idle:
            _, session_id, transport = min(idle, key=lambda entry: entry[0])
            logger.info("session limit reached: closing the longest-idle session")
            await manager._discard_session(session_id, transport)


def uvicorn_config(app: ASGIApp, host: str, port: int) -> uvicorn.Config:
    """How rtk-mcp serves HTTP: the guarded h11 protocol, a connection cap within the fd limit, logs to stderr."""
    protocol = type("GuardedH11Protocol", (GuardedH11Protocol,), {"cap": max_connections()})
    # log_config=None: uvicorn logs through our root logger (stderr), not its own stdout handler.
    return uvicorn.Config(app, host=host, port=port, http=protocol, backlog=accept_backlog(),
                          timeout_keep_alive=int(KEEP_ALIVE_TIMEOUT_S),
                          log_config=None, access_log=False, lifespan="on", ws="none", server_header=False)


def serve_http(app: ASGIApp, host: str, port: int) -> None:
    uvicorn.Server(uvicorn_config(app, host, port)).run()
