"""API response -> what the agent reads.

The agent gets the response's ``data`` (plus ``paging`` for lists) as compact JSON: the ``success`` flag is
dropped (failure is ``isError``), nulls are dropped, and text that came from meeting participants loses the
invisible and bidi-override characters that could hide instructions from a human reviewing the transcript.
Results over the budget are cut item-wise and stay valid JSON, with a note saying how to fetch the rest.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

from rtk_mcp.results.charcosts import char_cost
from rtk_mcp.sanitize import mask, maskable, strip_invisible

__all__ = ["CREDENTIAL_KEYS", "clean_text", "estimate_tokens", "fitting", "prefix_within", "select_fields", "shape",
           "to_json", "without_repeats"]


_IDEOGRAPHS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
#: Roughly how o200k splits text before merging: ASCII words (split where the case changes), words in
#: other alphabets, up to three digits, runs of punctuation, whitespace; any other character alone.
_PIECE = re.compile(
    "[A-Z]?[a-z]+|[A-Z]+(?![a-z])"
    f"|[^\\W\\d_{_IDEOGRAPHS}]+"
    "|[0-9]{1,3}"
    "| (?=\\S)|\\s+"
    "|[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]+"
    "|.",
    re.S,
)
_VOWELS = frozenset("aeiouyAEIOUY")
_RARE_LETTERS = frozenset("jqxzkvwJQXZKVW")
_CONSONANT_CLUSTER = re.compile("[^aeiouyAEIOUY]{4}")


def estimate_tokens(text: str) -> int:
    """About how many o200k tokens ``text`` is, without the tokenizer (which is not shipped).

    Built to err high: every kind of content measured (ids, hex, timestamps, base64, random letters, CJK,
    emoji, symbols, other planes) comes out at most about 10% below the real count, and ordinary results
    (English text, ids and timestamps in JSON) about 10-20% above it. Words that look like words cost one token
    per eight letters; letter runs that don't (random ids, keys) one per 1.7; each group of up to three digits
    one; punctuation runs about 0.7 per character; and characters beyond ASCII what they cost alone
    (:mod:`rtk_mcp.results.charcosts`), which merges only lower, or for a word in another alphabet a third of
    its UTF-8 bytes if that is less. Text in alphabets other than Latin is overestimated most (up to about 2.5
    times), so such results are cut early, never late.
    """
    total = 0.0
    for match in _PIECE.finditer(text):
        piece = match.group()
        first, n = piece[0], len(piece)
        if first == " " and n == 1:
            continue  # one space joins the word after it
        if first.isascii():
            if first.isalpha():
                total += 1 if n <= 2 else math.ceil(n / 8) if _looks_like_a_word(piece) else max(1.0, n / 1.7)
            elif first.isdigit() or first.isspace():
                total += 1
            else:
                total += 1 if n <= 3 else math.ceil(n * 0.7)
        elif first.isalpha() and n > 1:
            total += min(sum(map(char_cost, piece)), math.ceil(len(piece.encode()) / 3))
        else:
            total += char_cost(first)
    return math.ceil(total)


def _looks_like_a_word(letters: str) -> bool:
    """Vowels enough, no four consonants in a row, at most one rare letter: what BPE merges whole."""
    n = len(letters)
    return (n <= 20 and not _CONSONANT_CLUSTER.search(letters)
            and sum(ch in _VOWELS for ch in letters) >= 0.2 * n
            and sum(ch in _RARE_LETTERS for ch in letters) < 2)

#: Storage credentials are write-only in the API ("not readable"): if one is ever echoed, it is masked.
CREDENTIAL_KEYS = frozenset({"access_key", "secret", "password", "private_key"})
#: What ``redact=True`` masks too: participant auth tokens and livestream stream keys, which are the
#: point of the calls that return them (and download-URL signatures).
_REVEALED_KEYS = frozenset({"token", "stream_key", "streamKey"})
_MASK = "[redacted]"
#: A JSON Web Token (participant auth tokens are JWTs): header.payload.signature, base64url.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


def to_json(value: Any) -> str:
    # allow_nan=False: a NaN that got this far is a bug to hear about, not invalid JSON to send.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def shape(
    payload: Any, *, max_tokens: int, redact: bool, secrets: Iterable[str], paging_args: dict[str, Any] | None,
    selectable: bool,
) -> dict[str, Any]:
    """Trim a parsed RealtimeKit response into the object the agent sees (always a JSON object).

    ``secrets`` (the API token, credentials sent in the request) are masked wherever the API echoes them, and
    so are storage-credential fields. ``redact`` also masks participant tokens, stream keys and download-URL
    signatures. ``paging_args`` (the request's ``page_no``/``per_page``, for tools that page) let a cut say
    which page is next; ``selectable`` says the tool takes ``fields``, so a cut can suggest it.
    """
    cleaner = functools.partial(_cleaned, secrets=maskable(secrets), redact=redact)
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
    return _cap(result, max_tokens, paging_args, selectable)


def clean_text(text: str, secrets: Iterable[str], redact: bool = False) -> str:
    """``text`` as the agent may see it: invisible characters stripped, then secrets masked (in that order, so
    a secret echoed with a zero-width space inside is still recognised). ``redact`` also masks anything
    shaped like a participant token (a JWT) wherever it appears."""
    text = mask(strip_invisible(text), secrets)
    return _JWT.sub(_MASK, text) if redact else text


def _cleaned(value: Any, key: str = "", *, secrets: list[str], redact: bool) -> Any:
    """``value`` (found under ``key``) cleaned; ``None`` for what is dropped (nulls, and numbers JSON cannot carry)."""
    if isinstance(value, dict):
        cleaned = ((clean_text(k, secrets, redact), v) for k, v in value.items())
        return {k: c for k, v in cleaned if (c := _cleaned(v, k, secrets=secrets, redact=redact)) is not None}
    if isinstance(value, list):
        return [c for v in value if (c := _cleaned(v, key, secrets=secrets, redact=redact)) is not None]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN or Infinity from a lenient parser: not JSON, so not passed on
    if isinstance(value, str):
        if key in CREDENTIAL_KEYS or (redact and key in _REVEALED_KEYS):
            return _MASK
        # download_url, chat_download_url, summaryDownloadUrl: a presigned URL's query carries its signature.
        if redact and key.replace("_", "").lower().endswith("downloadurl") and "?" in value:
            value = f"{value.partition('?')[0]}?{_MASK}"
        return clean_text(value, secrets, redact)
    return value


def _cap(result: dict[str, Any], max_tokens: int, paging_args: dict[str, Any] | None,
         selectable: bool) -> dict[str, Any]:
    text = to_json(result)
    # Every o200k token stands for at least one UTF-8 byte, so a result of no more bytes than the
    # budget fits whatever its content; most results are that small and skip the estimate.
    if len(text.encode()) <= max_tokens or (size := estimate_tokens(text)) <= max_tokens:
        return result
    path, items = max(_lists(result), key=lambda found: len(to_json(found[1])), default=((), None))
    if items is None:
        return {"truncated": True, "note": f"The result was about {size} tokens, over the {max_tokens} budget, "
                "and has no list to shorten. Ask for less (narrower filters)."}
    start = _start_offset(result, paging_args) if path == ("data",) else None
    cut = functools.partial(_with_list, result, path, total=len(items), start=start, selectable=selectable)
    # Items are sized once (a multi-megabyte list must not be re-serialised per guess); the note's
    # digits can still tip it over, so step back until the whole result fits.
    kept = fitting(items, max_tokens - estimate_tokens(to_json(cut([]))) - 8)
    while True:
        out = cut(items[:kept])
        if not kept or estimate_tokens(to_json(out)) <= max_tokens:
            return out
        kept -= 1


def fitting(items: list[Any], room: int) -> int:
    """How many leading ``items`` fit, as compact JSON list items, in ``room`` tokens (estimated)."""
    used = 0
    for kept, item in enumerate(items):
        used += estimate_tokens(to_json(item)) + 1
        if used > room:
            return kept
    return len(items)


def prefix_within(text: str, room: int) -> str:
    """The longest prefix of ``text`` whose JSON string is within ``room`` tokens (estimated)."""
    # No piece of text is cheaper than a token per 12 characters bar long runs of one character, so
    # the prefix is no longer than that; the estimate grows with the prefix: bisect on its length.
    low, high = 0, min(len(text), max(room, 0) * 12)
    while low < high:
        middle = (low + high + 1) // 2
        if estimate_tokens(to_json(text[:middle])) <= room:
            low = middle
        else:
            high = middle - 1
    return text[:low]


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


def _lists(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], list[Any]]]:
    """Every list in ``node`` that is not inside another list, with the keys that lead to it."""
    if isinstance(node, list):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _lists(value, (*path, key))


_FIELDS_HINT = "fields (only the item fields you need)"


def _with_list(
    result: dict[str, Any], path: tuple[str, ...], kept: list[Any], *, total: int, start: int | None, selectable: bool,
) -> dict[str, Any]:
    """``result`` with only ``kept`` of the list at ``path``, and a note on what was left out."""
    # Copies of the objects on the way to the list, the only ones changed; the rest (the long list
    # included) is shared, not copied on every guess of how many items fit.
    out = node = dict(result)
    for key in path[:-1]:
        node[key] = node = dict(node[key])
    node[path[-1]] = kept
    omitted = total - len(kept)
    note: dict[str, Any] = {"field": ".".join(path), "returned": len(kept), "omitted": omitted}
    if start is not None and kept:
        # Pages of as many items as fitted: the page holding the first omitted item may repeat a few
        # returned ones, but the rest takes a handful of calls, not one per item.
        per_page = len(kept)
        first = (start + len(kept)) // per_page + 1
        last = -(-(start + total) // per_page)
        repeated = start + len(kept) - (first - 1) * per_page
        note["next"] = {"page_no": first, "per_page": per_page}
        note["how_to_get_more"] = (
            f"call again with per_page={per_page} and page_no={first}"
            + (f" through {last}" if last > first else "")
            + f" for the {omitted} omitted items"
            + (f" (the first {repeated} items of page {first} were returned here)" if repeated else "")
            + (f", or pass {_FIELDS_HINT} to get more items per call" if selectable else "")
        )
    else:
        note["how_to_get_more"] = ("ask for less: " + (f"pass {_FIELDS_HINT}, " if selectable else "")
                                   + "a smaller per_page with the next page_no, or narrower filters")
    out["truncated"] = note
    return out


#: Item keys a ``fields`` selection always keeps: ids and names (``id``, ``name``, ``title``, and
#: any ``*_id`` or ``*_name``), so a trimmed item can still be referred to.
_ALWAYS_KEPT = frozenset({"id", "name", "title"})


def _kept(key: str, wanted: frozenset[str]) -> bool:
    return key in wanted or key in _ALWAYS_KEPT or key.endswith(("_id", "_name"))


def select_fields(payload: Any, fields: Iterable[str] | None) -> Any:
    """Keep only ``fields`` (plus ids and names) of each item of a list response.

    The items are the objects in ``data`` when it is a list, or in any list of objects directly under ``data``
    (``data.sessions``, ``data.livestreams``). Everything else — paging, the envelope, a single object — is
    left alone. ``fields=None`` returns ``payload`` unchanged.
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
        # One item as ``data`` itself, with its paging inside: how list_livestreams is documented.
        return {**payload, "data": {k: v for k, v in data.items() if _kept(k, wanted) or k == "paging"}}
    return payload


def without_repeats(tool: str, payload: Any) -> Any:
    """A peer report without what it says twice: get_peer_report's ``peer_report.metadata`` repeats the device,
    IP and event sections of ``peer_stats`` (a subset of their values, under other keys), and carries empty
    arrays for devices and transports. Those sections and every empty array or object go, as nulls go from
    every result. Other tools' results are returned as they are."""
    data = payload.get("data") if isinstance(payload, dict) else None
    participant = data.get("participant") if isinstance(data, dict) else None
    if tool != "get_peer_report" or not isinstance(participant, dict):
        return payload
    stats = participant.get("peer_stats") if isinstance(participant.get("peer_stats"), dict) else {}
    report = participant.get("peer_report")
    metadata = report.get("metadata") if isinstance(report, dict) else None
    if isinstance(metadata, dict):
        told = [_scalars(section) for section in stats.values() if isinstance(section, (dict, list))]
        metadata = {key: value for key, value in metadata.items()
                    if not (isinstance(value, (dict, list)) and value
                            and any(_scalars(value) <= values for values in told))}
        participant = {**participant, "peer_report": {**report, "metadata": metadata}}
    return {**payload, "data": {**data, "participant": _without_empties(participant)}}


def _scalars(node: Any) -> set[str]:
    """Every value at the leaves of ``node``, whatever key it sits under (as JSON, so 1 and true differ)."""
    if isinstance(node, (dict, list)):
        return set().union(*map(_scalars, node.values() if isinstance(node, dict) else node))
    return {to_json(node)}


def _without_empties(node: Any) -> Any:
    if isinstance(node, dict):
        kept = {k: _without_empties(v) for k, v in node.items()}
        return {k: v for k, v in kept.items() if v != [] and v != {}}
    if isinstance(node, list):
        return [_without_empties(item) for item in node]
    return node
