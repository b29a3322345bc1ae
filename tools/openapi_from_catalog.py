"""Write an OpenAPI 3.1 document of the RealtimeKit endpoints, generated from rtk-mcp's own catalog.

Used by ``tools/benchmark.py`` to build the generic peer (FastMCP's OpenAPI-to-MCP generator) over
exactly the endpoints and parameters rtk-mcp exposes: same operations (``operationId`` = tool
name), same path/query/body split, same parameter schemas (the default form, every ``type``
spelled out) and descriptions. ``account_id`` is part of the server URL, as it is part of
rtk-mcp's environment. Responses carry the reference's response schema of each operation
(``../shared/reference/endpoints.json``, ``$defs`` inlined), as a document generated from
Cloudflare's OpenAPI spec would: that is what a user generating a server gets, and what the
generator pays to build.

    python tools/openapi_from_catalog.py [--server-url URL] [--out openapi.json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rtk_mcp import __version__  # noqa: E402
from rtk_mcp.catalog import ENDPOINTS, input_schema  # noqa: E402
from rtk_mcp.catalog.endpoint import FIELDS_ARG  # noqa: E402

__all__ = ["openapi_document"]

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "endpoints.json"

_ENVELOPE = {
    "type": "object",
    "properties": {
        "success": {"type": "boolean"},
        "data": {"description": "The requested object or list"},
        "paging": {"type": "object", "properties": {"total_count": {"type": "integer"},
                                                    "start_offset": {"type": "integer"},
                                                    "end_offset": {"type": "integer"}}},
    },
}


def _parameter(name: str, where: str, schema: dict[str, Any], required: bool) -> dict[str, Any]:
    schema = dict(schema)
    description = schema.pop("description", None)
    out: dict[str, Any] = {"name": name, "in": where, "required": required, "schema": schema}
    if description:
        out["description"] = description
    return out


def _route(method: str, path: str) -> tuple[str, str]:
    """A path with its placeholders blanked, so the catalog's and the reference's spellings match."""
    return method.upper(), re.sub(r"\{[^}]*\}", "{}", path.removeprefix("/accounts/{account_id}/realtime/kit"))


def _inlined(schema: Any, defs: dict[str, Any]) -> Any:
    """``schema`` with every ``#/$defs/...`` reference replaced by its definition."""
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        if ref.startswith("#/$defs/"):
            return _inlined(defs[ref.removeprefix("#/$defs/")], defs)
        return {key: _inlined(value, defs) for key, value in schema.items() if key != "$defs"}
    if isinstance(schema, list):
        return [_inlined(item, defs) for item in schema]
    return schema


def _response_schemas() -> dict[tuple[str, str], Any]:
    operations = json.loads(REFERENCE.read_text())["endpoints"]
    return {_route(op["method"], op["path"]): _inlined(op["response_schema"], op["response_schema"].get("$defs", {}))
            for op in operations if op.get("response_schema")}


def openapi_document(server_url: str) -> dict[str, Any]:
    """The document; ``server_url`` ends in ``/accounts/{account}/realtime/kit``."""
    paths: dict[str, dict[str, Any]] = {}
    responses = _response_schemas()
    for ep in ENDPOINTS:
        schema = input_schema(ep.params)
        properties: dict[str, Any] = {k: v for k, v in schema.get("properties", {}).items() if k != FIELDS_ARG}
        required = set(schema.get("required", []))
        parameters = [_parameter(name, "path", {**properties.get(name, {}), "type": "string"}, True)
                      for name in ep.path_fields]
        rest = {k: v for k, v in properties.items() if k not in ep.path_fields}
        operation: dict[str, Any] = {
            "operationId": ep.name,
            "summary": ep.title,
            "description": ep.description,
            "tags": [ep.group],
        }
        if ep.in_query:
            parameters += [_parameter(name, "query", sub, name in required) for name, sub in rest.items()]
        elif rest:
            body: dict[str, Any] = {"type": "object", "properties": rest}
            if required & set(rest):
                body["required"] = [name for name in rest if name in required]
            operation["requestBody"] = {"required": bool(required & set(rest)),
                                        "content": {"application/json": {"schema": body}}}
        operation["parameters"] = parameters
        response = responses.get(_route(ep.method, ep.path), _ENVELOPE)
        operation["responses"] = {"200": {"description": "OK", "content": {"application/json": {"schema": response}}}}
        paths.setdefault(ep.path, {})[ep.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Cloudflare RealtimeKit (from the rtk-mcp catalog)", "version": __version__},
        "servers": [{"url": server_url}],
        "paths": paths,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-url", default="https://api.cloudflare.com/client/v4/accounts/ACCOUNT/realtime/kit")
    parser.add_argument("--out", default="-", help="file to write (default: stdout)")
    args = parser.parse_args()
    text = json.dumps(openapi_document(args.server_url), indent=1)
    if args.out == "-":
        print(text)
    else:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
