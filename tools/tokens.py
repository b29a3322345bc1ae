"""Counting what tool definitions and results cost an agent, in o200k tokens.

The tokenizer (``count_tokens.py`` and its BPE ranks) is not shipped in the package: it is looked for
in ``RTK_TOKENIZER_DIR``, then in ``../shared/tokenizer`` beside the checkout. Counting also needs the
``tiktoken`` package (a test extra).
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["token_counter"]

logger = logging.getLogger("rtk_mcp")


def token_counter() -> Callable[[str], int] | None:
    """An exact o200k token counter, or ``None`` when the tokenizer or tiktoken is unavailable."""
    candidates = [os.environ.get("RTK_TOKENIZER_DIR", "").strip(),
                  str(Path(__file__).resolve().parents[2] / "shared" / "tokenizer")]
    for folder in filter(None, candidates):
        script = Path(folder) / "count_tokens.py"
        if not script.is_file():
            continue
        try:
            spec = importlib.util.spec_from_file_location("_rtk_count_tokens", script)
            module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
            spec.loader.exec_module(module)  # type: ignore[union-attr]
            encoding = module.encoding()
        except Exception as exc:  # tiktoken missing, a broken file: the caller falls back
            logger.info("token counter in %s unavailable: %s", folder, exc)
            continue
        return lambda text: len(encoding.encode(text, disallowed_special=()))
    return None
