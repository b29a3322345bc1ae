"""Invisible and control characters, chosen by Unicode property: what is stripped from text that
meeting participants wrote before an agent reads it, and what arguments may not carry.

Such characters draw nothing (or only steer how neighbours are drawn), so they can smuggle text past a
human reading a transcript while the model still reads it, or hide a word from a filter.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

__all__ = ["has_invisible", "is_invisible", "mask", "maskable", "shortened", "strip_invisible"]

#: Shorter secrets are not masked: replacing every "ab" would garble text and reveal nothing.
_MIN_SECRET_CHARS = 4

#: Chosen by Unicode property, not listed by hand (see :func:`is_invisible`): format (zero-width, bidi,
#: tags, BOM, ...), lone surrogates, and private use (drawn as nothing or as a font's own glyph: a reader
#: cannot tell what it says, and runs of it can carry hidden bytes).
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cs", "Co"})
#: Controls other than these are terminal escapes and noise, not text.
_KEPT_CONTROLS = frozenset("\t\n\r")
#: Characters of other categories that are invisible by definition, recognised by their Unicode name:
#: variation selectors (which can also carry hidden bytes in long runs), the Mongolian free
#: variation selectors, the Hangul fillers, and the combining grapheme joiner.
_INVISIBLE_NAMES = ("VARIATION SELECTOR", "FILLER", "COMBINING GRAPHEME JOINER")
#: The rest of Unicode's Default_Ignorable_Code_Point property that no category or name above covers
#: (the Khmer inherent vowels), and the Braille blank, a "letter" that draws nothing.
_INVISIBLE_OTHERS = frozenset("\u17b4\u17b5\u2800")
#: Planes searched for them: the others hold only ideographs (2, 3) and private use (15, 16, added whole).
_PLANES_WITH_INVISIBLES = (range(0x0000, 0x20000), range(0xE0000, 0xF0000))
_PRIVATE_USE_PLANES = "\U000f0000-\U0010ffff"

_ZWJ, _VS15, _VS16, _BLACK_FLAG = "\u200d", "\ufe0e", "\ufe0f", "\U0001f3f4"
_EMOJI = re.compile("[\u00a9\u00ae\u203c-\u3299\U0001f000-\U0001faff]")
#: The emoji tag sequences Unicode recommends (England, Scotland, Wales): black flag, tag letters, cancel tag.
_KEYCAP_BASES = frozenset("0123456789#*")
_FLAG_TAGS = frozenset("".join(chr(0xE0000 + ord(c)) for c in code) + "\U000e007f" for code in ("gbeng", "gbsct", "gbwls"))


def is_invisible(ch: str) -> bool:
    """Whether ``ch`` is stripped from text: format characters (category Cf: zero-width spaces and
    joiners, bidi marks, embeddings, overrides and isolates, the BOM, word joiners, tag characters,
    invisible operators, soft hyphens), lone surrogates, control characters other than tab and
    line breaks, variation selectors, fillers, the grapheme joiner, the rest of Unicode's default-ignorable
    code points, the Braille blank, private-use characters, and unassigned code points in the Basic
    Multilingual Plane and the special-purpose plane (where new ones would be of this kind)."""
    category = unicodedata.category(ch)
    if category in _INVISIBLE_CATEGORIES or ch in _INVISIBLE_OTHERS or (category == "Cc" and ch not in _KEPT_CONTROLS):
        return True
    if category == "Cn":
        return ord(ch) < 0x10000 or 0xE0000 <= ord(ch) < 0xF0000
    name = unicodedata.name(ch, "")
    return any(part in name for part in _INVISIBLE_NAMES)


@functools.cache
def _invisible_runs() -> re.Pattern[str]:
    """A pattern matching runs of invisible characters, built on first use from the Unicode database."""
    ranges: list[str] = []
    start = previous = -2
    for plane in _PLANES_WITH_INVISIBLES:
        for cp in plane:
            if not is_invisible(chr(cp)):
                continue
            if cp != previous + 1:
                if start >= 0:
                    ranges.append(_char_range(start, previous))
                start = cp
            previous = cp
    ranges.append(_char_range(start, previous))
    return re.compile(f"[{''.join(ranges)}{_PRIVATE_USE_PLANES}]+")


def _char_range(first: int, last: int) -> str:
    return re.escape(chr(first)) if first == last else f"{re.escape(chr(first))}-{re.escape(chr(last))}"


def has_invisible(text: str) -> bool:
    """Whether :func:`strip_invisible` would remove anything from ``text``."""
    return _invisible_runs().search(text) is not None


def strip_invisible(text: str) -> str:
    """``text`` without invisible characters (see :func:`is_invisible`), keeping only what emoji need.

    Kept: one variation selector 15/16 right after an emoji or a keycap base (text or emoji
    presentation, as in ❤️ or 1️⃣), a zero-width joiner between two emoji (👨‍👩‍👧, 🏳️‍🌈), and the tag sequences of the
    three recommended subdivision flags (🏴󠁧󠁢󠁥󠁮󠁧󠁿). A joiner next to a letter only hides a word from a
    filter ("ig\u200dnore"), and goes.
    """
    # With no match, sub hands back ``text`` itself: no search first, which would scan it twice.
    return _invisible_runs().sub(lambda match: _kept_of_run(match.string, match.start(), match.end()), text)


def _kept_of_run(text: str, start: int, end: int) -> str:
    run = text[start:end]
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if before == _BLACK_FLAG and run in _FLAG_TAGS:
        return run
    kept = ""
    if run[0] in (_VS15, _VS16) and before and (_EMOJI.match(before) or before in _KEYCAP_BASES):
        kept = run[0]
    joins_emoji = bool(before) and _EMOJI.match(before) is not None and after != "" and _EMOJI.match(after) is not None
    if run[-1] == _ZWJ and joins_emoji and set(run[len(kept):]) == {_ZWJ} and len(run) - len(kept) == 1:
        kept += _ZWJ
    return kept


def maskable(secrets: Iterable[str | None]) -> list[str]:
    """The secret values worth masking (set, and not too short to mask without garbling text)."""
    return [s for s in secrets if s and len(s) >= _MIN_SECRET_CHARS]


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``***``."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def shortened(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, the last one an ellipsis where it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
