"""An offline emulator of the Cloudflare RealtimeKit REST API.

``sandbox_app()`` returns an ASGI (Starlette) app serving all 53 distinct documented endpoints
under ``/client/v4/accounts/{account_id}/realtime/kit/...``, so rtk-mcp (and scripts and tests
built on it) can run without a Cloudflare account::

    import httpx2
    from rtk_mcp.sandbox import SANDBOX_APP_ID, sandbox_app

    client = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=sandbox_app()),
                                base_url="http://sandbox/client/v4")
    await client.get(f"/accounts/any/realtime/kit/{SANDBOX_APP_ID}/meetings")

The emulator is written from the API reference, independently of :mod:`rtk_mcp.catalog`, on
purpose: it does not import the catalog's models, paths or enums, so a mistake in the catalog (a
wrong path, a missing required field, an invented rule) shows up as a failing call against the
sandbox instead of being reproduced by it.

Layout
------
* ``handlers/`` — one module per documented group, as in ``catalog/``; each handler is named after
  the tool it serves and lists its route in the module's ``ROUTES``.
* ``store.py`` — the state in SQLite, one row per object, each request in one ``BEGIN IMMEDIATE``
  transaction (in memory unless a state file is given; a file is shared safely by any number of
  sandboxes and processes).
* ``clock.py`` — the time lifecycles follow: real time, or a :class:`ManualClock` a test advances,
  plus an offset kept in the state so every process sharing a state file agrees on the time.
* ``control.py`` — :class:`Sandbox`: one sandbox as a program drives it (its API, people, time,
  webhook deliveries); ``people.py`` — joining, speaking, chatting and leaving, which RealtimeKit
  does in its client SDKs, so they are sandbox controls, never MCP tools.
* ``events.py``, ``delivery.py``, ``signing.py`` — webhook events queued where they happen, sent
  in order with retries, signed as RealtimeKit signs them.
* ``faults.py`` — failures on demand (401, 403, 429, 5xx, an ``ERRORED`` recording), kept in the
  state so every sandbox on a file sees them; ``serve.py`` — the app over HTTP for any client.
* ``cli.py``, ``scenario.py``, ``scenarios/`` — ``rtk-mcp sandbox …`` (serve, fault, people, time,
  play, deliveries, public-key), and playing a whole meeting from a scenario file on the sandbox clock.
* ``seed.py`` — the demo data with fixed ids (:data:`SEED`), including the telemetry the session
  reports show.
* ``validate.py`` — request bodies checked with jsonschema against the reference file
  (:mod:`rtk_mcp.reference`: the parameter schemas and the ranges the docs add).

What it models and what it does not — operation by operation, with reasons — is the fidelity
checklist in ``docs/sandbox.md``. Where the reference is silent, the choice made is stated there
(for example: starting a recording or a livestream on a meeting nobody has joined is refused with
a 400, because the service's answer is not documented).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .seed import SANDBOX_APP_ID, SEED, SeedIds

if TYPE_CHECKING:
    import httpx2

    from rtk_mcp.config import Settings

    from .app import API_PREFIX, sandbox_app
    from .clock import Clock, ManualClock, SystemClock
    from .control import Sandbox
    from .people import ControlError
    from .store import SandboxStateError

# Loaded on first use, so `rtk-mcp` can offer its `sandbox` command without loading the emulator.
_LAZY = {
    "API_PREFIX": "app", "sandbox_app": "app", "Clock": "clock", "ManualClock": "clock", "SystemClock": "clock",
    "Sandbox": "control", "ControlError": "people", "SandboxStateError": "store",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)

__all__ = [
    "API_PREFIX", "SANDBOX_APP_ID", "SANDBOX_BASE_URL", "SEED", "Clock", "ControlError", "ManualClock", "Sandbox",
    "SandboxStateError", "SeedIds", "SystemClock", "sandbox_app", "sandbox_settings", "sandbox_transport",
]

#: Base URL the rtk-mcp client uses to reach the sandbox through :func:`sandbox_transport`.
SANDBOX_BASE_URL = "http://sandbox/client/v4"


def sandbox_settings() -> Settings:
    """Client settings for the sandbox: dummy credentials, the seeded app as default app."""
    from rtk_mcp.config import Settings

    return Settings(api_token="sandbox-token", account_id="sandbox-account", default_app_id=SANDBOX_APP_ID, base_url=SANDBOX_BASE_URL)


def sandbox_transport(state_path: str | Path | None = None, *, clock: Clock | None = None) -> httpx2.ASGITransport:
    """An httpx2 transport that serves requests from a fresh :func:`sandbox_app` in-process."""
    import httpx2

    from .app import sandbox_app

    return httpx2.ASGITransport(app=sandbox_app(state_path, clock=clock))
