"""Presets: named sets of permissions, media settings and UI that participants join with."""

from __future__ import annotations

from ..seed import default_preset
from .common import Call, ErrorReply, Record, Reply, deep_merge, new_id, ok, pick, touch

_P = "/{app_id}/presets"


def _preset(call: Call) -> Record:
    return call.find("presets", call.path_params["preset_id"], "Preset")


def preset_named(call: Call, name: str) -> Record:
    """The app's preset called *name* (participants refer to presets by name)."""
    for preset in call.owned("presets", name=name):
        return preset
    raise ErrorReply(400, f"No preset named {name!r} in this app")


def render_preset(preset: Record) -> Record:
    """A preset as the single-preset operations document it (the list adds the timestamps)."""
    return pick(preset, ("id", "name", "config", "ui", "permissions"))


def _refuse_taken_name(call: Call, name: str, own_id: str | None = None) -> None:
    if any(p["id"] != own_id for p in call.owned("presets", name=name)):
        raise ErrorReply(409, f"A preset named {name!r} already exists")


def list_presets(call: Call) -> Reply:
    items = sorted(call.owned("presets"), key=lambda p: (p["created_at"], p["name"]))
    page, paging = call.page(items)
    return ok([pick(p, ("id", "name", "created_at", "updated_at")) for p in page], paging=paging)


def create_preset(call: Call) -> Reply:
    _refuse_taken_name(call, call.body["name"])
    base = default_preset(call.body["name"], call.body["config"]["view_type"])
    now = call.now_iso
    preset = {"id": new_id(), **deep_merge(base, call.body), "created_at": now, "updated_at": now, "_app": call.app_id}
    call.state["presets"][preset["id"]] = preset
    return ok(render_preset(preset), 201)


def get_preset(call: Call) -> Reply:
    return ok(render_preset(_preset(call)))


def update_preset(call: Call) -> Reply:
    preset = _preset(call)
    if "name" in call.body:
        _refuse_taken_name(call, call.body["name"], preset["id"])
    merged = touch(deep_merge(preset, call.body), call.now)
    call.state["presets"][preset["id"]] = merged
    return ok(render_preset(merged))


def delete_preset(call: Call) -> Reply:
    return ok(render_preset(call.state["presets"].pop(_preset(call)["id"])))


ROUTES = [
    ("GET", _P, list_presets),
    ("POST", _P, create_preset),
    ("GET", _P + "/{preset_id}", get_preset),
    ("DELETE", _P + "/{preset_id}", delete_preset),
    ("PATCH", _P + "/{preset_id}", update_preset),
]
