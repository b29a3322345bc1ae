"""Print each tool's input-schema token cost (o200k) for the given catalog modules (maintainer aid)."""

import importlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared" / "tokenizer"))
import count_tokens  # noqa: E402

from rtk_mcp.catalog.endpoint import input_schema  # noqa: E402

total = 0
for mod_name in sys.argv[1:]:
    module = importlib.import_module(f"rtk_mcp.catalog.{mod_name}")
    for ep in module.ENDPOINTS:
        schema = json.dumps(input_schema(ep.params), separators=(",", ":"))
        n = count_tokens.count(schema)
        d = count_tokens.count(ep.description)
        total += n + d
        print(f"{ep.name:40} schema={n:5} description={d:4}")
print("total", total)
