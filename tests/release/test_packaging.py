"""The wheel and sdist build with standard tools, pass ``twine check``, and the wheel alone is a working rtk-mcp.

``python -m build`` makes the sdist and then the wheel *from the sdist* (so the sdist is complete
too). ``--no-isolation`` uses the hatchling installed with the test extras, so the test needs no
network (a user's ``python -m build`` fetches hatchling into an isolated environment instead).
The wheel is then installed into a fresh, empty venv (no system site-packages, no access to this
checkout) and its ``rtk-mcp`` entry point is run from outside the checkout.

Where do the wheel's dependencies come from? Downloading mcp, pydantic, uvicorn... into every test
run would be slow and needs the index, so by default the fresh venv gets them from the current
environment, but only the wheel's *declared* dependency closure: each required distribution
(``Requires-Dist``, recursively, markers evaluated) is linked into a separate directory that a
``.pth`` file puts on the new venv's path. An undeclared dependency is therefore missing there and
the test fails, exactly as a real install would; ``pip check`` confirms the closure is consistent.
``RTK_PACKAGING_FROM_INDEX=1`` installs the wheel with its dependencies from the index instead.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import rtk_mcp

ROOT = Path(__file__).resolve().parents[2]


def _run(*command: str | Path, cwd: Path, timeout: float = 120, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _dependency_closure(requirements: list[str]) -> list[metadata.Distribution]:
    """The installed distributions that ``requirements`` need, transitively, extras included."""
    found: dict[str, metadata.Distribution] = {}
    seen: set[tuple[str, str]] = set()
    pending = [(Requirement(text), "") for text in requirements]
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        dist = found.setdefault(name, metadata.distribution(name))
        for wanted in ("", *sorted(requirement.extras)):  # "" = the unconditional requirements
            if (name, wanted) not in seen:
                seen.add((name, wanted))
                pending.extend((Requirement(text), wanted) for text in dist.requires or [])
    return list(found.values())


def _link_dependencies(requirements: list[str], target: Path) -> None:
    """Symlink each required distribution's top-level packages/modules and metadata into ``target``."""
    target.mkdir()
    for dist in _dependency_closure(requirements):
        files = dist.files
        assert files is not None, f"{dist.metadata['Name']} has no RECORD"
        base = Path(str(dist.locate_file("")))
        for top in {Path(str(file)).parts[0] for file in files}:
            if top in ("..", "__pycache__") or (target / top).exists():
                continue
            if (base / top).exists():
                (target / top).symlink_to(base / top)


def link_declared_dependencies(python: Path, requirements: list[str], target: Path) -> None:
    """Give the venv of ``python`` exactly the distributions ``requirements`` need, from this environment."""
    _link_dependencies(requirements, target)
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'], end='')", cwd=target)
    (Path(purelib) / "_declared_dependencies.pth").write_text(f"{target}\n")


def test_wheel_and_sdist_build_and_the_wheel_installs_into_an_empty_venv(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, ROOT, cwd=tmp_path, timeout=180)
    version = rtk_mcp.__version__
    wheel = dist / f"rtk_mcp-{version}-py3-none-any.whl"
    sdist = dist / f"rtk_mcp-{version}.tar.gz"
    assert wheel.exists() and sdist.exists(), sorted(p.name for p in dist.iterdir())

    # What would be uploaded renders on PyPI and carries complete metadata.
    assert "PASSED" in _run(sys.executable, "-m", "twine", "check", "--strict", wheel, sdist, cwd=tmp_path)

    with tarfile.open(sdist) as archive:
        names = set(archive.getnames())
    for required in ("pyproject.toml", "README.md", "CHANGELOG.md", "LICENSE", "rtk_mcp/__init__.py", "rtk_mcp/transport/http.py"):
        assert f"rtk_mcp-{version}/{required}" in names, required
    # The tests read the reference beside a checkout (../shared): they stay in the repository.
    assert not {n for n in names if re.search(r"/(tests|tools|\.ci)/|/(conftest|test_[^/]*)\.py$", n)}
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        wheel_metadata = archive.read(f"rtk_mcp-{version}.dist-info/METADATA").decode()
        entry_points = archive.read(f"rtk_mcp-{version}.dist-info/entry_points.txt").decode()
    source = {str(p.relative_to(ROOT)) for p in (ROOT / "rtk_mcp").rglob("*.py")}
    assert source <= names, f"missing from the wheel: {sorted(source - names)}"
    assert not {n for n in names if n.startswith("tests/")}
    assert re.search(rf"^Version: {re.escape(version)}$", wheel_metadata, re.M)
    assert re.search(r"^Keywords: .*\bmcp\b.*\brealtimekit\b", wheel_metadata, re.M)
    for field in ("Requires-Python: >=3.11", "License-Expression: MIT", "Project-URL: Repository, ",
                  "Classifier: Programming Language :: Python :: 3.11", "Description-Content-Type: text/markdown"):
        assert f"\n{field}" in wheel_metadata, field
    assert "rtk-mcp = rtk_mcp.cli:main" in entry_points
    requirements = re.findall(r"^Requires-Dist: (.+)$", wheel_metadata, re.M)
    runtime = [r for r in requirements if "extra ==" not in r]
    assert {canonicalize_name(Requirement(r).name) for r in runtime} >= {"mcp", "pydantic", "httpx2", "uvicorn"}

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    pip = (sys.executable, "-m", "pip", "--python", python)
    if os.environ.get("RTK_PACKAGING_FROM_INDEX") == "1":
        _run(*pip, "install", "-q", wheel, cwd=tmp_path, timeout=600)
    else:
        _run(*pip, "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp_path)
        link_declared_dependencies(python, runtime, tmp_path / "deps")
    _run(*pip, "check", cwd=tmp_path)

    # From outside the checkout, with a clean environment: only the installed wheel can answer.
    env = {"PATH": os.defpath, "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    rtk = venv / "bin" / "rtk-mcp"
    where = _run(python, "-c", "import rtk_mcp, importlib.metadata as m; print(rtk_mcp.__file__, m.version('rtk-mcp'))",
                 cwd=tmp_path, env=env)
    module_path, installed_version = where.split()
    assert Path(module_path).is_relative_to(venv), module_path  # the wheel's copy, not this checkout
    assert installed_version == version
    assert _run(rtk, "--version", cwd=tmp_path, env=env).strip() == f"rtk-mcp {version}"
    listing = _run(rtk, "tools", cwd=tmp_path, env=env)
    assert "53 tools;" in listing and "list_apps" in listing
    tools = json.loads(subprocess.run([rtk, "tools", "--json"], cwd=tmp_path, env=env, capture_output=True,
                                      text=True, timeout=60, check=True).stdout)
    assert len(tools) == 53
    called = _run(rtk, "call", "list_apps", "--sandbox", cwd=tmp_path, env=env)
    assert "Sandbox App" in called
    assert "--transport" in _run(rtk, "--help", cwd=tmp_path, env=env)


def test_the_version_is_declared_in_one_place() -> None:
    """hatchling reads ``__version__`` from rtk_mcp/__init__.py; pyproject.toml does not spell it out."""
    text = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in text
    assert '[tool.hatch.version]\npath = "rtk_mcp/__init__.py"' in text
    assert not re.search(r"^version\s*=", text, re.M)
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.dev\d+|(a|b|rc)\d+)?", rtk_mcp.__version__)
