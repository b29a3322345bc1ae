"""The desktop bundle (tools/mcpb_bundle.py): its manifest is valid MCPB 0.4, lists exactly the catalog's
tools and wires every setting to a variable rtk-mcp reads; and the bundle, unpacked and started the way
its manifest tells a host to (`uv run` with the manifest's environment), serves every tool over stdio.

Offline: the bundle is zipped here rather than by the official CLI (which needs the npm registry;
`python tools/mcpb_bundle.py --check` packs with it and runs the same install from the index), and the
host's dependency install is replaced by linking the bundle's declared dependencies from this environment
into the bundle's `.venv`, which `uv run` then uses as it is (UV_NO_SYNC, UV_OFFLINE).
``RTK_MCPB=path/to/rtk-mcp-X.mcpb`` checks that bundle instead, e.g. one packed by the CLI.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from jsonschema import Draft7Validator

import rtk_mcp
from rtk_mcp.catalog import ENDPOINTS
from tests.release.test_packaging import link_declared_dependencies
from tests.release.test_registry import names_read_by_code

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("mcpb_bundle", ROOT / "tools" / "mcpb_bundle.py")
assert _spec is not None and _spec.loader is not None
bundle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bundle)

MANIFEST = bundle.manifest()


def test_the_manifest_is_valid_mcpb_0_4_of_the_uv_server_type() -> None:
    schema = json.loads((ROOT / "tests" / "schemas" / "mcpb-manifest-v0.4.schema.json").read_text())
    validator = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(MANIFEST), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    assert not validator.is_valid({**MANIFEST, "tools": [{"name": "x", "title": "not in the spec"}]})
    assert (MANIFEST["manifest_version"], MANIFEST["server"]["type"]) == ("0.4", "uv")
    assert MANIFEST["version"] == rtk_mcp.__version__


def test_the_bundle_script_runs_on_a_plain_python(tmp_path: Path) -> None:
    """No site-packages (-S), no user environment (-I): the standard library only."""
    plain = [sys.executable, "-I", "-S"]
    assert subprocess.run([*plain, "-c", "import pydantic"], capture_output=True, timeout=60).returncode != 0
    done = subprocess.run([*plain, str(ROOT / "tools" / "mcpb_bundle.py"), "--stage-only", str(tmp_path / "stage")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "stage" / "manifest.json").read_text()) == MANIFEST


def test_every_setting_is_optional_with_a_default() -> None:
    """The reference implementation of MCPB hosts gives a server no configuration at all when a required
    setting is empty; and a setting without a default reaches the server as a literal placeholder."""
    for key, option in MANIFEST["user_config"].items():
        assert option["required"] is False and "default" in option, key


def test_the_manifest_lists_exactly_the_catalog_tools() -> None:
    assert [tool["name"] for tool in MANIFEST["tools"]] == [ep.name for ep in ENDPOINTS]
    for tool, ep in zip(MANIFEST["tools"], ENDPOINTS, strict=True):
        assert tool["description"] and ep.description.startswith(tool["description"])
    assert MANIFEST["tools_generated"] is False


def test_the_form_titles_are_the_ones_configuration_errors_name() -> None:
    from rtk_mcp.config import SETTINGS_FORM_TITLES

    env = MANIFEST["server"]["mcp_config"]["env"]
    for variable, title in SETTINGS_FORM_TITLES.items():
        key = re.fullmatch(r"\$\{user_config\.(\w+)\}", env[variable])
        assert key and MANIFEST["user_config"][key.group(1)]["title"] == title


def test_every_setting_reaches_a_variable_rtk_mcp_reads() -> None:
    env = MANIFEST["server"]["mcp_config"]["env"]
    settings = MANIFEST["user_config"]
    assert set(env) <= names_read_by_code()
    used = {key for text in env.values() for key in re.findall(r"\$\{user_config\.(\w+)\}", text)}
    assert used == set(settings) == {"api_token", "account_id", "app_id", "read_only", "sandbox"}
    assert env["CLOUDFLARE_API_TOKEN"] == "${user_config.api_token}"
    assert [key for key, option in settings.items() if option.get("sensitive")] == ["api_token"]
    assert (settings["read_only"]["type"], settings["sandbox"]["type"]) == ("boolean", "boolean")


def test_the_bundle_declares_the_packages_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = tomllib.loads(bundle.bundle_pyproject())
    assert declared["project"]["dependencies"] == project["dependencies"]
    assert declared["project"]["requires-python"] == project["requires-python"]
    assert MANIFEST["compatibility"]["runtimes"]["python"] == project["requires-python"]
    assert declared["tool"]["uv"]["package"] is False


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A bundle unpacked as a host does, its dependencies in place."""
    work = tmp_path_factory.mktemp("mcpb")
    given = os.environ.get("RTK_MCPB")
    packed = Path(given) if given else bundle.zip_directory(bundle.stage(work / "stage"), work / "rtk-mcp.mcpb")
    directory = work / "extension"
    found = bundle.unpack(packed, directory)
    assert not [p for p in directory.rglob("*") if "tests" in p.parts], "the bundle ships no tests"
    venv = directory / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    requirements = tomllib.loads((directory / "pyproject.toml").read_text())["project"]["dependencies"]
    link_declared_dependencies(venv / "bin" / "python", requirements, work / "deps")
    return directory, found


