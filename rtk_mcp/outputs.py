"""Output schemas (``--output-schemas``): what each tool's result looks like, loosely but correctly.

Off by default: an ``outputSchema`` per tool would add thousands of tokens to every conversation,
and the results are compact JSON an agent reads anyway. When on, each schema describes the
*shaped* result (see :mod:`rtk_mcp.shaping`), not the raw API response:

- every result is a JSON object (a non-object ``data`` is wrapped as ``{"data": ...}``, an empty
  response is ``{"ok": true}``);
- a list tool's items are an array of objects, under ``data`` or, where the API nests them, under
  the endpoint's ``items_key``; ``paging`` is an object; a cut list says so in ``truncated``.

Nothing is required and unknown keys are allowed, so a schema never rejects a valid answer (the
API adds fields over time and drops nulls); it tells a client where the items and paging are.
These are written from the catalog and the reference's response shapes, not read at runtime.
"""

from __future__ import annotations

from typing import Any

from rtk_mcp.catalog import Endpoint

__all__ = ["output_schema"]

_OBJECT = {"type": "object"}
_TRUNCATED = {"type": ["object", "boolean"], "description": "Present when the result was cut to fit"}


def output_schema(endpoint: Endpoint) -> dict[str, Any]:
    """The ``outputSchema`` of ``endpoint``'s tool."""
    if not endpoint.list_result:
        return {"type": "object", "properties": {"truncated": _TRUNCATED}}
    items = {"type": "array", "items": _OBJECT, "description": "The items (see the fields argument)"}
    return {
        "type": "object",
        "properties": {endpoint.items_key or "data": items, "paging": _OBJECT, "truncated": _TRUNCATED},
    }
