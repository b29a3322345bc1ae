"""Apps: the top level of RealtimeKit; every other endpoint lives under an app."""

from rtk_mcp.catalog.common import Params
from rtk_mcp.catalog.endpoint import Endpoint


class ListApps(Params):
    """List the account's apps. Source of app_id."""


class CreateApp(Params):
    """Create an app (it holds meetings, presets, webhooks)."""

    name: str


ENDPOINTS = [
    Endpoint("list_apps", "GET", "/apps", ListApps, "List apps", default_toolset=True),
    Endpoint("create_app", "POST", "/apps", CreateApp, "Create app", check_with="list_apps"),
]
