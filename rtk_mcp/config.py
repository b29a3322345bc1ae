"""Every option of rtk-mcp, declared once, and the one frozen :class:`Settings` built from them.

Each field of :class:`Settings` declares its option (variable, flag, parser, default, help); ``--help`` is
generated from them, and :meth:`Settings.load` reads them: a flag wins over its variable, which wins over the default.

The server must start (and list its tools) even when its environment is wrong: an assistant shows a tool's
error to its user, but a crash at startup shows nothing. So a bad value in the environment is reported on
stderr and replaced by the default, and missing credentials are reported by every call, in one sentence
naming all of them. A bad flag is refused at once: whoever typed it is there to read the error.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from fractions import Fraction
from typing import Any

from rtk_mcp.catalog.common import check_path_id
from rtk_mcp.catalog.selection import TOOLSETS, split_list

__all__ = ["COMMON", "DEFAULT_BASE_URL", "DEFAULT_LIMITS", "DEFAULT_MAX_TOKENS", "SERVE", "Option", "Settings",
           "options", "parse_share", "share_of"]

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
#: (requests, seconds): RealtimeKit's published limit, then Cloudflare's per-token API limit.
DEFAULT_LIMITS: tuple[tuple[int, float], ...] = ((250, 10.0), (1200, 300.0))


def share_of(share: Fraction) -> tuple[tuple[int, float], ...]:
    """This replica's part of every window: ``share`` of the limit, rounded down."""
    return tuple((math.floor(limit * share), period) for limit, period in DEFAULT_LIMITS)


def parse_share(text: str) -> Fraction:
    """A share written as a decimal or a fraction (``0.5``, ``1/3``): more than 0, at most 1, and large
    enough to leave at least one request in every window (a smaller one would wait forever)."""
    try:
        share = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{text!r} is not a number or fraction such as 0.5 or 1/3") from None
    if not 0 < share <= 1:
        raise ValueError(f"{text!r} is not more than 0 and at most 1")
    smallest = min(limit for limit, _ in DEFAULT_LIMITS)
    if any(limit < 1 for limit, _ in share_of(share)):
        raise ValueError(f"{text!r} leaves less than one request per window; the smallest share is 1/{smallest}")
    return share


#: The default result budget, in o200k tokens as the results layer estimates them.
DEFAULT_MAX_TOKENS = 25_000

#: Which commands carry a flag: every command, or only ``serve`` (and the bare ``rtk-mcp``).
COMMON, SERVE = "common", "serve"

#: What can be sent as a bearer token: printable ASCII, no spaces.
_TOKEN_SHAPE = re.compile(r"[\x21-\x7e]+")
#: Account IDs are 32 hexadecimal characters; this is looser (letters, digits, - and _) but refuses
#: anything that would change the request path ("..", "/", "%2f").
_ACCOUNT_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_BOOLEANS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}
#: What a desktop extension's settings form calls each setting its messages name (tools/mcpb_bundle.py's
#: USER_CONFIG): its users fill in that form, they never see environment variables.
SETTINGS_FORM_TITLES = {"CLOUDFLARE_API_TOKEN": "Cloudflare API token",
                        "CLOUDFLARE_ACCOUNT_ID": "Cloudflare account ID", "RTK_APP_ID": "Default app ID",
                        "RTK_SANDBOX": "Sandbox (no account needed)"}

logger = logging.getLogger("rtk_mcp")


@dataclass(frozen=True)
class Option:
    """How one field of :class:`Settings` is set. ``parse`` turns one text into a value and raises
    ``ValueError`` with a reason; ``kind`` is ``"flag"`` (on when given), ``"off"`` (a flag that turns
    an option which is on by default off), ``"list"`` (comma-separated, and the flag may be repeated) or
    ``"value"``."""

    env: str | None
    help: str
    flag: str | None = None
    scope: str = COMMON
    kind: str = "value"
    parse: Callable[[str], Any] = str
    metavar: str | None = None
    choices: Sequence[str] | None = None


def _option(default: Any, env: str | None, help: str, *, secret: bool = False, **how: Any) -> Any:
    # A secret is left out of repr, so that no log or traceback shows it.
    return field(default=default, repr=not secret, metadata={"option": Option(env, help, **how)})


def _positive(convert: Callable[[str], float], what: str) -> Callable[[str], Any]:
    """A parser of ``convert``'s numbers that refuses any not finite and above 0, as "not a positive ``what``"."""
    def parse(text: str) -> Any:
        value = convert(text)
        if not 0 < value < math.inf:  # NaN too; and no float() of a huge integer, which would overflow
            raise ValueError(f"not a positive {what}")
        return value
    return parse


_positive_int, _positive_seconds = _positive(int, "integer"), _positive(float, "number of seconds")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 1 <= value <= 65535:
        raise ValueError(f"{text!r} is not a port number (1 to 65535)")
    return value


