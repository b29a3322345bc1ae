"""Counting what tool definitions and results cost an agent, in o200k tokens.

The tokenizer's BPE ranks are not shipped in the package: they are looked for in ``RTK_TOKENIZER_DIR``,
then in ``../shared/tokenizer`` beside the checkout, and read as ``rtk-mcp tools`` reads them. Counting
also needs the ``tiktoken`` package (a test extra).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from rtk_mcp.cli import o200k_counter

__all__ = ["token_counter"]


def token_counter() -> Callable[[str], int] | None:
    """An exact o200k token counter, or ``None`` when the tokenizer or tiktoken is unavailable."""
    candidates = [os.environ.get("RTK_TOKENIZER_DIR", ""),
                  str(Path(__file__).resolve().parents[2] / "shared" / "tokenizer")]
    return next(filter(None, map(o200k_counter, candidates)), None)
