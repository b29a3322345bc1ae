"""Webhooks: where the service would send event notifications (the sandbox stores them; it sends nothing)."""

from __future__ import annotations

from .common import Call, Record, Reply, new_id, ok, public, touch

_W = "/{app_id}/webhooks"


def _webhook(call: Call) -> Record:
    return call.find("webhooks", call.path_params["webhook_id"], "Webhook")


def list_webhooks(call: Call) -> Reply:
    return ok([public(w) for w in sorted(call.owned("webhooks"), key=lambda w: w["created_at"])])


def create_webhook(call: Call) -> Reply:
    now = call.now_iso
    hook = {"id": new_id(), "enabled": True, **call.body, "created_at": now, "updated_at": now, "_app": call.app_id}
    call.state["webhooks"][hook["id"]] = hook
    return ok(public(hook), 201)


def get_webhook(call: Call) -> Reply:
    return ok(public(_webhook(call)))


def replace_webhook(call: Call) -> Reply:
    old = _webhook(call)
    kept = {k: old[k] for k in ("id", "created_at", "_app")}
    new = {"enabled": True, **call.body, **kept, "updated_at": call.now_iso}
    call.state["webhooks"][old["id"]] = new
    return ok(public(new))


def update_webhook(call: Call) -> Reply:
    return ok(public(touch(_webhook(call), call.now, **call.body)))


def delete_webhook(call: Call) -> Reply:
    return ok(public(call.state["webhooks"].pop(_webhook(call)["id"])))


ROUTES = [
    ("GET", _W, list_webhooks),
    ("POST", _W, create_webhook),
    ("GET", _W + "/{webhook_id}", get_webhook),
    ("PUT", _W + "/{webhook_id}", replace_webhook),
    ("PATCH", _W + "/{webhook_id}", update_webhook),
    ("DELETE", _W + "/{webhook_id}", delete_webhook),
]
