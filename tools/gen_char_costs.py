"""Write rtk_mcp/results/charcosts.bin: how many o200k tokens each non-ASCII character costs on its own.

The result cap estimates tokens without the tokenizer (which is not shipped); for characters beyond
ASCII, a character's own token count is what merges can only lower, so the estimate is never below
the real count there. Covers the Basic Multilingual Plane and the emoji blocks; other characters are
costed at their UTF-8 length. Run after a tokenizer change: ``python tools/gen_char_costs.py``.
"""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rtk_mcp.results.charcosts import FIRST_TABLE, SECOND_TABLE  # noqa: E402
from tools.tokens import token_counter  # noqa: E402


def main() -> int:
    count = token_counter()
    if count is None:
        print("the o200k tokenizer is needed (RTK_TOKENIZER_DIR, and tiktoken)", file=sys.stderr)
        return 1
    costs = bytearray()
    for block in (FIRST_TABLE, SECOND_TABLE):
        for cp in block:
            # Lone surrogates cannot be encoded; they are stripped from results anyway.
            costs.append(3 if 0xD800 <= cp < 0xE000 else count(chr(cp)))
    target = ROOT / "rtk_mcp" / "results" / "charcosts.bin"
    target.write_bytes(zlib.compress(bytes(costs), 9))
    print(f"wrote {target} ({len(costs)} characters)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
