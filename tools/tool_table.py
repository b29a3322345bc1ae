"""Maintainer script (not an MCP tool): write the README's tool table from the catalog.

    python tools/tool_table.py          # rewrite the table in README.md
    python tools/tool_table.py --check  # exit 1 if README.md is stale (the test suite runs this check)
"""

from __future__ import annotations

import sys
from pathlib import Path

from rtk_mcp.catalog import ENDPOINTS

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN, END = "<!-- tool-table:begin -->", "<!-- tool-table:end -->"


def render() -> str:
    rows = ["| group | tool | method and path | access |", "|---|---|---|---|"]
    for ep in ENDPOINTS:
        access = "read-only" if ep.read_only else ("write, destructive" if ep.destructive else "write")
        rows.append(f"| {ep.group} | `{ep.name}` | `{ep.method} {ep.path}` | {access} |")
    return "\n".join(rows)


def updated(text: str) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{render()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    text = README.read_text()
    if BEGIN not in text or END not in text:
        print(f"README.md lacks the {BEGIN} / {END} markers", file=sys.stderr)
        return 1
    new = updated(text)
    if "--check" in argv:
        if new != text:
            print("README.md tool table is stale: run python tools/tool_table.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
