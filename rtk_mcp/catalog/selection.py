"""Which tools a server exposes: toolsets, explicit names or globs, exclusions, and read-only mode.

Every tool definition costs tokens in every conversation, and some clients cap how many tools they
load, so users can expose only what they need. Read-only mode is applied last and wins over
everything, so naming a write tool explicitly never brings it back.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence

from rtk_mcp.catalog import ENDPOINTS, GROUPS, Endpoint

__all__ = ["select", "DEFAULT_TOOLSET", "TOOLSETS", "SelectionError", "split_list"]

#: Everyday meeting work: find the app, run meetings and participants, record, read what happened
#: (the rows marked ``default_toolset``).
DEFAULT_TOOLSET = tuple(ep.name for ep in ENDPOINTS if ep.default_toolset)

#: Toolset names a user can pass: every documented group, plus ``default`` and ``all``.
TOOLSETS = (*GROUPS, "default", "all")


class SelectionError(ValueError):
    pass


def split_list(value: str | Sequence[str]) -> list[str]:
    """Accept ``a,b`` and repeated flags alike."""
    items = [value] if isinstance(value, str) else value
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


def select(*, toolsets: Iterable[str] = (), tools: Iterable[str] = (), exclude: Iterable[str] = (),
           read_only: bool = False) -> list[Endpoint]:
    """The endpoints to expose, in catalog order.

    With neither toolsets nor tools, every tool is selected. ``tools`` (names or globs) add to the
    toolsets; ``exclude`` (names or globs) removes; ``read_only`` keeps only read-only tools.
    """
    toolsets, tools, exclude = list(toolsets), list(tools), list(exclude)
    names = [ep.name for ep in ENDPOINTS]
    chosen: set[str] = set()
    for toolset in toolsets:
        if toolset == "all":
            chosen.update(names)
        elif toolset == "default":
            chosen.update(DEFAULT_TOOLSET)
        elif toolset in GROUPS:
            chosen.update(ep.name for ep in ENDPOINTS if ep.group == toolset)
        else:
            raise SelectionError(f"unknown toolset {toolset!r}; choose from: {', '.join(TOOLSETS)}")
    for pattern in tools:
        chosen.update(_match(pattern, names))
    if not toolsets and not tools:
        chosen.update(names)
    for pattern in exclude:
        chosen.difference_update(_match(pattern, names))
    return [ep for ep in ENDPOINTS if ep.name in chosen and (ep.read_only or not read_only)]


def _match(pattern: str, names: list[str]) -> list[str]:
    matched = fnmatch.filter(names, pattern)
    if not matched:
        raise SelectionError(f"no tool matches {pattern!r}; `rtk-mcp tools --toolsets all` lists them")
    return matched
