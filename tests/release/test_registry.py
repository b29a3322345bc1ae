"""server.json, the MCP Registry entry: valid against the registry's schema (vendored, see tests/schemas/),
and true to the code — the package's name, version and address, the variables the code reads, and a
Streamable HTTP option the command line accepts as written."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from jsonschema import Draft7Validator

import rtk_mcp
from rtk_mcp.cli import build_parser, load_settings
from rtk_mcp.transport.http import MCP_PATH

ROOT = Path(__file__).resolve().parents[2]
SERVER = json.loads((ROOT / "server.json").read_text())
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "server.schema.json").read_text())

#: Read by the code but not part of serving: where `rtk-mcp tools` finds its tokenizer, and the marker
#: the desktop extension's entry script sets for itself.
NOT_SERVING = {"RTK_TOKENIZER_DIR", "RTK_SETTINGS_FORM"}
#: Only meaningful for replicas behind a load balancer, so only the HTTP package declares them.
HTTP_ONLY = {"RTK_MCP_HTTP_TOKEN", "RTK_RATE_LIMIT_SHARE"}
SECRETS = {"CLOUDFLARE_API_TOKEN", "RTK_MCP_HTTP_TOKEN"}


def names_read_by_code() -> set[str]:
    """Every environment variable name the package spells out."""
    source = "\n".join(path.read_text() for path in (ROOT / "rtk_mcp").rglob("*.py"))
    return set(re.findall(r"\"((?:RTK|CLOUDFLARE)_[A-Z0-9_]+)\"", source))


def package(transport: str) -> dict:
    [found] = [p for p in SERVER["packages"] if p["transport"]["type"] == transport]
    return found


def variables(pkg: dict) -> dict[str, dict]:
    return {variable["name"]: variable for variable in pkg["environmentVariables"]}


def test_server_json_is_valid_against_the_registry_schema_of_2025_12_11() -> None:
    assert SCHEMA["$id"] == SERVER["$schema"] == "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
    Draft7Validator.check_schema(SCHEMA)
    errors = sorted(Draft7Validator(SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER).iter_errors(SERVER), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_the_schema_catches_what_the_registry_refuses() -> None:
    """The validation above can fail: the registry's own limits are in the vendored schema."""
    validator = Draft7Validator(SCHEMA)
    assert not validator.is_valid({**SERVER, "description": "x" * 101})
    assert not validator.is_valid({**SERVER, "name": "rtk-mcp"})
    assert not validator.is_valid({**SERVER, "packages": [{**package("stdio"), "version": "latest"}]})
    assert not validator.is_valid({**SERVER, "title": "x" * 101})
    http = package("streamable-http")
    assert not validator.is_valid({**SERVER, "packages": [{**http, "transport": {**http["transport"], "url": "ftp://x"}}]})
    assert not validator.is_valid({**SERVER, "packages": [{**http, "transport": {"type": "carrier-pigeon"}}]})


def test_versions_name_and_address_are_the_packages() -> None:
    version = rtk_mcp.__version__
    assert SERVER["version"] == version
    repository = PROJECT["urls"]["Repository"]
    owner, repo = urlsplit(repository).path.strip("/").split("/")
    assert SERVER["repository"] == {"url": repository, "source": "github"}
    assert SERVER["name"] == f"io.github.{owner}/{repo}"  # the namespace a GitHub login can publish
    for pkg in SERVER["packages"]:
        assert (pkg["registryType"], pkg["registryBaseUrl"]) == ("pypi", "https://pypi.org")
        assert (pkg["identifier"], pkg["version"], pkg["runtimeHint"]) == (PROJECT["name"], version, "uvx")


def test_the_readme_carries_the_marker_the_registry_checks_on_pypi() -> None:
    """The registry proves ownership of a PyPI package by finding `mcp-name: <name>` in its description."""
    assert PROJECT["readme"] == "README.md"
    assert f"mcp-name: {SERVER['name']}" in (ROOT / "README.md").read_text()


def test_stdio_declares_every_variable_the_code_reads_and_only_those() -> None:
    read = names_read_by_code()
    assert set(variables(package("stdio"))) == read - NOT_SERVING - HTTP_ONLY
    assert set(variables(package("streamable-http"))) <= read
    assert HTTP_ONLY | {"CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID"} <= set(variables(package("streamable-http")))


def test_the_tokens_are_secret_and_the_credentials_required() -> None:
    for pkg in SERVER["packages"]:
        declared = variables(pkg)
        assert {name for name, v in declared.items() if v.get("isSecret")} == SECRETS & set(declared)
        assert {name for name, v in declared.items() if v.get("isRequired")} == {"CLOUDFLARE_API_TOKEN",
                                                                                 "CLOUDFLARE_ACCOUNT_ID"}


def test_the_http_package_starts_the_server_the_url_points_at() -> None:
    pkg = package("streamable-http")
    argv: list[str] = []
    for argument in pkg["packageArguments"]:
        argv += [argument["name"], argument.get("value", argument.get("default", ""))]
    settings = load_settings(build_parser().parse_args(argv))
    url = urlsplit(pkg["transport"]["url"].replace("{port}", str(settings.port)))
    assert settings.transport == "http"
    assert (url.scheme, url.hostname, url.port, url.path) == ("http", settings.host, settings.port, MCP_PATH)
    hints = {argument.get("valueHint") for argument in pkg["packageArguments"]}
    assert set(re.findall(r"\{(\w+)\}", pkg["transport"]["url"])) <= hints
