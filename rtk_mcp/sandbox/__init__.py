"""An offline emulator of the Cloudflare RealtimeKit REST API.

``create_app()`` returns an ASGI (Starlette) app serving all 53 distinct documented
endpoints under ``/client/v4/accounts/{account_id}/realtime/kit/...`` so rtk-mcp can run
without a Cloudflare account, e.g.::

    import httpx2
    from rtk_mcp.sandbox import create_app, SANDBOX_APP_ID

    client = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=create_app()),
                                base_url="http://sandbox/client/v4")
    await client.get(f"/accounts/any/realtime/kit/{SANDBOX_APP_ID}/meetings")

Design
------
* ``handlers.ROUTES`` is the one route table: ``(method, path, handler, body spec)``.
  Handlers are small functions ``handler(ctx) -> (status, payload)``; shared helpers do
  "find or 404" (``store.find``), paging (``store.paginate`` -> ``total_count``,
  ``start_offset``, ``end_offset``), query parsing, search and time windows.
* State (``store.Store``) is one JSON-serialisable dict of collections; internal
  bookkeeping lives in ``_``-prefixed keys that are stripped from responses. With a
  ``state_path`` it is mirrored to SQLite (a single JSON row, written in one transaction
  after every successful non-GET request) and reloaded by the next ``create_app``.
* Request bodies are checked by ``validate.check`` against compact specs transcribed from
  the reference ``params_schema`` plus the documented ranges. Errors look like
  ``{"success": false, "error": {"code": 400, "message": "Invalid request body: 'title' must
  be a string"}}``; unknown ids give 404 ``"<Thing> not found"``, unknown routes 404,
  wrong methods 405.
* ``seed.build_state`` creates the demo data (app "Sandbox App" = ``SANDBOX_APP_ID``,
  presets, meetings, ended and live sessions with participants, chat, transcripts, a
  summary, recordings, livestreams with sessions, a webhook) with the fixed ids in
  ``SEED``. Only generated ids (uuid4), timestamps and tokens vary between runs.
* Chat/transcript/summary/recording download URLs point back at the sandbox
  (``/sandbox-files/...``) and serve the seeded content.

Where the docs are odd the sandbox follows them: ``GET /livestreams`` returns one
livestream object plus ``paging`` (the whole page is added as ``livestreams``);
``GET /livestreams/{id}`` returns one ``session`` (the page is added as ``sessions``);
livestream ``disabled`` is a string on GET endpoints; ``ingest_seconds``/``viewer_seconds``
are strings on the active-livestream-session endpoint. Recording ``stop`` moves a
recording straight to ``UPLOADED`` (there is no ``STOPPED`` status in the docs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .app import API_PREFIX, create_app
from .seed import SANDBOX_APP_ID, SEED, SeedIds

if TYPE_CHECKING:
    import httpx2

    from rtk_mcp.config import Settings

__all__ = ["API_PREFIX", "SANDBOX_APP_ID", "SANDBOX_BASE_URL", "SEED", "SeedIds", "create_app", "sandbox_settings", "sandbox_transport"]

#: Base URL the rtk-mcp client uses to reach the sandbox through :func:`sandbox_transport`.
SANDBOX_BASE_URL = "http://sandbox/client/v4"


def sandbox_settings() -> Settings:
    """Client settings for the sandbox: dummy credentials, the seeded app as default app."""
    from rtk_mcp.config import Settings

    return Settings(api_token="sandbox-token", account_id="sandbox-account", default_app_id=SANDBOX_APP_ID, base_url=SANDBOX_BASE_URL)


def sandbox_transport(state_path: str | None = None) -> httpx2.ASGITransport:
    """An httpx2 transport that serves requests from a fresh :func:`create_app` in-process."""
    import httpx2

    return httpx2.ASGITransport(app=create_app(state_path))
