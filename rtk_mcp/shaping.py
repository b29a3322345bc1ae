"""API response -> what the agent reads.

The agent gets the response's ``data`` (plus ``paging`` for lists) as compact JSON: the
``success`` flag is dropped (failure is ``isError``), nulls are dropped, and text that came from
meeting participants loses the invisible and bidi-override characters that could hide
instructions from a human reviewing the transcript. Results over the budget are cut item-wise and
stay valid JSON, with a note saying how to fetch the rest.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["shape", "select_fields", "to_json", "fitting", "redact_url", "mask", "maskable", "CREDENTIAL_KEYS",
           "DEFAULT_MAX_TOKENS", "DEFAULT_MAX_CHARS", "CHARS_PER_TOKEN"]

#: The default result budget, in tokens, and how they are counted: o200k averages roughly 4
#: characters of this compact JSON per token, so characters are a cheap, conservative proxy.
DEFAULT_MAX_TOKENS = 25_000
CHARS_PER_TOKEN = 4
DEFAULT_MAX_CHARS = DEFAULT_MAX_TOKENS * CHARS_PER_TOKEN

# Zero-width, bidi embedding/override/isolate, BOM, word joiners and Unicode tag characters: invisible
# in most renderings, so they can smuggle text past a human while the model still reads it. The
# zero-width joiner stays where it joins two emoji (👨‍👩‍👧 is three emoji joined by two of them); next to
# a letter it only hides a word from a filter ("ig\u200dnore"), and goes.
_EMOJI = "\u2190-\u21ff\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\ufe0f\U0001f000-\U0001faff"
_INVISIBLE = re.compile(
    "[\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]"
    f"|(?<![{_EMOJI}])\u200d|\u200d(?![{_EMOJI}])"
)

#: Storage credentials are write-only in the API ("not readable"): if one is ever echoed, it is masked.
CREDENTIAL_KEYS = frozenset({"access_key", "secret", "password", "private_key"})
#: Secret values shorter than this are not masked: replacing "i" everywhere would garble the text.
_MIN_SECRET_CHARS = 4
#: What ``redact=True`` masks too: participant auth tokens and livestream stream keys, which are the
#: point of the calls that return them (and download-URL signatures, see :func:`redact_url`).
_REVEALED_KEYS = frozenset({"token", "stream_key", "streamKey"})
_MASK = "[redacted]"


def maskable(secrets: Iterable[str | None]) -> list[str]:
    """The secret values worth masking (set, and not too short to mask without garbling text)."""
    return [s for s in secrets if s and len(s) >= _MIN_SECRET_CHARS]


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``***``."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def to_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def redact_url(url: str) -> str:
    """A signed URL without its signature: the query string carries it (S3/R2 presigned URLs)."""
    base, sep, _ = url.partition("?")
    return f"{base}?{_MASK}" if sep else url


def _is_download_url(key: str) -> bool:
    folded = key.replace("_", "").lower()  # download_url, chat_download_url, summaryDownloadUrl
    return folded.endswith("downloadurl")


def shape(
    payload: Any,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    redact: bool = False,
    secrets: Iterable[str] = (),
    paging_args: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Trim a parsed RealtimeKit response into the object the agent sees (always a JSON object).

    ``secrets`` (the API token, credentials sent in the request) are masked wherever the API echoes
    them, and so are storage-credential fields. ``redact`` also masks participant tokens, stream keys
    and download-URL signatures. ``paging_args``
    (the request's ``page_no``/``per_page``, for tools that page) let a cut say which page is next.
    """
    cleaner = _Cleaner(redact, maskable(secrets))
    if payload is None:
        return {"ok": True}
    if isinstance(payload, dict) and ("data" in payload or "success" in payload):
        data = cleaner(payload.get("data"))
        paging = cleaner(payload.get("paging"))
        if isinstance(data, dict) and paging is None:
            result: dict[str, Any] = data
        else:
            result = {"data": data} if data is not None else {"ok": True}
            if paging is not None:
                result["paging"] = paging
    else:
        cleaned = cleaner(payload)
        result = cleaned if isinstance(cleaned, dict) else {"data": cleaned}
        result.pop("success", None)  # only the envelope's flag: a nested "success" (a colour) is data
    return _cap(result, max_chars, paging_args)


