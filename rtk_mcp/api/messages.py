"""What an agent reads when a call fails: one sentence on what happened and the next step.

Every text names what to check or which tool to call; none quotes a credential. The client decides
*that* a call failed; this module words it.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from rtk_mcp.catalog import Endpoint
from rtk_mcp.config import DEFAULT_BASE_URL

__all__ = ["not_found_hint", "outcome_hint", "redirect_message", "shown_url", "status_message"]


def outcome_hint(endpoint: Endpoint) -> str:
    if endpoint.idempotent:
        return "Try again."
    check = f"; check with {endpoint.check_with}" if endpoint.check_with else ""
    return f"It was not resent because it may have taken effect: its outcome is unknown{check} before retrying."


def not_found_hint(endpoint: Endpoint) -> str:
    """Which ids to check and which tool lists each (as their types say, like their descriptions)."""
    ids = endpoint.path_ids
    if not ids:
        return "Check CLOUDFLARE_ACCOUNT_ID and RTK_API_BASE_URL."
    hint = f"Check {', '.join(ids)}; {'; '.join(source.hint(name) for name, source in ids.items())}."
    if "active" in endpoint.name:
        hint = f"Nothing may be active there right now, or an id is wrong. {hint}"
    return hint


def redirect_message(status: int, location: str | None) -> str:
    where = f" to {shown_url(location)}" if location else ""
    return (
        f"HTTP {status}: the API answered with a redirect{where}, which rtk-mcp does not follow (it would carry "
        "the token elsewhere). Check RTK_API_BASE_URL: it should be the API's own address, "
        f"such as {DEFAULT_BASE_URL}, not a proxy or an old name."
    )


def shown_url(url: str) -> str:
    """``url`` as it may appear in a message: no user:password, no query string (which can carry keys)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "(an unreadable URL)"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))[:200]


def status_message(endpoint: Endpoint, status: int, api_message: str | None, wait: float | None) -> str:
    said = f": {api_message}" if api_message else ""
    if status == 401:
        return f"HTTP 401 Unauthorized{said}. Check CLOUDFLARE_API_TOKEN: it is missing, mistyped, expired or revoked."
    if status == 403:
        return (
            f"HTTP 403 Forbidden{said}. The API token needs the Realtime or Realtime Admin permission "
            "for this account (check CLOUDFLARE_ACCOUNT_ID too)."
        )
    if status == 404:
        return f"HTTP 404 Not Found{said}. {not_found_hint(endpoint)}"
    if status in (400, 409, 422):
        return f"HTTP {status}: the API rejected the request{said}. Fix the arguments and call again."
    if status == 429:
        after = f" Retry after {wait:.0f} s." if wait is not None else " Wait a minute before retrying."
        return f"HTTP 429 Too Many Requests: the RealtimeKit rate limit was hit{said}.{after}"
    if status >= 500:
        after = f" The API asked to wait {wait:.0f} s." if wait is not None else ""
        return f"HTTP {status}: RealtimeKit had a server error{said}.{after} {outcome_hint(endpoint)}"
    if status == 408:
        return f"HTTP 408 Request Timeout{said}. {outcome_hint(endpoint)}"
    return f"HTTP {status}{said}."
