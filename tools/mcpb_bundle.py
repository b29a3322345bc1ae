"""Build the desktop bundle, dist/rtk-mcp-<version>.mcpb, and check that it installs and serves.

    python tools/mcpb_bundle.py              stage, then validate and pack with the official CLI
    python tools/mcpb_bundle.py --check      ... then install the packed bundle as a host would, list its tools
    python tools/mcpb_bundle.py --check-only dist/rtk-mcp-0.1.0.mcpb

A maintainer script, not an MCP tool, that runs on a plain Python (the standard library only: the
catalog's tools are read from its source, not imported). Packing needs Node and the npm registry
(`npx`); the check installs the bundle's dependencies with uv from the package index, as a desktop host
does on first start, and talks to it with the `mcp` client. tests/release/test_mcpb.py does the same offline,
with the dependencies taken from the test environment.

How the settings reach the server: the manifest's `mcp_config.env` is the one channel the MCPB
specification gives (`${user_config.KEY}` substituted by the host), for a host that runs `mcp_config`
and for one that manages a `uv` bundle's execution itself alike, so the manifest keeps it although the
`uv` type makes `mcp_config` optional. Every setting is optional with a default, because the reference
implementation drops the whole configuration when a required one is empty. The entry script is the same
program however it is started (`uv run server/main.py` from the bundle's directory, or `uv run
--directory <bundle> server/main.py` from anywhere), and it tells rtk-mcp that its user configures it
through the settings form, so a configuration error names the form's fields, not variables.

Why MCPB's `uv` server type (manifest 0.4): it needs the least from the user's machine. The bundle
carries rtk-mcp's source, a pyproject.toml naming its dependencies and a three-line entry script; the
host provides Python and installs the dependencies with the uv it manages. A `python` bundle would
need a Python on the user's machine and would carry compiled dependencies (pydantic-core) for one
platform only; a `binary` one would need a frozen build per platform.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "rtk_mcp" / "catalog"

#: The packer, pinned: what ships changes only with a commit here.
MCPB_CLI = "@anthropic-ai/mcpb@2.1.2"
MANIFEST_VERSION = "0.4"
ENTRY_POINT = "server/main.py"
#: The bundle's entry point: the package sits beside it, in server/, so it imports without path set-up.
ENTRY_SCRIPT = '''"""rtk-mcp desktop bundle: the host runs this file once the bundle's dependencies are installed."""
import os
import sys

from rtk_mcp.cli import main

