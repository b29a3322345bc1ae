"""Nested objects that several tools take are spelled out once per ``tools/list``.

``create_meeting``, ``update_meeting`` and ``replace_meeting`` take the same ``ai_config``;
``create_preset`` and ``update_preset`` the same ``config``, ``ui`` and ``permissions`` (every field
optional when updating); the recording tools the same ``storage_config``. Spelling those out in every
tool would cost an agent about 2,100 tokens in every conversation, so a nested object that an earlier
tool of the same listing already spells out is sent as::

    {"type": "object", "description": "Participant permissions. Same fields as create_preset's permissions, all optional"}

Only the advertised schema changes: the tool's pydantic model still validates every nested field and
names it in its error. A reference only ever points at a tool in the same listing, so every selection
stays complete; ``--full-schemas`` (``tool_definitions(..., full_schemas=True)``) turns sharing off
for clients that show an agent only some of the listed tools at a time.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MIN_SHARED_CHARS", "share_repeated_objects"]

#: A smaller object costs about as much to repeat as the reference that would replace it.
MIN_SHARED_CHARS = 160


def share_repeated_objects(schemas: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The input schemas of ``(tool name, schema)`` pairs, in listing order, with repeats referenced."""
    shown: dict[str, tuple[str, str]] = {}  # shape without ``required`` -> (where it is spelled out, exact key)
    return [_share(schema, tool, (), shown) for tool, schema in schemas]


def _share(node: Any, tool: str, path: tuple[str, ...], shown: dict[str, tuple[str, str]]) -> Any:
    if isinstance(node, list):
        return [_share(item, tool, path, shown) for item in node]
    if not isinstance(node, dict):
        return node
    exact = _key(node) if path and "properties" in node else ""
    if len(exact) >= MIN_SHARED_CHARS:
        shape = _key(_without(node, "required"))
        where = shown.get(shape)
        if where is not None:
            owner, owner_exact = where
            if exact == owner_exact:
                return _reference(node, f"Same fields as {owner}")
            if not _has_required(node):  # the PATCH form of a shape whose fields are required elsewhere
                return _reference(node, f"Same fields as {owner}, all optional")
        else:
            shown[shape] = (f"{tool}'s {'.'.join(path)}", exact)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: _share(sub, tool, (*path, name), shown) for name, sub in value.items()}
        elif key in {"items", "additionalProperties", "anyOf"}:
            out[key] = _share(value, tool, path, shown)
        else:
            out[key] = value
    return out


def _reference(node: dict[str, Any], note: str) -> dict[str, Any]:
    description = (node.get("description") or "").rstrip(". ")
    return {"type": "object", "description": f"{description}. {note}" if description else note}


def _key(node: dict[str, Any]) -> str:
    """The node's shape as text; its own description is not part of it (the reference keeps that)."""
    return json.dumps({k: v for k, v in node.items() if k != "description"}, sort_keys=True, separators=(",", ":"))


def _without(node: Any, keyword: str) -> Any:
    if isinstance(node, dict):
        return {k: _without(v, keyword) for k, v in node.items() if k != keyword or not isinstance(v, list)}
    if isinstance(node, list):
        return [_without(item, keyword) for item in node]
    return node


def _has_required(node: Any) -> bool:
    if isinstance(node, dict):
        return isinstance(node.get("required"), list) or any(_has_required(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_required(item) for item in node)
    return False
