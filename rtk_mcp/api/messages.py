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


#: What a 404 from a read of "what runs now" means first: nothing runs, and the tool that starts it.
#: (Reads of the live session, recording and livestream of a meeting answer 404 when idle.)
_NOTHING_RUNNING = {
    "get_active_session": "No session is running in this meeting now: one starts when a participant joins with "
                          "a token from add_participant",
    "get_active_recording": "No recording is running in this meeting now: start_recording starts one",
    "get_meeting_active_livestream": "No livestream is running in this meeting now: start_meeting_livestream "
                                     "starts one",
    "stop_meeting_livestream": "No livestream is running in this meeting now (start_meeting_livestream starts one)",
    "get_active_livestream_session": "No session of this livestream is running now: one starts when an encoder "
                                     "streams to its ingest_server with its stream_key (get_livestream shows both)",
}
_NOTHING_RUNNING.update(dict.fromkeys(("kick_participants", "kick_all_participants", "create_poll"),
                                      _NOTHING_RUNNING["get_active_session"]))

#: What a 409 means for the writes that create something by a name or id of the caller's choosing, or
#: start something that may already run, and the tool that resolves it. The API's 409 body is
#: undocumented and carries no id of the existing object, so the text names where to find it.
_CONFLICT = {
    "create_preset": "A preset with this name may exist: list_presets shows its preset_id; update_preset changes "
                     "it, or pick another name",
    "add_participant": "A participant with this custom_participant_id may exist in this meeting: "
                       "list_meeting_participants shows its id; get_participant or refresh_participant_token gives "
                       "its token, or use another custom_participant_id",
    "start_recording": "A recording may already run in this meeting: get_active_recording shows its id; "
                       "update_recording stops it, or pass allow_multiple_recordings",
    "start_meeting_livestream": "This meeting may already be livestreamed: get_meeting_active_livestream shows it; "
                                "stop_meeting_livestream stops it",
    "create_webhook": "A webhook like this may exist: list_webhooks shows its webhook_id; update_webhook changes it",
    "create_app": "An app like this may exist: list_apps shows its id",
}


def not_found_hint(endpoint: Endpoint) -> str:
    """Which ids to check and which tool lists each (as their types say, like their descriptions); for a
    read of what runs now, first that nothing may run and which tool starts it."""
    ids = endpoint.path_ids
    if not ids:
        return "Check CLOUDFLARE_ACCOUNT_ID and RTK_API_BASE_URL."
    hint = f"Check {', '.join(ids)}; {'; '.join(source.hint(name) for name, source in ids.items())}."
    if endpoint.name in _NOTHING_RUNNING:
        hint = f"{_NOTHING_RUNNING[endpoint.name]}. If it should be running, check the ids: {hint[0].lower()}{hint[1:]}"
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
    if status == 409 and endpoint.name in _CONFLICT:
        return f"HTTP 409 Conflict{said}. {_CONFLICT[endpoint.name]}."
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
