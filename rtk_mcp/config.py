"""Settings from the environment.

The server must start (and list its tools) even when credentials are missing: an assistant shows a
tool's error to its user, but a crash at startup shows nothing. So missing variables are recorded
here and reported by every call, in one sentence naming all of them.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from rtk_mcp.ratelimit import parse_share

__all__ = ["Settings", "DEFAULT_BASE_URL"]

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"

_REQUIRED = ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_ACCOUNT_ID")
#: What can be sent as a bearer token: printable ASCII, no spaces.
_TOKEN_SHAPE = re.compile(r"[\x21-\x7e]+")
#: Account IDs are 32 hexadecimal characters; this is looser (letters, digits, - and _) but refuses
#: anything that would change the request path ("..", "/", "%2f").
_ACCOUNT_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Settings:
    api_token: str | None = field(default=None, repr=False)  # never in repr, logs or errors
    account_id: str | None = None
    default_app_id: str | None = None
    base_url: str = DEFAULT_BASE_URL
    #: Per-attempt HTTP timeout in seconds.
    timeout: float = 30.0
    #: This replica's share of the published rate limits (1: the whole of them).
    rate_limit_share: Fraction = Fraction(1)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return None if _is_placeholder(value) else value or None

        return cls(
            api_token=get("CLOUDFLARE_API_TOKEN"),
            account_id=get("CLOUDFLARE_ACCOUNT_ID"),
            default_app_id=get("RTK_APP_ID"),
            base_url=(get("RTK_API_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
            timeout=_positive_seconds(get("RTK_TIMEOUT"), default=30.0, name="RTK_TIMEOUT"),
            rate_limit_share=_share(get("RTK_RATE_LIMIT_SHARE")),
        )

    @property
    def missing(self) -> list[str]:
        """The required environment variables that are not set."""
        values = {"CLOUDFLARE_API_TOKEN": self.api_token, "CLOUDFLARE_ACCOUNT_ID": self.account_id}
        return [name for name in _REQUIRED if not values[name]]

    def malformed(self) -> list[str]:
        """What is wrong with the credentials that are set, without their values: one sentence each."""
        found = []
        if self.api_token and not _TOKEN_SHAPE.fullmatch(self.api_token):
            found.append("CLOUDFLARE_API_TOKEN contains spaces, line breaks or other characters no API token "
                         "has (copied with surrounding text?)")
        if self.account_id and not _ACCOUNT_SHAPE.fullmatch(self.account_id):
            found.append("CLOUDFLARE_ACCOUNT_ID is not an account ID (32 hexadecimal characters, shown in the "
                         "Cloudflare dashboard)")
        return found

    def missing_message(self) -> str | None:
        """Why no call can be made (variables unset or malformed), naming each variable; else ``None``."""
        if malformed := self.malformed():
            return (f"rtk-mcp is misconfigured: {'; '.join(malformed)}. Fix it in the MCP client's `env` for this "
                    "server and restart the server. Nothing was sent.")
        if not self.missing:
            return None
        names = " and ".join(self.missing)
        return (
            f"rtk-mcp is not configured: {names} {'is' if len(self.missing) == 1 else 'are'} not set "
            "(a placeholder such as `<your API token>` counts as not set). "
            "Set them in the MCP client's `env` for this server (a Cloudflare API token with the "
            "Realtime / Realtime Admin permission, and the account ID from the Cloudflare dashboard), "
            "then restart the server; or run `rtk-mcp --sandbox` to try every tool offline."
        )


def _is_placeholder(value: str) -> bool:
    """A value copied but never filled in: ``<your Cloudflare account ID>`` as in config.example.json,
    or ``${user_config.app_id}``, which a desktop host passes literally for a setting left blank."""
    return (value.startswith("<") and value.endswith(">")) or (value.startswith("${") and value.endswith("}"))


def _positive_seconds(value: str | None, *, default: float, name: str) -> float:
    """A bad value is reported on stderr and replaced by the default: the server still starts."""
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        logging.getLogger("rtk_mcp").warning("%s must be a positive number of seconds; using %g", name, default)
        return default
    return seconds


def _share(value: str | None) -> Fraction:
    """Like a bad timeout, a bad share is reported on stderr and the server still starts, with the whole limits."""
    if value is None:
        return Fraction(1)
    try:
        return parse_share(value)
    except ValueError as exc:
        logging.getLogger("rtk_mcp").warning("ignoring RTK_RATE_LIMIT_SHARE: %s; using the whole limits", exc)
        return Fraction(1)
