"""Every tool definition an agent sees is pinned in tests/toolsnaps/, so any change is a reviewable diff.

Regenerate after an intended change with: UPDATE_SNAPSHOTS=1 pytest tests/catalog/test_tool_snapshots.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import FakeAPI, connect

SNAPSHOTS = Path(__file__).parents[1] / "toolsnaps"


async def test_tool_definitions_match_their_snapshots() -> None:
    async with connect(FakeAPI()) as client:
        listed = await client.list_tools()
    update = os.environ.get("UPDATE_SNAPSHOTS") == "1"
    SNAPSHOTS.mkdir(exist_ok=True)
    current = {tool.name: tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in listed.tools}
    stale = sorted({p.stem for p in SNAPSHOTS.glob("*.json")} - set(current))
    mismatched, missing = [], []
    for name, definition in current.items():
        path = SNAPSHOTS / f"{name}.json"
        text = json.dumps(definition, indent=2, sort_keys=True) + "\n"
        if update:
            path.write_text(text)
        elif not path.exists():
            missing.append(name)
        elif path.read_text() != text:
            mismatched.append(name)
    if update:
        for name in stale:
            (SNAPSHOTS / f"{name}.json").unlink()
        return
    assert not missing, f"no snapshot for {missing}; run with UPDATE_SNAPSHOTS=1 and review the diff"
    assert not stale, f"snapshots for tools that no longer exist: {stale}"
    assert not mismatched, f"tool definitions changed: {mismatched}; run with UPDATE_SNAPSHOTS=1 and review the diff"
