"""Regenerate ``rtk_mcp/catalog/schemas.json``: every tool's input schema, pre-generated.

Start-up speed only: the server uses the file while its key matches the catalog source (and the
pydantic version), and generates the schemas itself otherwise. Run after changing the catalog:

    .venv/bin/python tools/gen_schema_cache.py
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rtk_mcp.catalog import ENDPOINTS  # noqa: E402
from rtk_mcp.catalog.endpoint import SCHEMA_CACHE, generate_schema_cache  # noqa: E402

SCHEMA_CACHE.write_text(json.dumps(generate_schema_cache([ep.params for ep in ENDPOINTS]), separators=(",", ":")) + "\n")
print(f"wrote {SCHEMA_CACHE}")
