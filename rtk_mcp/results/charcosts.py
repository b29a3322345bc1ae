"""How many o200k tokens each non-ASCII character costs on its own: one byte each, zlib-compressed, in
``charcosts.bin`` beside this file (written by tools/gen_char_costs.py).

A character's own count is what merges with its neighbours can only lower, so an estimate built on it
is never below the real count for these characters.
"""

from __future__ import annotations

import functools
import zlib
from pathlib import Path

__all__ = ["FIRST_TABLE", "SECOND_TABLE", "char_cost"]

#: The Basic Multilingual Plane above ASCII, and the emoji blocks.
FIRST_TABLE = range(0x80, 0x10000)
SECOND_TABLE = range(0x1F000, 0x1FB00)


@functools.cache
def _costs() -> bytes:
    return zlib.decompress(Path(__file__).with_name("charcosts.bin").read_bytes())


def char_cost(ch: str) -> int:
    """Tokens of ``ch`` alone: from the table, else its UTF-8 length (byte-level tokens at worst)."""
    cp = ord(ch)
    if cp in FIRST_TABLE:
        return _costs()[cp - FIRST_TABLE.start]
    if cp in SECOND_TABLE:
        return _costs()[len(FIRST_TABLE) + cp - SECOND_TABLE.start]
    return len(ch.encode("utf-8", "surrogatepass"))
