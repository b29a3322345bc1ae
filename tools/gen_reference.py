"""Maintainer script (not an MCP tool): write ``rtk_mcp/reference.json`` from the API reference.

    python tools/gen_reference.py          # rewrite rtk_mcp/reference.json
    python tools/gen_reference.py --check  # exit 1 if it is stale (the test suite runs this check)

Reads ``../shared/reference/`` (beside the checkout; not shipped) and keeps, for each documented
operation (see ``rtk_mcp/reference.py`` for the file's layout):

- ``body``: ``params_schema`` of ``endpoints.json`` for the operations whose parameters go in the
  body, references inlined and descriptions dropped, plus :data:`DOCS_RULES`, the ranges and URL
  formats the docs page states and the SDK types behind ``endpoints.json`` drop;
- ``response``: the documented fields of the response's ``data`` and ``paging``: names, types,
  nesting. What could make a valid answer fail is left out: ``required`` (results drop null fields),
  ``enum`` and ``format`` (the API may add values or send another form), null branches (nulls never
  reach a result) and descriptions (typed clients want the shape).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rtk_mcp.reference import REFERENCE_FILE  # noqa: E402

REFERENCE = ROOT.parent / "shared" / "reference" / "endpoints.json"
#: Every documented path starts with this; the keys of the file leave it out.
PREFIX = "/accounts/{account_id}/realtime/kit"

_MEETING_WRITES = ("POST /{app_id}/meetings", "PUT /{app_id}/meetings/{meeting_id}")
_MEETING_BODIES = (*_MEETING_WRITES, "PATCH /{app_id}/meetings/{meeting_id}")
_START_RECORDING = ("POST /{app_id}/recordings",)
_PRESET_BODIES = ("POST /{app_id}/presets", "PATCH /{app_id}/presets/{preset_id}")
_WEBHOOK_BODIES = ("POST /{app_id}/webhooks", "PUT /{app_id}/webhooks/{webhook_id}", "PATCH /{app_id}/webhooks/{webhook_id}")
_PARTICIPANT_BODIES = ("POST /{app_id}/meetings/{meeting_id}/participants",
                       "PATCH /{app_id}/meetings/{meeting_id}/participants/{participant_id}")
_URI = {"format": "uri"}
#: A recording's ``video_config``, as the docs state it under a meeting's ``recording_config``
#: (realtimekit-api-docs.txt lines 326-381); start_recording takes the same object.
_VIDEO = (
    ("width", {"minimum": 1, "maximum": 1920}),  # lines 376-381
    ("height", {"minimum": 1, "maximum": 1920}),  # lines 338-343
    ("watermark.size.width", {"minimum": 1}),  # lines 366-370
    ("watermark.size.height", {"minimum": 1}),  # lines 361-365
    ("watermark.url", _URI),  # lines 371-375
)
#: What the docs page (realtimekit-api-docs.txt) states and endpoints.json drops: (operations, field
#: in the body, JSON Schema keywords added to it). Line numbers are those of the docs page.
DOCS_RULES: list[tuple[tuple[str, ...], str, dict[str, Any]]] = [
    (_MEETING_BODIES, "session_keep_alive_time_in_secs", {"minimum": 60, "maximum": 600}),  # lines 94-99
    (_MEETING_BODIES, "ai_config.summarization.word_limit", {"minimum": 150, "maximum": 1000}),  # lines 174-179
    (_MEETING_WRITES, "recording_config.max_seconds", {"minimum": 60, "maximum": 86400}),  # lines 255-260
    (_MEETING_WRITES, "recording_config.live_streaming_config.rtmp_url", _URI),  # lines 250-254
    *((_MEETING_WRITES, f"recording_config.video_config.{field}", rule) for field, rule in _VIDEO),
    # endpoints.json's own description: "ranging from a minimum of 60 seconds to a maximum of 24 hours"
    (_START_RECORDING, "max_seconds", {"minimum": 60, "maximum": 86400}),
    *((_START_RECORDING, f"video_config.{field}", rule) for field, rule in _VIDEO),
    (_PRESET_BODIES, "config.media.video.frame_rate", {"maximum": 30}),  # lines 1557-1561
    (_WEBHOOK_BODIES, "url", _URI),  # lines 3998-4002
    (_PARTICIPANT_BODIES, "picture", _URI),  # lines 1278-1282
]


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with references inlined and descriptions dropped: only what validation reads."""
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inline(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: _inline(sub, defs) for name, sub in value.items()}
        elif key not in ("description", "$defs") and value != []:
            out[key] = _inline(value, defs)
    branches = out.get("anyOf", [])
    if branches and all(branch.keys() == {"type"} for branch in branches):  # "string or null": one type list
        del out["anyOf"]
        out["type"] = [branch["type"] for branch in branches]
    return out


def _plain(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with references inlined and only what can never reject a documented answer."""
    if not isinstance(node, dict):
        return {}
    if "$ref" in node:
        return _plain(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
    variants = [v for v in node.get("anyOf", []) if v != {"type": "null"}]
    if variants:
        return _plain(variants[0], defs) if len(variants) == 1 else {}
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        properties = {name: _plain(sub, defs) for name, sub in node.get("properties", {}).items()}
        return {"type": "object", "properties": properties} if properties else {"type": "object"}
    if kind == "array":
        items = _plain(node.get("items"), defs)
        return {"type": "array", "items": items} if items else {"type": "array"}
    if kind in {"integer", "number"}:
        return {"type": "number"}  # an integer documented as a number, or the reverse, still validates
    if kind in {"string", "boolean"}:
        return {"type": kind}
    return {}  # untyped in the reference (``unknown``): any value


def _key(record: dict[str, Any]) -> str:
    path = record["path"].removeprefix(PREFIX)
    return f"{record['method']} " + re.sub(r"{([^}]+)}", lambda m: "{" + m[1].replace("-", "_") + "}", path)


def _entry(record: dict[str, Any]) -> dict[str, Any]:
    response = record.get("response_schema") or {}
    properties = response.get("properties", {})
    entry: dict[str, Any] = {
        "response": {key: _plain(properties[key], response.get("$defs", {})) for key in ("data", "paging") if key in properties}
    }
    if record["params_location"] == "body":
        entry["body"] = _inline(record["params_schema"], record["params_schema"].get("$defs", {}))
    return entry


def generate() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for record in json.loads(REFERENCE.read_text())["endpoints"]:
        key, entry = _key(record), _entry(record)
        if out.setdefault(key, entry) != entry:  # documented twice (daywise analytics): the same both times
            raise SystemExit(f"{key} is documented twice, differently")
    for keys, field, rule in DOCS_RULES:
        for key in keys:
            node = out[key]["body"]
            for name in field.split("."):
                node = node["properties"][name]
            node.update(rule)
    return out


def main() -> int:
    operations = generate()
    lines = [f"{json.dumps(key)}: {json.dumps(operations[key], sort_keys=True, separators=(',', ':'))}" for key in sorted(operations)]
    text = "{\n" + ",\n".join(lines) + "\n}\n"  # one operation per line: reviewable diffs
    if "--check" in sys.argv[1:]:
        if REFERENCE_FILE.read_text() != text:
            print(f"{REFERENCE_FILE} is stale: run python tools/gen_reference.py", file=sys.stderr)
            return 1
        return 0
    REFERENCE_FILE.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
