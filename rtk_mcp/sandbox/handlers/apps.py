"""Apps: the containers every other object belongs to."""

from __future__ import annotations

from .common import Call, Reply, new_id, ok, public


def list_apps(call: Call) -> Reply:
    return ok([public(a) for a in sorted(call.state["apps"].values(), key=lambda a: a["created_at"])])


def create_app(call: Call) -> Reply:
    app = {"id": new_id(), "name": call.body["name"], "created_at": call.now_iso}
    call.state["apps"][app["id"]] = app
    return ok({"app": public(app)}, 201)


ROUTES = [
    ("GET", "/apps", list_apps),
    ("POST", "/apps", create_app),
]
