"""Apps: the top level of RealtimeKit; every other endpoint lives under an app."""

from __future__ import annotations

from pydantic import Field

from rtk_mcp.catalog.common import Params
from rtk_mcp.catalog.endpoint import Endpoint

GROUP = "apps"


class ListApps(Params):
    """List the account's RealtimeKit apps (id, name, created_at). Start here to find an app_id."""


class CreateApp(Params):
    """Create a RealtimeKit app. Meetings, presets and webhooks live inside an app."""

    name: str = Field(min_length=1, description="App name")


ENDPOINTS = [
    Endpoint("list_apps", "GET", "/apps", ListApps, group=GROUP, title="List apps"),
    Endpoint("create_app", "POST", "/apps", CreateApp, group=GROUP, title="Create app"),
]
