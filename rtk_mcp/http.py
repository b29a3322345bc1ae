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
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
from collections.abc import Sequence
from typing import Any

from mcp.server.lowlevel import Server
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "MCP_PATH",
    "HEALTH_PATH",
    "TOKEN_ENV",
    "BindRefused",
    "build_http_app",
    "check_bind",
    "is_loopback",
    "security_settings",
]

logger = logging.getLogger("rtk_mcp.http_transport")

MCP_PATH = "/mcp"
HEALTH_PATH = "/healthz"
TOKEN_ENV = "RTK_MCP_HTTP_TOKEN"

_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


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
    )
    if token:
        app = BearerTokenMiddleware(app, token)
    return app
