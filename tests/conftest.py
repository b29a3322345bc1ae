"""Shared fixtures: a clean environment, and a fake RealtimeKit API at the transport seam."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import hypothesis
import pytest
from mcp import Client

from rtk_mcp.config import Settings
from rtk_mcp.server import build_server, text_of  # noqa: F401 (text_of: the tests' one import of it)

TOKEN = "test-token-c4n4ry-0123456789"
ACCOUNT = "acc123"
APP = "app-1"
BASE = "https://api.test/client/v4"
#: The API reference, in ../shared beside the checkout (read-only input, never copied into the project).
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "endpoints.json"

#: A complete, valid create_preset body (config, ui with its required design tokens).
PRESET = {
    "name": "host",
    "config": {
        "view_type": "GROUP_CALL",
        "max_screenshare_count": 1,
        "max_video_streams": {"desktop": 9, "mobile": 4},
        "media": {"video": {"quality": "hd", "frame_rate": 30}, "screenshare": {"quality": "hd", "frame_rate": 5}},
    },
    "ui": {
        "design_tokens": {
            "border_radius": "rounded", "border_width": "thin", "theme": "dark", "logo": "", "spacing_base": 4,
            "colors": {
                "background": {"600": "#222", "700": "#1f1f1f", "800": "#1a1a1a", "900": "#141414", "1000": "#000"},
                "brand": {"300": "#a", "400": "#b", "500": "#c", "600": "#d", "700": "#e"},
                "danger": "#f00", "success": "#0f0", "text": "#fff", "text_on_brand": "#fff",
                "video_bg": "#111", "warning": "#ff0",
            },
        },
    },
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's real credentials or selection settings."""
    import os

    for name in list(os.environ):
        if name.startswith(("CLOUDFLARE_", "RTK_")):
            monkeypatch.delenv(name, raising=False)


@dataclass
class FakeAPI:
    """Records every request; answers with ``responder(request)`` or a default success."""

    responder: Callable[[httpx2.Request], httpx2.Response] | None = None
    requests: list[httpx2.Request] = field(default_factory=list)

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if self.responder is not None:
            return self.responder(request)
        return httpx2.Response(200, json={"success": True, "data": {"id": "x1", "note": None}})

    @property
    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handle)

    def last_body(self) -> Any:
        content = self.requests[-1].content
        return json.loads(content) if content else None


@pytest.fixture
def fake_api() -> FakeAPI:
    return FakeAPI()


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = dict(api_token=TOKEN, account_id=ACCOUNT, default_app_id=APP, base_url=BASE)
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def connect(fake_api: FakeAPI, **overrides: Any) -> AsyncIterator[Client]:
    """An MCP client talking, in memory, to a server whose HTTP goes to ``fake_api``.

    A context manager rather than a fixture: the MCP client's task group must be entered and
    exited in the test's own task.
    """
    async with Client(build_server(settings(**overrides), transport=fake_api.transport)) as mcp_client:
        yield mcp_client


# Fuzz tests draw the same examples on every run (a failure in CI reproduces locally, and the suite's
# time does not vary with luck); their variety comes from the strategies, not from the seed.
hypothesis.settings.register_profile("derandomized", derandomize=True, database=None)
hypothesis.settings.load_profile("derandomized")