@dataclass(frozen=True)
class Settings:
    # The backend: credentials and where the API is.
    api_token: str | None = _option(None, "CLOUDFLARE_API_TOKEN", "API token with the Realtime / Realtime Admin "
                                    "permission (required, unless --sandbox)", secret=True)
    account_id: str | None = _option(None, "CLOUDFLARE_ACCOUNT_ID",
                                     "Cloudflare account ID (required, unless --sandbox)")
    default_app_id: str | None = _option(None, "RTK_APP_ID", "default app_id for every tool (list_apps shows ids)")
    base_url: str = _option(DEFAULT_BASE_URL, "RTK_API_BASE_URL", "API base URL", parse=lambda url: url.rstrip("/"))
    timeout: float = _option(30.0, "RTK_TIMEOUT", "seconds per HTTP attempt (connecting: 5)", parse=_positive_seconds)
    rate_limit_share: Fraction = _option(
        Fraction(1), "RTK_RATE_LIMIT_SHARE", "this replica's share of the API rate limits, which are per token: 1/N "
        "for each of N replicas sharing one token", flag="--rate-limit-share", scope=SERVE, parse=parse_share,
        metavar="SHARE")
    sandbox: bool = _option(False, "RTK_SANDBOX", "use the built-in offline RealtimeKit emulator (no account, no "
                            "network)", flag="--sandbox", kind="flag")
    sandbox_state: str | None = _option(None, None, "keep the sandbox's state in this file across restarts",
                                        flag="--sandbox-state", metavar="PATH")
    # Which tools are exposed.
    toolsets: tuple[str, ...] = _option((), "RTK_TOOLSETS", "comma-separated toolsets to expose: "
                                        f"{', '.join(TOOLSETS)} (default: all)", flag="--toolsets", kind="list",
                                        metavar="LIST")
    tools: tuple[str, ...] = _option((), "RTK_TOOLS", "comma-separated tool names or globs to expose (added to "
                                     "--toolsets)", flag="--tools", kind="list", metavar="LIST")
    exclude_tools: tuple[str, ...] = _option((), "RTK_EXCLUDE_TOOLS", "comma-separated tool names or globs to hide",
                                             flag="--exclude-tools", kind="list", metavar="LIST")
    read_only: bool = _option(False, "RTK_READ_ONLY", "expose only read-only tools (wins over every other selection)",
                              flag="--read-only", kind="flag")
    # What agents see.
    max_result_tokens: int = _option(DEFAULT_MAX_TOKENS, "RTK_MAX_RESULT_TOKENS", "cap each result at about N "
                                     "tokens; lists are cut item-wise", flag="--max-result-tokens", parse=_positive_int,
                                     metavar="N")
    redact_secrets: bool = _option(False, "RTK_REDACT_SECRETS", "mask participant tokens, stream keys, download-URL "
                                   "signatures and echoed storage credentials in results", flag="--redact-secrets",
                                   kind="flag")
    confirm: bool = _option(True, "RTK_CONFIRM", "ask the person to confirm each destructive call (kick, delete, "
                            "replace, stop) when their MCP client supports elicitation; off for unattended "
                            "automation", flag="--no-confirm", scope=SERVE, kind="off")
    output_schemas: bool = _option(False, "RTK_OUTPUT_SCHEMAS", "add each tool's outputSchema (more tokens per "
                                   "conversation)", flag="--output-schemas", kind="flag")
    log_level: str = _option("WARNING", "RTK_LOG_LEVEL", "log level on stderr", flag="--log-level",
                             parse=str.upper, choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    # How MCP is served.
    transport: str = _option("stdio", None, "stdio, or Streamable HTTP at http://HOST:PORT/mcp", flag="--transport",
                             scope=SERVE, choices=("stdio", "http"))
    stdin_grace: float = _option(10.0, None, "stdio: seconds the requests read before stdin closes may still take "
                                 "to be answered", flag="--stdin-grace", scope=SERVE, parse=_positive_seconds,
                                 metavar="SECONDS")
    host: str = _option("127.0.0.1", None, "--transport http: address to bind (any other than loopback needs "
                        "RTK_MCP_HTTP_TOKEN)", flag="--host", scope=SERVE)
    port: int = _option(8000, None, "--transport http: port", flag="--port", scope=SERVE, parse=_port)
    stateless: bool = _option(False, None, "--transport http: no sessions, so several instances can share a load "
                              "balancer", flag="--stateless", scope=SERVE, kind="flag")
    allowed_hosts: tuple[str, ...] = _option(
        (), None, "--transport http: extra Host header values to accept (DNS-rebinding protection; loopback names "
        "and --host are always accepted), e.g. mcp.example.com", flag="--allowed-hosts", scope=SERVE, kind="list",
        metavar="LIST")
    allowed_origins: tuple[str, ...] = _option(
        (), None, "--transport http: extra browser Origins to accept, e.g. https://app.example.com",
        flag="--allowed-origins", scope=SERVE, kind="list", metavar="LIST")
    http_token: str | None = _option(None, "RTK_MCP_HTTP_TOKEN", "--transport http: bearer token every request must "
                                     "carry (required to bind a non-loopback --host)", secret=True)
    # Set by the desktop extension's entry script, not by people: its users fix settings in a form.
    settings_form: bool = _option(False, "RTK_SETTINGS_FORM", "name the desktop extension's settings form, not "
                                  "environment variables, in configuration errors", kind="flag")

    @classmethod
    def load(cls, flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from the command line's ``flags`` (field name -> value, only the flags given) and the
        environment (``os.environ`` by default)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, option in options():
            if flags and name in flags:
                values[name] = flags[name]
            elif option.env is not None and (text := _env_text(env, option.env)) is not None:
                try:
                    values[name] = _read(option, text)
                except ValueError as exc:
                    logger.warning("ignoring %s=%r: %s; using the default", option.env, text, exc)
        return cls(**values)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        return cls.load(None, environ)

    def with_backend(self, backend: Settings) -> Settings:
        """These settings, talking to ``backend``'s API with its credentials (the sandbox's, say)."""
        return replace(self, api_token=backend.api_token, account_id=backend.account_id,
                       default_app_id=backend.default_app_id, base_url=backend.base_url)

    @property
    def missing(self) -> list[str]:
        """The required environment variables that are not set."""
        return [name for name, value in (("CLOUDFLARE_API_TOKEN", self.api_token),
                                         ("CLOUDFLARE_ACCOUNT_ID", self.account_id)) if not value]

    def malformed(self) -> list[str]:
        """What is wrong with the credentials that are set, without their values: one sentence each."""
        found = []
        if self.api_token and not _TOKEN_SHAPE.fullmatch(self.api_token):
            found.append(f"{self._name('CLOUDFLARE_API_TOKEN')} contains spaces, line breaks or other characters no "
                         "API token has (copied with surrounding text?)")
        if self.account_id and not _ACCOUNT_SHAPE.fullmatch(self.account_id):
            found.append(f"{self._name('CLOUDFLARE_ACCOUNT_ID')} is not an account ID (32 hexadecimal characters, "
                         "shown in the Cloudflare dashboard)")
        if self.default_app_id:
            try:
                check_path_id(self.default_app_id)  # the same rule as every app_id an agent passes
            except ValueError as exc:
                found.append(f"{self._name('RTK_APP_ID')} is not an app id (it {exc}; list_apps shows the app ids)")
        return found

    def _name(self, variable: str) -> str:
        """How the person who configures this server knows a setting: the variable, or the form's field."""
        return f"'{SETTINGS_FORM_TITLES[variable]}'" if self.settings_form else variable

    def in_own_words(self, text: str) -> str:
        """``text`` naming each setting as the person who configures this server knows it: in the desktop
        extension, by its field in the settings form rather than by an environment variable they cannot set."""
        for variable in SETTINGS_FORM_TITLES if self.settings_form else ():
            text = text.replace(variable, self._name(variable))
        return text

    def missing_message(self) -> str | None:
        """Why no call can be made (variables unset or malformed), naming each variable; else ``None``."""
        where = ("this extension's settings (the desktop app's extension settings form)" if self.settings_form
                 else "the MCP client's `env` for this server")
        if malformed := self.malformed():
            return (f"rtk-mcp is misconfigured: {'; '.join(malformed)}. Fix it in {where} and restart the server. "
                    "Nothing was sent.")
        if not (missing := self.missing):
            return None
        names, one = " and ".join(map(self._name, missing)), len(missing) == 1
        what = ("a Cloudflare API token with the Realtime / Realtime Admin permission, and the account ID from the "
                "Cloudflare dashboard")
        if self.settings_form:
            return (f"rtk-mcp is not configured: {names} {'is' if one else 'are'} empty. Fill "
                    f"{'it' if one else 'them'} in {where} ({what}), then turn the extension off and on; or turn on "
                    f"{self._name('RTK_SANDBOX')} there to try every tool offline.")
        return (f"rtk-mcp is not configured: {names} {'is' if one else 'are'} not set (a placeholder such as `<your "
                f"API token>` counts as not set). Set them in {where} ({what}), then restart the server; or run "
                "`rtk-mcp --sandbox` to try every tool offline.")


def options() -> list[tuple[str, Option]]:
    """Every option, as (field name, declaration), in declaration order."""
    return [(declared.name, declared.metadata["option"]) for declared in fields(Settings)]


def _env_text(env: Mapping[str, str], name: str) -> str | None:
    """The variable's value, or ``None`` when it is empty or was copied but never filled in:
    ``<your Cloudflare account ID>`` as in config.example.json, or ``${user_config.app_id}``, which a
    desktop host passes literally for a setting left blank."""
    value = env.get(name, "").strip()
    placeholder = (value.startswith("<") and value.endswith(">")) or (value.startswith("${") and value.endswith("}"))
    return None if placeholder else value or None


def _read(option: Option, text: str) -> Any:
    if option.kind in ("flag", "off"):
        # Strict both ways: a typo must not quietly turn an option (confirmation, say) off.
        if text.lower() in _BOOLEANS:
            return _BOOLEANS[text.lower()]
        raise ValueError("not 1/0, true/false, yes/no or on/off")
    if option.kind == "list":
        return tuple(split_list(text))
    value = option.parse(text)
    if option.choices is not None and value not in option.choices:
        raise ValueError(f"not one of {', '.join(option.choices)}")
    return value
