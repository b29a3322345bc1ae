"""MCP over Streamable HTTP: the ASGI app behind ``rtk-mcp --transport http``.

On top of the SDK's ``Server.streamable_http_app``: DNS-rebinding protection always on (:func:`security_settings`);
an optional bearer token (``RTK_MCP_HTTP_TOKEN``), without which :func:`check_bind` refuses a non-loopback address;
``GET /healthz`` for orchestrators and load balancers (no token, no Host check, no session; says only
``{"status": "ok"}``); a stateless mode, so instances behind a load balancer need no sticky sessions; and, as the
stdio transport has, bounds on what clients can make the process hold (:class:`McpGate`, :class:`SessionLimit`).

Slow clients (trickled headers or bodies, answers never read, connections held open) are the reverse proxy's to
handle: the README requires one in front of any server that leaves the machine (for TLS), and ``deploy/nginx.conf``
is one that does it. Here uvicorn runs with its public settings only.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import uvicorn
from mcp.server.lowlevel import Server
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HEALTH_PATH", "MAX_CALLS", "MAX_REQUEST_BYTES", "MAX_SESSIONS", "MCP_PATH", "SESSION_IDLE_TIMEOUT_S",
           "TOKEN_ENV", "BindRefused", "McpGate", "SessionLimit", "build_http_app", "check_bind", "is_loopback",
           "security_settings", "serve_http", "uvicorn_config"]

logger = logging.getLogger("rtk_mcp.http_transport")

MCP_PATH = "/mcp"
HEALTH_PATH = "/healthz"
TOKEN_ENV = "RTK_MCP_HTTP_TOKEN"

_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")

#: Between requests a connection may sit idle this long (uvicorn's keep-alive timeout).
KEEP_ALIVE_TIMEOUT_S = 5
#: The most requests to ``/mcp`` served at once; more wait, their bodies unread. Each parsed body can cost many
#: times its size in memory, so this and :data:`MAX_REQUEST_BYTES` bound the process's memory whatever clients send.
MAX_CALLS = 16
#: The largest request body accepted (413 beyond). A valid call is far smaller: every string argument is at most
#: 10,000 characters and ids at most 256. A body this size of empty JSON arrays parses into some 6 MB of objects,
#: so 16 such calls at once stay within a few hundred MB.
MAX_REQUEST_BYTES = 256 * 1024
#: A stateful session with no request in flight for this long is closed; the client initializes a new one.
SESSION_IDLE_TIMEOUT_S = 5 * 60.0
#: The most stateful sessions at once; a new one beyond this closes the longest-idle one.
MAX_SESSIONS = 256


class BindRefused(ValueError):
    """Serving on this address would expose an unauthenticated server to the network."""


def is_loopback(host: str) -> bool:
    """``127.0.0.0/8``, ``::1`` and ``localhost``; everything else (including ``0.0.0.0``) is not."""
    host = host.strip().strip("[]")
    try:
        return host.lower() == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_bind(host: str, token: str | None) -> None:
    """Refuse a non-loopback bind without a token: anyone who can reach the port could call the API."""
    if not is_loopback(host) and not token:
        raise BindRefused(f"refusing to serve on {host}, which is reachable from other machines, without a bearer "
                          f"token: set {TOKEN_ENV} to a long random secret (clients then send 'Authorization: "
                          "Bearer <token>'), or bind to 127.0.0.1")


def security_settings(bind_host: str, *, allowed_hosts: Sequence[str] = (),
                      allowed_origins: Sequence[str] = ()) -> TransportSecuritySettings:
    """Accepted ``Host`` headers and ``Origin``s: the loopback names, the bind address, and what is given.

    Entries without a port match any port (``name`` and ``name:*``). ``0.0.0.0``/``::`` are not a name anyone
    sends, so a server bound to all interfaces accepts only loopback names and the hosts it is told about
    (``--allowed-hosts``). A request without ``Origin`` (any non-browser client) is not subject to the origin check.
    """
    names = [*_LOOPBACK_HOSTS, *allowed_hosts]
    if bind_host.strip().strip("[]") not in {"0.0.0.0", "::"}:
        names.append(bind_host)
    hosts: list[str] = []
    for name in dict.fromkeys(entry.strip() for entry in names if entry.strip()):
        if name.count(":") > 1 and not name.startswith("["):
            name = f"[{name}]"  # a bare IPv6 address (a name with a port has one colon), as a Host header has it
        has_port = ":" in name and not name.endswith("]")
        hosts += [name] if has_port else [name, f"{name}:*"]
    origins = [f"{scheme}://{host}" for host in hosts for scheme in ("http", "https")]
    origins += [o.strip().rstrip("/") for o in allowed_origins if o.strip()]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=list(dict.fromkeys(hosts)),
                                     allowed_origins=list(dict.fromkeys(origins)))


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


def build_http_app(server: Server[Any], *, token: str | None = None, stateless: bool = False, host: str = "127.0.0.1",
                   allowed_hosts: Sequence[str] = (), allowed_origins: Sequence[str] = (),
                   max_sessions: int = MAX_SESSIONS, session_idle_timeout: float = SESSION_IDLE_TIMEOUT_S,
                   max_calls: int = MAX_CALLS) -> ASGIApp:
    """The ASGI app serving ``server`` at ``/mcp`` (and ``/healthz``); run it with uvicorn.

    Build one app per server: the SDK's session manager it creates can run only once. ``host`` is the address
    the app will be bound to (it is accepted as a ``Host`` header); refusing addresses is :func:`check_bind`'s.
    """
    security = security_settings(host, allowed_hosts=allowed_hosts, allowed_origins=allowed_origins)
    health = Route(HEALTH_PATH, _healthz, methods=["GET", "HEAD"])
    app: ASGIApp = server.streamable_http_app(
        streamable_http_path=MCP_PATH, stateless_http=stateless, transport_security=security, host=host,
        custom_starlette_routes=[health], session_idle_timeout=session_idle_timeout,
        # Room for the sessions being opened while SessionLimit makes room (at most max_calls at once).
        max_sessions=max_sessions if stateless else max_sessions + max_calls, max_request_body_size=MAX_REQUEST_BYTES)
    mcp = app if stateless else SessionLimit(app, max_sessions, session_idle_timeout)
    return McpGate(app, mcp, token=token, max_calls=max_calls)


class McpGate:
    """What a request passes before the SDK sees it: the bearer token (not asked of the health check), then for
    ``/mcp`` the method and a slot.

    ``GET /mcp`` is answered 405: that stream is for messages a server sends outside the answer to a request
    (sampling, elicitation, change notifications); rtk-mcp sends none, so it would carry nothing, never end, and
    keep a stateful session from ever going idle. The Streamable HTTP specification allows the 405, and MCP
    clients then carry on without it. A request beyond ``max_calls`` waits before its body is read (uvicorn stops
    reading a body it is not asked for), so what it holds meanwhile is a connection, not a parsed message.
    """

    def __init__(self, app: ASGIApp, mcp: ASGIApp, *, token: str | None, max_calls: int) -> None:
        self.app = app
        self.mcp = mcp
        self._allow = "POST" if mcp is app else "POST, DELETE"
        self._expected = f"Bearer {token}".encode() if token else None
        self._slots = anyio.Semaphore(max_calls)
        self._rejected = 0
        self._reported_at = float("-inf")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == HEALTH_PATH:
            await self.app(scope, receive, send)
        elif not self._authorized(scope):
            await self._refuse(scope, receive, send)
        elif scope["path"] != MCP_PATH:
            await self.app(scope, receive, send)
        elif scope["method"] == "GET":
            await Response(status_code=405, headers={"Allow": self._allow})(scope, receive, send)
        else:
            async with self._slots:
                await self.mcp(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        # Constant-time in the token's content; the scheme is compared case-sensitively on purpose (every MCP
        # client sends "Bearer").
        supplied = Headers(scope=scope).get("authorization", "").encode("latin-1")
        return self._expected is None or hmac.compare_digest(supplied, self._expected)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        # One log line with a count every 10 s at most, so a flood of rejected requests cannot fill the log.
        self._rejected += 1
        if (now := time.monotonic()) - self._reported_at >= 10:
            logger.warning("rejected HTTP requests without a valid bearer token (%d since the last report)",
                           self._rejected)
            self._rejected, self._reported_at = 0, now
        message = f"send 'Authorization: Bearer <token>' (the server's {TOKEN_ENV})"
        await JSONResponse({"error": "unauthorized", "message": message}, status_code=401,
                           headers={"WWW-Authenticate": 'Bearer realm="rtk-mcp"'})(scope, receive, send)


@dataclass
class _Session:
    last_request: float
    in_flight: int = 0


class SessionLimit:
    """At ``max_sessions``, a request opening a new session first closes the longest-idle session.

    The SDK refuses new sessions at its limit (503 until one expires), which lets one client lock every other
    out for the whole idle timeout; closing the longest-idle session instead costs its owner a re-initialize at
    worst. Sessions are followed from outside, by what passes through (the id the SDK hands out, the ids
    requests carry, 404 for an id it no longer knows), and one is closed the way a client closes it: a
    ``DELETE`` with its id. Sessions with a request in flight are never closed; if all are busy, the SDK's own
    503 applies.
    """

    def __init__(self, app: ASGIApp, max_sessions: int, idle_timeout: float) -> None:
        self.app = app
        self.max_sessions = max_sessions
        self.idle_timeout = idle_timeout
        self._sessions: dict[str, _Session] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session_id = Headers(scope=scope).get("mcp-session-id")
        if session_id is None and scope["method"] == "POST":
            await self._make_room(scope)
        # A request outside every followed session is counted on a record nobody keeps.
        session = self._sessions.get(session_id or "", _Session(0.0))

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._follow(scope, session_id, message)
            await send(message)

        session.in_flight += 1
        try:
            await self.app(scope, receive, watch)
        finally:
            session.in_flight -= 1
            session.last_request = time.monotonic()

    def _follow(self, scope: Scope, session_id: str | None, start: Message) -> None:
        status = start["status"]
        if session_id is None:
            issued = Headers(raw=start.get("headers", [])).get("mcp-session-id")
            if issued is not None and status < 300:
                self._sessions[issued] = _Session(time.monotonic())
        elif status == 404 or (scope["method"] == "DELETE" and status < 300):
            self._sessions.pop(session_id, None)
        elif status < 300:  # a session taken for expired a moment too soon is followed again
            self._sessions.setdefault(session_id, _Session(time.monotonic()))

    async def _make_room(self, scope: Scope) -> None:
        now = time.monotonic()
        # Forget those the SDK has closed itself: idle for longer than its timeout (plus a second, as its
        # countdown starts a moment after ours).
        self._sessions = {session_id: session for session_id, session in self._sessions.items()
                          if session.in_flight or now - session.last_request <= self.idle_timeout + 1}
        idle = [(session.last_request, session_id) for session_id, session in self._sessions.items()
                if not session.in_flight]
        if len(self._sessions) >= self.max_sessions and idle:
            _, session_id = min(idle)
            logger.info("session limit reached: closing the longest-idle session")
            del self._sessions[session_id]
            await self._close(scope, session_id)

    async def _close(self, scope: Scope, session_id: str) -> None:
        """End a session through the SDK's public entry point, as its client would with DELETE."""
        # The Host check applies to this request too.
        headers = [(b"mcp-session-id", session_id.encode()), *((k, v) for k, v in scope["headers"] if k == b"host")]
        delete = {**scope, "method": "DELETE", "headers": headers, "query_string": b""}
        messages = iter([{"type": "http.request", "body": b"", "more_body": False}])

        async def receive() -> Message:
            return next(messages, {"type": "http.disconnect"})

        async def discard(message: Message) -> None:
            pass

        await self.app(delete, receive, discard)


def uvicorn_config(app: ASGIApp, host: str, port: int) -> uvicorn.Config:
    """How rtk-mcp serves HTTP: uvicorn's own h11 protocol and public settings, logs to stderr.

    h11, not httptools: pure Python, so it installs everywhere the package does (uvicorn depends on it).
    ``h11_max_incomplete_event_size`` bounds what an unfinished request line and headers may hold.
    ``log_config=None``: uvicorn logs through our root logger (stderr), not its own stdout handler.
    """
    return uvicorn.Config(app, host=host, port=port, http="h11", h11_max_incomplete_event_size=16 * 1024,
                          timeout_keep_alive=KEEP_ALIVE_TIMEOUT_S, log_config=None, access_log=False,
                          lifespan="on", ws="none", server_header=False)


def serve_http(app: ASGIApp, host: str, port: int) -> None:
    uvicorn.Server(uvicorn_config(app, host, port)).run()