# Its user configures it in the extension's settings form: configuration errors name that form's fields.
os.environ.setdefault("RTK_SETTINGS_FORM", "1")
sys.exit(main())
'''
PRIVACY_POLICY = "https://www.cloudflare.com/privacypolicy/"

#: The settings form a desktop host shows, and the environment variable each setting becomes.
USER_CONFIG: dict[str, dict[str, Any]] = {
    "api_token": {
        "type": "string", "title": "Cloudflare API token", "sensitive": True, "required": False, "default": "",
        "description": "A token with the Realtime or Realtime Admin permission (dash.cloudflare.com, My Profile, "
                       "API Tokens). Kept in the system keychain. Not needed with the sandbox on.",
    },
    "account_id": {
        "type": "string", "title": "Cloudflare account ID", "required": False, "default": "",
        "description": "The account the RealtimeKit apps belong to (the dashboard shows it). Not needed with the "
                       "sandbox on.",
    },
    "app_id": {
        "type": "string", "title": "Default app ID", "required": False, "default": "",
        "description": "Optional: the app every tool uses when none is named (list_apps shows the ids).",
    },
    "read_only": {
        "type": "boolean", "title": "Read-only", "required": False, "default": False,
        "description": "Expose only the tools that read, none that create, change or delete.",
    },
    "sandbox": {
        "type": "boolean", "title": "Sandbox (no account needed)", "required": False, "default": False,
        "description": "Serve a built-in offline emulator of RealtimeKit, with sample meetings, sessions and "
                       "recordings, instead of your account: to try every tool safely.",
    },
}
ENV = {
    "CLOUDFLARE_API_TOKEN": "${user_config.api_token}",
    "CLOUDFLARE_ACCOUNT_ID": "${user_config.account_id}",
    "RTK_APP_ID": "${user_config.app_id}",
    "RTK_READ_ONLY": "${user_config.read_only}",
    "RTK_SANDBOX": "${user_config.sandbox}",
}


def project() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def version() -> str:
    """rtk-mcp's version, as rtk_mcp/__init__.py states it."""
    found = re.search(r'^__version__ = "([^"]+)"', (ROOT / "rtk_mcp" / "__init__.py").read_text(), re.M)
    if found is None:
        raise SystemExit("rtk_mcp/__init__.py states no __version__")
    return found.group(1)


def tool_list() -> list[dict[str, str]]:
    """Every tool of the catalog, in its order, with the first sentence of its description: read from
    the source (``Endpoint("name", method, path, Model, ...)`` rows; a tool's description is its
    model's docstring), so that this script needs none of rtk-mcp's dependencies."""
    package = ast.parse((CATALOG / "__init__.py").read_text())
    [modules] = [node.value for node in ast.walk(package)
                 if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "_MODULES" for t in node.targets)]
    assert isinstance(modules, ast.Tuple)
    trees = {path.stem: ast.parse(path.read_text()) for path in CATALOG.glob("*.py")}
    docs = {node.name: " ".join((ast.get_docstring(node) or "").split())
            for tree in trees.values() for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    tools = []
    for module in modules.elts:
        for node in ast.walk(trees[getattr(module, "id")]):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Endpoint":
                name, model = node.args[0], node.args[3]
                assert isinstance(name, ast.Constant) and isinstance(model, ast.Name)
                description = re.split(r"(?<=\.)\s", docs[model.id], maxsplit=1)[0]
                tools.append({"name": name.value, "description": description})
    return tools


def manifest() -> dict[str, Any]:
    meta = project()
    urls = meta["urls"]
    return {
        "manifest_version": MANIFEST_VERSION,
        "name": meta["name"],
        "display_name": "Cloudflare RealtimeKit",
        "version": version(),
        "description": "Manage Cloudflare RealtimeKit meetings, participants, recordings, livestreams and "
                       "sessions from Claude.",
        "long_description": (
            "rtk-mcp gives Claude the whole Cloudflare RealtimeKit REST API: one tool per documented endpoint "
            "(apps, meetings and participants, presets, sessions with chat, transcripts and summaries, "
            "recordings, webhooks, livestreams, analytics), with arguments checked before anything is sent.\n\n"
            "Turn on **Sandbox** to try every tool against a built-in offline emulator, with no Cloudflare "
            "account. Turn on **Read-only** to expose only the tools that read."
        ),
        "author": {"name": meta["authors"][0]["name"], "url": urls["Homepage"]},
        "repository": {"type": "git", "url": urls["Repository"]},
        "homepage": urls["Homepage"],
        "documentation": f"{urls['Repository']}#readme",
        "support": urls["Issues"],
        "license": meta["license"],
        "keywords": meta["keywords"],
        "privacy_policies": [PRIVACY_POLICY],
        "server": {
            "type": "uv",
            "entry_point": ENTRY_POINT,
            "mcp_config": {"command": "uv", "args": ["run", "--directory", "${__dirname}", ENTRY_POINT], "env": ENV},
        },
        "tools": tool_list(),
        "tools_generated": False,
        "compatibility": {"platforms": ["darwin", "win32", "linux"],
                          "runtimes": {"python": meta["requires-python"]}},
        "user_config": USER_CONFIG,
    }


def bundle_pyproject() -> str:
    """The bundle's own pyproject.toml: the dependencies the host installs, and nothing to build
    (``package = false``: the source is used where it lies)."""
    meta = project()
    dependencies = "".join(f"    {json.dumps(d)},\n" for d in meta["dependencies"])
    return (f'[project]\nname = "{meta["name"]}"\nversion = "{version()}"\n'
            f'requires-python = "{meta["requires-python"]}"\ndependencies = [\n{dependencies}]\n\n'
            "[tool.uv]\npackage = false\n")


def stage(directory: Path) -> Path:
    """Lay out the bundle's files in ``directory`` (emptied first)."""
    shutil.rmtree(directory, ignore_errors=True)
    (directory / "server").mkdir(parents=True)
    shutil.copytree(ROOT / "rtk_mcp", directory / "server" / "rtk_mcp",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (directory / ENTRY_POINT).write_text(ENTRY_SCRIPT)
    (directory / "pyproject.toml").write_text(bundle_pyproject())
    (directory / "manifest.json").write_text(json.dumps(manifest(), indent=2) + "\n")
    (directory / ".mcpbignore").write_text(".venv/\n__pycache__/\n*.pyc\n")
    shutil.copy(ROOT / "LICENSE", directory / "LICENSE")
    return directory


def mcpb(*args: str | Path) -> str:
    """Run the official CLI; what it printed, or SystemExit with it."""
    npx = shutil.which("npx")
    if npx is None:
        raise SystemExit("npx not found: validating and packing need Node.js (and the npm registry)")
    done = subprocess.run([npx, "-y", MCPB_CLI, *map(str, args)], capture_output=True, text=True, timeout=600)
    printed = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        raise SystemExit(f"mcpb {args[0]} failed ({done.returncode}):\n{printed}")
    return printed


def zip_directory(directory: Path, out: Path) -> Path:
    """A bundle without the CLI (an .mcpb is a zip with manifest.json at its root), for offline tests."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory).as_posix())
    return out


def unpack(bundle: Path, directory: Path) -> dict[str, Any]:
    """Extract a bundle as a host does; its manifest."""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(directory)
    return json.loads((directory / "manifest.json").read_text())


def install_dependencies(directory: Path) -> None:
    """What the host does on first start of a `uv` bundle: install its dependencies (needs the index)."""
    subprocess.run([uv_binary(), "sync", "--directory", str(directory), "--quiet"], check=True, timeout=600)


def host_command(manifest: dict[str, Any], directory: Path, settings: dict[str, Any]) -> tuple[str, list[str], dict[str, str]]:
    """The command, arguments and environment a host runs: ``${__dirname}`` is the bundle's directory,
    ``${user_config.KEY}`` the user's setting or its default, booleans as ``true``/``false``. A setting left
    blank without a default stays the literal placeholder, as Claude Desktop passes it."""
    options = manifest["user_config"]

    def substitute(text: str) -> str:
        def value(match: re.Match[str]) -> str:
            key = match.group(1)
            chosen = settings.get(key, options[key].get("default", match.group(0)))
            return str(chosen).lower() if isinstance(chosen, bool) else str(chosen)

        return re.sub(r"\$\{user_config\.(\w+)\}", value, text.replace("${__dirname}", str(directory)))

    config = manifest["server"]["mcp_config"]
    return (config["command"], [substitute(arg) for arg in config.get("args", [])],
            {name: substitute(text) for name, text in config.get("env", {}).items()})


def uv_binary() -> str:
    """uv from the test extras (the `uv` package), else the one on PATH."""
    try:
        from uv import find_uv_bin
    except ImportError:
        found = shutil.which("uv")
        if found is None:
            raise SystemExit("uv not found: pip install uv") from None
        return found
    return find_uv_bin()


def host_environment(env: dict[str, str], home: Path, **extra: str) -> dict[str, str]:
    """A desktop host's child environment: not the shell's, only a home, a PATH on which uv is the one
    addition (nothing else of this environment, its Python included) and the manifest's env."""
    tools = home / "host-bin"
    tools.mkdir(parents=True, exist_ok=True)
    if not (tools / "uv").exists():
        (tools / "uv").symlink_to(uv_binary())
    path = os.pathsep.join([str(tools), os.defpath])
    return {"PATH": path, "HOME": str(home), "LANG": "C.UTF-8", "UV_CACHE_DIR": str(home / "uv-cache"), **extra, **env}


async def list_tools(command: str, args: list[str], env: dict[str, str], cwd: Path, log: Path) -> tuple[list[str], str]:
    """Start the server over stdio as a host does (its stderr into ``log``), list its tools, and call
    ``list_apps``: its text."""
    import anyio
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    executable = shutil.which(command, path=env["PATH"]) or command
    server = StdioServerParameters(command=executable, args=args, env=env, cwd=str(cwd))
    with anyio.fail_after(120), log.open("w") as errlog:
        async with stdio_client(server, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            tools = [tool.name for tool in (await session.list_tools()).tools]
            called = await session.call_tool("list_apps", {})
    return tools, "".join(block.text for block in called.content if block.type == "text")


def check(bundle: Path, work: Path) -> list[str]:
    """Install ``bundle`` as a host would (dependencies from the index) and list the tools it serves."""
    try:
        import anyio
        import mcp  # noqa: F401
    except ImportError:
        raise SystemExit("--check talks to the installed bundle with the mcp client: run it with rtk-mcp's "
                         "environment (pip install -e '.[test]')") from None

    shutil.rmtree(work, ignore_errors=True)
    directory = work / "extension"
    found = unpack(bundle, directory)
    install_dependencies(directory)
    command, args, env = host_command(found, directory, {"sandbox": True})
    tools, called = anyio.run(list_tools, command, args, host_environment(env, work), directory, work / "stderr.log")
    print(f"installed {bundle.name} as a host would: `{command} {' '.join(args)}` serves {len(tools)} tools; "
          f"list_apps in the sandbox: {called[:80]}")
    expected = [tool["name"] for tool in found["tools"]]
    if tools != expected:
        raise SystemExit(f"the bundle serves {len(tools)} tools, its manifest lists {len(expected)}")
    return tools


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="after packing, install the bundle and list its tools")
    parser.add_argument("--check-only", type=Path, metavar="MCPB", help="only install and check this bundle")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where the .mcpb goes (default dist/)")
    parser.add_argument("--stage-only", type=Path, metavar="DIR", help="only lay out the bundle's files in DIR")
    options = parser.parse_args()
    if options.stage_only:
        print(f"staged the bundle in {stage(options.stage_only)}")
        return 0
    build = ROOT / "build" / "mcpb"
    if options.check_only:
        check(options.check_only, build / "check")
        return 0
    staged = stage(build / "stage")
    print(mcpb("validate", staged / "manifest.json"))
    out = options.out / f"rtk-mcp-{version()}.mcpb"
    out.parent.mkdir(parents=True, exist_ok=True)
    print(mcpb("pack", staged, out))
    if options.check:
        check(out, build / "check")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
