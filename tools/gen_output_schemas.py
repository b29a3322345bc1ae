"""Maintainer script (not an MCP tool): write each tool's result fields from the API reference.

    python tools/gen_output_schemas.py          # rewrite rtk_mcp/results/output_fields.json
    python tools/gen_output_schemas.py --check  # exit 1 if it is stale (the test suite runs this check)

Reads ``../shared/reference/endpoints.json`` (beside the checkout; not shipped) and keeps, for each
operation, the documented fields of its response's ``data`` and ``paging``: names, types, nesting.
What could make a valid answer fail is left out: ``required`` (results drop null fields), ``enum``
and ``format`` (the API may add values or send another form), null branches (nulls never reach a
result) and descriptions (the fields are named for what they are; typed clients want the shape).
``rtk_mcp.results.outputs`` turns these into ``outputSchema``s.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rtk_mcp.catalog import ENDPOINTS, PATH_PREFIX  # noqa: E402
from rtk_mcp.results.outputs import FIELDS_FILE  # noqa: E402

REFERENCE = ROOT.parent / "shared" / "reference" / "endpoints.json"


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


def _documented(method: str, path: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    def normal(p: str) -> str:
        return re.sub(r"{[^}]+}", "{}", p)

    (record,) = [r for r in records if r["method"] == method and normal(r["path"]) == normal(PATH_PREFIX + path)][:1]
    return record


def generate() -> dict[str, Any]:
    records = json.loads(REFERENCE.read_text())["endpoints"]
    out: dict[str, Any] = {}
    for endpoint in ENDPOINTS:
        response = _documented(endpoint.method, endpoint.path, records).get("response_schema") or {}
        defs = response.get("$defs", {})
        properties = response.get("properties", {})
        out[endpoint.name] = {key: _plain(properties[key], defs) for key in ("data", "paging") if key in properties}
    return out


def main() -> int:
    fields = generate()
    lines = [f"{json.dumps(name)}: {json.dumps(fields[name], sort_keys=True, separators=(',', ':'))}" for name in sorted(fields)]
    text = "{\n" + ",\n".join(lines) + "\n}\n"  # one tool per line: reviewable diffs
    if "--check" in sys.argv[1:]:
        if FIELDS_FILE.read_text() != text:
            print(f"{FIELDS_FILE} is stale: run python tools/gen_output_schemas.py", file=sys.stderr)
            return 1
        return 0
    FIELDS_FILE.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
