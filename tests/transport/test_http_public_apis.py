"""rtk-mcp stands on its dependencies' public surface: checked in its source, and by starting it.

- No private part of uvicorn (anything but what ``uvicorn`` exports at the top) and no private
  attribute of another object (``x._name``; an SDK object's, in practice), so an upgrade cannot
  silently change what the transport relies on. The scanner checks itself on a sample of both.
- Every module the package imports is the standard library's, its own, or a declared dependency.
- ``--transport http`` starts where Unix-only modules do not exist (Windows).
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import httpx2
import uvicorn

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "rtk_mcp"
UNIX_ONLY = ("resource", "fcntl", "termios", "pwd", "grp", "tty", "pty", "syslog", "posix")


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def forbidden_uses(source: str) -> list[tuple[int, str]]:
    """(line, what) for each reach into uvicorn's internals or into another object's private attribute."""
    tree = ast.parse(source)
    public_uvicorn = set(uvicorn.__all__)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] == "uvicorn" and (len(parts) > 1 or any(a.name not in public_uvicorn for a in node.names)):
                found.append((node.lineno, f"uvicorn internals: from {node.module} import ..."))
            elif any(_private(part) for part in parts) or any(_private(alias.name) for alias in node.names):
                found.append((node.lineno, f"private import from {node.module}"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if (parts[0] == "uvicorn" and len(parts) > 1) or any(_private(part) for part in parts):
                    found.append((node.lineno, f"private import {alias.name}"))
        elif isinstance(node, ast.Attribute):
            base = node.value
            if isinstance(base, ast.Name) and base.id == "uvicorn" and node.attr not in public_uvicorn:
                found.append((node.lineno, f"uvicorn internals: uvicorn.{node.attr}"))
            # Our own objects' privates are reached through self/cls; anything else is someone else's.
            elif _private(node.attr) and not (isinstance(base, ast.Name) and base.id in ("self", "cls")):
                found.append((node.lineno, f"private attribute {ast.unparse(node)}"))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "setattr", "hasattr", "delattr") and len(node.args) > 1
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
              and _private(node.args[1].value)):
            found.append((node.lineno, f"private attribute by name: {ast.unparse(node)}"))
    return sorted(found)


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_scanner_flags_uvicorn_internals_and_private_sdk_attributes() -> None:
    forbidden = textwrap.dedent("""\
        from uvicorn.protocols.http.h11_impl import H11Protocol
        from uvicorn.config import LOGGING_CONFIG
        from uvicorn import _subprocess
        import uvicorn.protocols.http.h11_impl
        sessions = server.session_manager._server_instances
        await manager._discard_session(session_id, transport)
        getattr(manager, "_server_instances")
        from mcp.server._streamable_http_modern import handler
        protocol = uvicorn.protocols
        """)
    flagged = {line for line, _ in forbidden_uses(forbidden)}
    assert flagged == set(range(1, 10)), forbidden_uses(forbidden)
    allowed = textwrap.dedent("""\
        import uvicorn
        from uvicorn import Config, Server
        from mcp.server.lowlevel import Server as LowLevel
        config = uvicorn.Config(app, http="h11")
        self._slots = 1
        print(self._slots, cls._cache, value.__class__)
        """)
    assert forbidden_uses(allowed) == []


def test_rtk_mcp_uses_no_private_part_of_uvicorn_or_of_the_sdk() -> None:
    found = {str(path.relative_to(ROOT)): uses for path in _sources() if (uses := forbidden_uses(path.read_text()))}
    assert found == {}


def _unconditional_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """Top-level module names imported outside ``try`` (an optional import falls back when missing)."""
    guarded = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.Try) for part in node.body
               for inner in ast.walk(part)}
    names = []
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append((node.lineno, node.module.split(".")[0]))
    return names


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0].lower().replace("_", "-") for spec in project["dependencies"]}


def test_every_module_imported_is_the_standard_librarys_our_own_or_declared() -> None:
    declared = _declared()
    distributions = importlib.metadata.packages_distributions()
    undeclared = []
    for path in _sources():
        for line, module in _unconditional_imports(ast.parse(path.read_text())):
            if module in sys.stdlib_module_names or module in ("rtk_mcp", "__future__"):
                continue
            owners = {name.lower().replace("_", "-") for name in distributions.get(module, [])}
            if not owners & declared:
                undeclared.append(f"{path.relative_to(ROOT)}:{line} imports {module} ({', '.join(owners) or '?'})")
    assert undeclared == []


#: Run as the server: any import of a Unix-only module by rtk-mcp's own code fails, as on Windows.
_WITHOUT_UNIX_MODULES = """
import builtins, sys
unix_only = set(sys.argv[1].split(","))
real_import = builtins.__import__
def windows_like_import(name, globals=None, locals=None, fromlist=(), level=0):
    importer = (globals or {}).get("__name__", "")
    if name.split(".")[0] in unix_only and importer.split(".")[0] == "rtk_mcp":
        raise ModuleNotFoundError(f"No module named {name!r} (as on Windows)")
    return real_import(name, globals, locals, fromlist, level)
builtins.__import__ = windows_like_import
from rtk_mcp.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_the_http_transport_starts_without_unix_only_modules() -> None:
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "RTK_"))}
    process = subprocess.Popen(
        [sys.executable, "-c", _WITHOUT_UNIX_MODULES, ",".join(UNIX_ONLY), "--sandbox", "--transport", "http",
         "--port", str(port)], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    try:
        with httpx2.Client(timeout=1) as client:
            for _ in range(300):
                try:
                    health = client.get(f"http://127.0.0.1:{port}/healthz")
                    break
                except httpx2.TransportError:
                    try:  # not listening yet: give it a moment, noticing at once if it exited
                        process.wait(timeout=0.1)
                        raise AssertionError(process.communicate()[1].decode())
                    except subprocess.TimeoutExpired:
                        pass
            else:
                raise AssertionError("the server did not answer")
        assert health.status_code == 200
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=20)
    assert "Traceback" not in stderr.decode()