ALL = [ep.name for ep in ENDPOINTS]


@pytest.mark.parametrize("settings, expected, answer, backend", [
    ({"sandbox": True}, ALL, "Sandbox App", "the offline sandbox"),
    ({"sandbox": True, "read_only": True}, [ep.name for ep in ENDPOINTS if ep.read_only], "Sandbox App",
     "the offline sandbox"),
    # Nothing filled in: the blank token and account arrive empty, and the error names the form's fields.
    ({}, ALL, "'Cloudflare API token' and 'Cloudflare account ID' are empty. Fill them in this extension's settings",
     "the live API (not configured: CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID unset)"),
], ids=["sandbox", "read-only", "not-configured"])
async def test_the_bundle_serves_its_tools_when_run_as_its_manifest_says(
        installed: tuple[Path, dict], tmp_path: Path, settings: dict, expected: list[str], answer: str,
        backend: str) -> None:
    directory, found = installed
    command, args, env = bundle.host_command(found, directory, settings)
    assert (command, args[:3]) == ("uv", ["run", "--directory", str(directory)])
    # A request that should not happen goes nowhere (a closed loopback port), never to Cloudflare.
    environment = bundle.host_environment(env, tmp_path, UV_OFFLINE="1", UV_NO_SYNC="1", UV_PYTHON_DOWNLOADS="never",
                                          RTK_API_BASE_URL="http://127.0.0.1:9/client/v4")
    log = tmp_path / "stderr.log"
    tools, called = await bundle.list_tools(command, args, environment, tmp_path, log)
    assert tools == expected, log.read_text()
    assert len(found["tools"]) == len(ENDPOINTS) == 53
    assert answer in called
    assert f"serving {len(expected)} tools" in log.read_text() and f"from {backend} over stdio" in log.read_text()


async def test_a_host_that_runs_the_entry_point_itself_passes_the_same_settings(
        installed: tuple[Path, dict], tmp_path: Path) -> None:
    """A `uv` bundle's execution may be managed by the host (MCPB 0.4): `uv run <entry_point>` in the
    bundle's directory rather than `mcp_config`'s command, with `mcp_config.env`, the spec's one channel
    for settings. The same program starts and reads them."""
    directory, found = installed
    _, _, env = bundle.host_command(found, directory, {"sandbox": True, "read_only": True})
    environment = bundle.host_environment(env, tmp_path, UV_OFFLINE="1", UV_NO_SYNC="1", UV_PYTHON_DOWNLOADS="never",
                                          RTK_API_BASE_URL="http://127.0.0.1:9/client/v4")
    log = tmp_path / "stderr.log"
    tools, called = await bundle.list_tools("uv", ["run", found["server"]["entry_point"]], environment, directory, log)
    assert tools == [ep.name for ep in ENDPOINTS if ep.read_only], log.read_text()
    assert "Sandbox App" in called
