"""Lines a stdio client sends that the server cannot take, and the JSON-RPC error answering each.

JSON-RPC 2.0 answers every request, including one it cannot read: a line that is not JSON gets
``-32700`` (Parse error) with ``id: null``, and a message that is not a valid request gets
``-32600`` (Invalid Request), with the request's id when it can be read and ``null`` otherwise.
The SDK's transport drops such lines silently, which leaves a client waiting forever, so each line is
screened before the SDK sees it. Lone UTF-16 surrogates (what JavaScript leaves when it cuts an
emoji in half) are valid JSON but not valid text: they are replaced by U+FFFD and the request goes on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Screened", "screen", "overlong_line", "deeper_than", "PARSE_ERROR", "INVALID_REQUEST", "MAX_DEPTH",
           "MAX_LINE_CHARS", "MAX_VALUES"]

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
#: Messages nested deeper than this are refused: no MCP message comes close, and parsers recurse.
MAX_DEPTH = 64
#: Longer lines are refused unread: far above any call the tools accept (their strings are capped
#: far lower), and what bounds the memory one line can take while it is parsed.
MAX_LINE_CHARS = 1 << 20
#: Values (objects, arrays, strings, numbers) one message may hold: parsed, each takes memory for as
#: long as the request waits, and no call the tools accept comes near.
MAX_VALUES = 20_000
#: After JSON decoding, surrogates can only be lone ones (pairs decode to one character).
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Screened:
    """Either the line to pass on (``line``, possibly repaired) or the error to answer (``reply``);
    neither for a blank line."""

    line: str | None = None
    reply: dict[str, Any] | None = None


def _error(request_id: Any, code: int, message: str) -> Screened:
    return Screened(reply={"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}})


def screen(line: str) -> Screened:
    text = line.strip()
    if not text:
        return Screened()
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return _error(None, PARSE_ERROR, "Parse error: the line is not valid JSON")
    too_deep, values = _measure(message, MAX_DEPTH)
    if too_deep:
        return _error(_readable_id(message), INVALID_REQUEST, f"Invalid Request: nested more than {MAX_DEPTH} levels")
    if isinstance(message, list):
        return _error(None, INVALID_REQUEST, "Invalid Request: batches are not supported; send one message per line")
    if values > MAX_VALUES:
        return _error(_readable_id(message), INVALID_REQUEST, f"Invalid Request: more than {MAX_VALUES} values")
    if not isinstance(message, dict):
        return _error(None, INVALID_REQUEST, "Invalid Request: a message must be a JSON object")
    request_id = _readable_id(message)
    if "id" in message and request_id is None:
        return _error(None, INVALID_REQUEST, "Invalid Request: id must be a string or an integer")
    if message.get("jsonrpc") != "2.0":
        return _error(request_id, INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0"')
    if "method" in message:
        if "result" in message or "error" in message:
            return _error(request_id, INVALID_REQUEST, "Invalid Request: a request carries no result or error")
        if not isinstance(message["method"], str):
            return _error(request_id, INVALID_REQUEST, "Invalid Request: method must be a string")
        # ``"params": null`` is how some clients write "no params"; the SDK accepts it too.
        if message.get("params") is not None and not isinstance(message["params"], dict):
            return _error(request_id, INVALID_REQUEST, "Invalid Request: params must be an object")
    elif request_id is None or ("result" not in message and "error" not in message):
        return _error(request_id, INVALID_REQUEST, "Invalid Request: neither a request, a notification nor a response")
    repaired = _without_lone_surrogates(message)
    return Screened(line=text if repaired is message else json.dumps(repaired, ensure_ascii=False))


def overlong_line() -> Screened:
    """The answer to a line over :data:`MAX_LINE_CHARS`, whose id was never read."""
    return _error(None, INVALID_REQUEST, f"Invalid Request: the line is over {MAX_LINE_CHARS} characters")


def _readable_id(message: Any) -> str | int | None:
    if isinstance(message, dict):
        request_id = message.get("id")
        if isinstance(request_id, (str, int)) and not isinstance(request_id, bool):
            return request_id if isinstance(request_id, int) else _without_lone_surrogates(request_id)
    return None


def _measure(value: Any, max_depth: int) -> tuple[bool, int]:
    """Whether ``value`` nests deeper than ``max_depth``, and how many values it holds (itself
    included; counted as far as the walk went). Measured level by level in one walk: parsers and
    serialisers recurse, so nesting must be found without recursing."""
    level: list[Any] = [value]
    count = depth = 1
    while level := [child for node in level
                    for child in (node.values() if isinstance(node, dict) else node if isinstance(node, list) else ())]:
        if depth > max_depth:
            return True, count
        count += len(level)
        depth += 1
    return False, count


def deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests deeper than ``limit``."""
    return _measure(value, limit)[0]


def _without_lone_surrogates(value: Any) -> Any:
    """``value`` with each lone surrogate replaced by U+FFFD; the same object when there is none."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value) if _LONE_SURROGATE.search(value) else value
    if isinstance(value, dict):
        items = {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
        changed = any(a is not b or ka is not kb for (ka, a), (kb, b) in zip(items.items(), value.items()))
        return items if changed else value
    if isinstance(value, list):
        items_list = [_without_lone_surrogates(v) for v in value]
        return items_list if any(a is not b for a, b in zip(items_list, value)) else value
    return value
