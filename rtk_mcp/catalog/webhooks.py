"""Webhooks: HTTP callbacks that deliver an app's meeting, recording and livestream events."""

from typing import Annotated, Literal

from pydantic import Field

from rtk_mcp.catalog.common import AppParams, ListedBy, PathId, WebUrl
from rtk_mcp.catalog.endpoint import Endpoint

WebhookEvent = Literal[
    "meeting.started",
    "meeting.ended",
    "meeting.participantJoined",
    "meeting.participantLeft",
    "meeting.chatSynced",
    "recording.statusUpdate",
    "livestreaming.statusUpdate",
    "meeting.transcript",
    "meeting.summary",
]

WebhookId = Annotated[PathId, ListedBy("list_webhooks")]


class ListWebhooks(AppParams):
    """List webhooks (id, name, url, events, enabled)."""


class CreateWebhook(AppParams):
    """Register a webhook: RealtimeKit POSTs the chosen meeting events to `url`."""

    events: list[WebhookEvent] = Field(min_length=1, description="Events to deliver")
    name: str
    url: WebUrl = Field(description="URL the events are POSTed to")
    enabled: bool | None = Field(default=None, description="Active on creation")


class GetWebhook(AppParams):
    """Fetch one webhook's details."""

    webhook_id: WebhookId


class ReplaceWebhook(CreateWebhook):
    """Replace all of a webhook's settings; omitted ones reset (update_webhook changes some)."""

    webhook_id: WebhookId
    enabled: bool | None = Field(default=None, description="Active or not")


class UpdateWebhook(AppParams):
    """Change some of a webhook's settings, e.g. disable it."""

    webhook_id: WebhookId
    enabled: bool | None = Field(default=None, description="Active or not")
    events: list[WebhookEvent] | None = Field(default=None, min_length=1, description="Events to deliver")
    name: str | None = None
    url: WebUrl | None = Field(default=None, description="URL the events are POSTed to")


class DeleteWebhook(AppParams):
    """Delete a webhook; its url stops receiving events."""

    webhook_id: WebhookId


_W = "/{app_id}/webhooks"
ENDPOINTS = [
    Endpoint("list_webhooks", "GET", _W, ListWebhooks, "List webhooks"),
    Endpoint("create_webhook", "POST", _W, CreateWebhook, "Create webhook", check_with="list_webhooks"),
    Endpoint("get_webhook", "GET", _W + "/{webhook_id}", GetWebhook, "Get webhook"),
    # PUT: idempotent, but every field left out is reset.
    Endpoint("replace_webhook", "PUT", _W + "/{webhook_id}", ReplaceWebhook, "Replace webhook", destructive=True),
    Endpoint("update_webhook", "PATCH", _W + "/{webhook_id}", UpdateWebhook, "Edit webhook", check_with="get_webhook"),
    Endpoint("delete_webhook", "DELETE", _W + "/{webhook_id}", DeleteWebhook, "Delete webhook", destructive=True),
]
