"""The layers of ``rtk_mcp`` import only what README "Layout" says they may: data flows one way, and the
emulator stays independent of the tools it checks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "rtk_mcp"

#: For each part of the package, the parts it may import (besides itself and ``rtk_mcp.__version__``).
#: The sandbox's command group (``sandbox.cli``, ``sandbox.serve``) sits on top, beside the CLI; the
#: emulator itself reads the reference, never the catalog.
MAY_IMPORT: dict[str, set[str]] = {
    "sanitize": set(),
    "reference": set(),
    "catalog": {"sanitize"},
    "config": {"catalog"},
    "api": {"catalog", "config", "sanitize"},
    "results": {"api", "catalog", "config", "reference", "sanitize"},
    "confirmation": {"api", "sanitize"},
    "server": {"api", "catalog", "config", "confirmation", "results", "sanitize"},
    "transport": {"config", "sanitize"},
    "sandbox": {"config", "reference"},
    "sandbox.cli": {"config", "reference", "sandbox", "sandbox.serve", "server", "transport"},
    "sandbox.serve": {"config", "reference", "sandbox", "transport"},
    "demo": {"sandbox", "server"},
    "testing": {"catalog", "sandbox", "server"},
}
ANYTHING = {"cli", "__main__", ""}  # "": the package's own __init__ (the version)


def _part(module: str) -> str:
    names = module.split(".")[1:]
    if names[:2] in (["sandbox", "cli"], ["sandbox", "serve"]):
        return ".".join(names[:2])
    return names[0] if names else ""


def _imports(path: Path) -> list[str]:
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.append(".".join(base + ([node.module] if node.module else [])))
            elif node.module == "rtk_mcp":  # `from rtk_mcp import server`: a module of the package
                found += [f"rtk_mcp.{alias.name}" for alias in node.names if alias.name != "__version__"]
            else:
                found.append(node.module or "")
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return [name for name in found if name.startswith("rtk_mcp.")]


MODULES = sorted(PACKAGE.rglob("*.py"))


def _wrong(source: str, imported: list[str]) -> list[str]:
    """The imports of a module of part ``source`` that its layer may not make."""
    if source in ANYTHING:
        return []
    allowed = MAY_IMPORT[source] | {source} | ({"sandbox"} if source.startswith("sandbox") else set())
    return [name for name in imported if _part(name) not in allowed]


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_each_module_imports_only_the_layers_below_it(path: Path) -> None:
    source = _part(".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"))
    wrong = _wrong(source, _imports(path))
    assert not wrong, f"{path.relative_to(PACKAGE)} ({source}) imports {wrong}; see MAY_IMPORT"


def test_the_check_catches_imports_from_above() -> None:
    assert _wrong("sandbox", ["rtk_mcp.reference", "rtk_mcp.catalog.meetings"]) == ["rtk_mcp.catalog.meetings"]
    assert _wrong("catalog", ["rtk_mcp.server"]) == ["rtk_mcp.server"]
    assert _wrong("config", ["rtk_mcp.api.ratelimit"]) == ["rtk_mcp.api.ratelimit"]
    assert _wrong("cli", ["rtk_mcp.server"]) == []
