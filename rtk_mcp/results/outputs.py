"""Output schemas (``--output-schemas``): the documented fields of each tool's result, typed.

Off by default: an ``outputSchema`` per tool adds thousands of tokens to every conversation, and the
results are compact JSON an agent reads anyway. When on, each schema describes the *shaped* result
(see :mod:`rtk_mcp.results.shaping`), not the raw API response, with the fields the reference documents for
the response (``rtk_mcp/reference.json``, written from it by ``tools/gen_reference.py``), so a typed
client (FastMCP's, for one) gets classes with those fields:

- a single object's fields come at the top of the result; a list's items are under ``data`` (an
  array of objects with their documented fields), next to ``paging``; a response with both an
  object and paging keeps them under ``data`` and ``paging``, so both forms are described;
- a cut result says so in ``truncated`` (``true`` with a ``note`` when nothing could be kept, else
  an object saying what was left out and how to get it); an empty response is ``{"ok": true}``.

Nothing is required, no value is limited to an enum or format, and unknown keys are allowed, so a
schema never rejects a valid answer: the API adds fields and values over time, and results drop
null fields.
"""

from __future__ import annotations

import json
from typing import Any

from rtk_mcp.catalog import Endpoint
from rtk_mcp.reference import operations

__all__ = ["output_schema"]

_INT = {"type": "integer"}
_TRUNCATED = {
    "description": "Present when the result was cut to fit",
    "anyOf": [
        {"type": "boolean"},
        {
            "type": "object",
            "properties": {
                "field": {"type": "string"}, "returned": _INT, "omitted": _INT, "how_to_get_more": {"type": "string"},
                "next": {"type": "object", "properties": {"page_no": _INT, "per_page": _INT}},
            },
        },
    ],
}


def output_schema(endpoint: Endpoint) -> dict[str, Any]:
    """The ``outputSchema`` of ``endpoint``'s tool."""
    documented = operations()[f"{endpoint.method} {endpoint.path}"]["response"]
    data, paging = documented.get("data", {}), documented.get("paging")
    properties: dict[str, Any] = {}
    if data.get("type") == "object":
        properties.update(data.get("properties", {}))
    if data.get("type") != "object" or paging is not None:
        properties["data"] = data
    if paging is not None:
        properties["paging"] = paging
    if endpoint.returns_nothing:
        properties["ok"] = {"type": "boolean"}
    properties["truncated"] = _TRUNCATED
    properties["note"] = {"type": "string", "description": "Why a result was cut"}
    return {"type": "object", "properties": json.loads(json.dumps(properties))}
