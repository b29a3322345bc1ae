"""API response -> what the agent reads.

The agent gets the response's ``data`` (plus ``paging`` for lists) as compact JSON: the
``success`` flag is dropped (failure is ``isError``), nulls are dropped, and text that came from
meeting participants loses the invisible and bidi-override characters that could hide
instructions from a human reviewing the transcript. Results over the budget are cut item-wise and
stay valid JSON, with a note saying how to fetch the rest.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["shape", "to_json", "DEFAULT_MAX_CHARS"]

#: About 25,000 tokens of JSON (o200k averages roughly 4 characters per token on this data).
DEFAULT_MAX_CHARS = 100_000

# Zero-width, bidi embedding/override/isolate, BOM, word joiners and Unicode tag characters: invisible
# in most renderings, so they can smuggle text past a human while the model still reads it.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]")


def to_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def shape(payload: Any, *, max_chars: int = DEFAULT_MAX_CHARS) -> dict[str, Any]:
    """Trim a parsed RealtimeKit response into the object the agent sees (always a JSON object)."""
    if payload is None:
        return {"ok": True}
    if isinstance(payload, dict) and ("data" in payload or "success" in payload):
        data = _clean(payload.get("data"))
        paging = _clean(payload.get("paging"))
        if isinstance(data, dict) and paging is None:
            result: dict[str, Any] = data
        else:
            result = {"data": data} if data is not None else {"ok": True}
            if paging is not None:
                result["paging"] = paging
    else:
        cleaned = _clean(payload)
        result = cleaned if isinstance(cleaned, dict) else {"data": cleaned}
    return _cap(result, max_chars)


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None and k != "success"}
    if isinstance(value, list):
        return [_clean(v) for v in value if v is not None]
    if isinstance(value, str):
        return _INVISIBLE.sub("", value)
    return value


def _cap(result: dict[str, Any], max_chars: int) -> dict[str, Any]:
    if len(to_json(result)) <= max_chars:
        return result
    path, items = _largest_list(result)
    if items is None:
        return {
            "truncated": True,
            "note": f"The result was {len(to_json(result))} characters, over the {max_chars} budget, "
            "and has no list to shorten. Ask for less (narrower filters).",
        }
    total = len(items)
    # Binary search for the most items that keep the whole result within budget.
    low, high = 0, total
    while low < high:
        mid = (low + high + 1) // 2
        if len(to_json(_with_list(result, path, items[:mid], total))) <= max_chars:
            low = mid
        else:
            high = mid - 1
    return _with_list(result, path, items[:low], total)


def _largest_list(node: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...], list[Any] | None]:
    best: tuple[tuple[str, ...], list[Any] | None] = (path, node) if isinstance(node, list) else ((), None)
    if isinstance(node, dict):
        for key, value in node.items():
            candidate = _largest_list(value, (*path, key))
            if candidate[1] is not None and (best[1] is None or len(to_json(candidate[1])) > len(to_json(best[1]))):
                best = candidate
    return best


def _with_list(result: dict[str, Any], path: tuple[str, ...], kept: list[Any], total: int) -> dict[str, Any]:
    out = json.loads(to_json(result)) if path else {}
    node = out
    for key in path[:-1]:
        node = node[key]
    if path:
        node[path[-1]] = kept
    else:
        out = {"data": kept}
    out["truncated"] = {
        "field": ".".join(path) or "data",
        "returned": len(kept),
        "omitted": total - len(kept),
        "how_to_get_more": "call again with a smaller per_page and the next page_no, or with narrower filters",
    }
    return out