class _Cleaner:
    def __init__(self, redact: bool, secrets: list[str]) -> None:
        self.redact = redact
        self.secrets = secrets

    def __call__(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self(v, k) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [self(v, key) for v in value if v is not None]
        if isinstance(value, str):
            if key in CREDENTIAL_KEYS or (self.redact and key in _REVEALED_KEYS):
                return _MASK
            if self.redact and _is_download_url(key):
                value = redact_url(value)
            return _INVISIBLE.sub("", mask(value, self.secrets))
        return value


def _cap(result: dict[str, Any], max_chars: int, paging_args: dict[str, Any] | None) -> dict[str, Any]:
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
    start = _start_offset(result, paging_args) if path == ("data",) else None
    # Items are sized once (a multi-megabyte list must not be re-serialised per guess); the note's
    # digits can still tip it over, so step back until the whole result fits.
    room = max_chars - len(to_json(_with_list(result, path, [], total, start))) - 8
    kept = fitting(items, room)
    out = _with_list(result, path, items[:kept], total, start)
    while kept and len(to_json(out)) > max_chars:
        kept -= 1
        out = _with_list(result, path, items[:kept], total, start)
    return out


def fitting(items: list[Any], room: int) -> int:
    """How many leading ``items`` fit, as compact JSON list items, in ``room`` characters."""
    kept, used = 0, 0
    for item in items:
        used += len(to_json(item)) + 1
        if used > room:
            break
        kept += 1
    return kept


def _start_offset(result: dict[str, Any], paging_args: dict[str, Any] | None) -> int | None:
    """Index of this page's first item in the whole list, when the tool pages and it is known."""
    if paging_args is None:
        return None
    paging = result.get("paging")
    if isinstance(paging, dict) and isinstance(paging.get("start_offset"), int) and paging["start_offset"] >= 0:
        return paging["start_offset"]
    page_no, per_page = paging_args.get("page_no"), paging_args.get("per_page")
    if page_no is None or page_no <= 1:
        return 0
    return (page_no - 1) * per_page if per_page else None


def _largest_list(node: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...], list[Any] | None]:
    best: tuple[tuple[str, ...], list[Any] | None] = (path, node) if isinstance(node, list) else ((), None)
    if isinstance(node, dict):
        for key, value in node.items():
            candidate = _largest_list(value, (*path, key))
            if candidate[1] is not None and (best[1] is None or len(to_json(candidate[1])) > len(to_json(best[1]))):
                best = candidate
    return best


def _with_list(
    result: dict[str, Any], path: tuple[str, ...], kept: list[Any], total: int, start: int | None
) -> dict[str, Any]:
    out = json.loads(to_json(result)) if path else {}
    node = out
    for key in path[:-1]:
        node = node[key]
    if path:
        node[path[-1]] = kept
    else:
        out = {"data": kept}
    omitted = total - len(kept)
    note: dict[str, Any] = {"field": ".".join(path) or "data", "returned": len(kept), "omitted": omitted}
    if start is not None:
        # With per_page dividing both this page's start and the items kept, whole pages begin
        # exactly at the first omitted item: pages first..last hold the omitted ones.
        per_page = math.gcd(start, len(kept)) or 1
        first = (start + len(kept)) // per_page + 1
        last = -(-(start + total) // per_page)
        note["next"] = {"page_no": first, "per_page": per_page}
        note["how_to_get_more"] = (
            f"call again with per_page={per_page} and page_no={first}"
            + (f" through {last}" if last > first else "")
            + f" for the {omitted} omitted items"
        )
    else:
        note["how_to_get_more"] = "ask for less: a smaller per_page with the next page_no, or narrower filters"
    out["truncated"] = note
    return out


#: Item keys a ``fields`` selection always keeps: ids and names (``id``, ``name``, ``title``, and
#: any ``*_id`` or ``*_name``), so a trimmed item can still be referred to.
_ALWAYS_KEPT = frozenset({"id", "name", "title"})


def _kept(key: str, wanted: frozenset[str]) -> bool:
    return key in wanted or key in _ALWAYS_KEPT or key.endswith(("_id", "_name"))


def select_fields(payload: Any, fields: Iterable[str] | None) -> Any:
    """Keep only ``fields`` (plus ids and names) of each item of a list response.

    The items are the objects in ``data`` when it is a list, or in any list of objects directly
    under ``data`` (``data.sessions``, ``data.livestreams``). Everything else — paging, the
    envelope, a single object — is left alone. ``fields=None`` returns ``payload`` unchanged.
    """
    if fields is None or not isinstance(payload, dict):
        return payload
    wanted = frozenset(fields)

    def trim(items: list[Any]) -> list[Any]:
        return [{k: v for k, v in item.items() if _kept(k, wanted)} if isinstance(item, dict) else item
                for item in items]

    data = payload.get("data")
    if isinstance(data, list):
        return {**payload, "data": trim(data)}
    if isinstance(data, dict):
        lists = {k: trim(v) for k, v in data.items() if isinstance(v, list) and any(isinstance(i, dict) for i in v)}
        if lists:
            return {**payload, "data": {**data, **lists}}
    return payload
