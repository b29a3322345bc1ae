"""Webhooks: HTTP callbacks that deliver an app's meeting, recording and livestream events."""

from typing import Annotated, Literal

from pydantic import Field

from rtk_mcp.catalog.common import AppParams, ListedBy, PathId, Uri
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

# The reference lists the event names only; what each means is read from its name (and from the
# recording statuses it documents), and the description says so.
_EVENTS = ("Events to send (meanings read from the names): meeting.started/ended, participantJoined/Left, chatSynced, "
           "transcript/summary (ready); recording.statusUpdate (a recording changed status, e.g. UPLOADED), "
           "livestreaming.statusUpdate (same for a livestream)")


class ListWebhooks(AppParams):
    """List webhooks (id, name, url, events, enabled)."""


class CreateWebhook(AppParams):
    """Register a webhook: RealtimeKit sends the chosen events to `url`."""

    events: list[WebhookEvent] = Field(description=_EVENTS)
    name: str
    url: Uri = Field(description="URL the webhook will send events to")
    enabled: bool | None = Field(default=None, description="Active on creation")


class GetWebhook(AppParams):
    """Fetch one webhook's details."""

    webhook_id: WebhookId


class ReplaceWebhook(CreateWebhook):
    """Replace all of a webhook's settings; omitted ones may reset (update_webhook changes some)."""

    webhook_id: WebhookId
    enabled: bool | None = Field(default=None, description="Active or not")


class UpdateWebhook(AppParams):
    """Change some of a webhook's settings, e.g. disable it."""

    webhook_id: WebhookId
    enabled: bool | None = Field(default=None, description="Active or not")
    events: list[WebhookEvent] | None = Field(default=None, description=_EVENTS)
    name: str | None = None
    url: Uri | None = Field(default=None, description="URL the webhook will send events to")


class DeleteWebhook(AppParams):
    """Delete a webhook from the app."""

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
