"""The async HTTP client: one place for auth, timeouts, retries and turning failures into errors.

Retries are bounded (``max_retries``, exponential backoff with jitter) and never duplicate a write:
GET, PUT and DELETE retry on 408, 429, 5xx and transport errors; POST and PATCH retry only when the
request certainly did not take effect (a 429, or a failure to connect). After a read timeout or a
5xx a write is *not* resent, and the error says its outcome is unknown and how to check.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio
import httpx2

from rtk_mcp import __version__
from rtk_mcp.catalog import Endpoint
from rtk_mcp.config import Settings
from rtk_mcp.errors import ApiError, BadResponse, TransportFailure

__all__ = ["RealtimeKitClient", "Reply", "LIST_TOOL_FOR_ID"]

logger = logging.getLogger("rtk_mcp.http")

USER_AGENT = f"rtk-mcp/{__version__}"
_IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE", "HEAD", "OPTIONS"})
_RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
#: Waits the server asks for beyond this fail fast: Cloudflare blocks a token for 5 minutes.
MAX_RETRY_AFTER_S = 60.0
#: Bodies beyond this are refused rather than read into memory.
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_MAX_MESSAGE_CHARS = 300

#: Which tool lists valid values for a path id, for "not found" hints.
LIST_TOOL_FOR_ID = {
    "app_id": "list_apps",
    "meeting_id": "list_meetings",
    "participant_id": "list_meeting_participants or list_session_participants",
    "preset_id": "list_presets",
    "session_id": "list_sessions",
    "peer_id": "list_session_participants",
    "recording_id": "list_recordings",
    "webhook_id": "list_webhooks",
    "livestream_id": "list_livestreams",
    "livestream_session_id": "get_livestream",
}


@dataclass(frozen=True)
class Reply:
    status: int
    payload: Any  # parsed JSON, or None for an empty successful write


class RealtimeKitClient:
    """Sends one endpoint call and returns its parsed JSON, or raises an :mod:`rtk_mcp.errors` error."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        max_retries: int = 2,
        backoff_initial: float = 0.5,
        backoff_max: float = 8.0,
        deadline: float = 120.0,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.settings = settings
        self.max_retries = max_retries
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.deadline = deadline
        self._sleep = sleep
        self._http = httpx2.AsyncClient(
            base_url=settings.base_url,
            transport=transport,
            timeout=httpx2.Timeout(settings.timeout, connect=5.0),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> RealtimeKitClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def call(
        self,
        endpoint: Endpoint,
        path_values: dict[str, str],
        query: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        secrets: Iterable[str] = (),
    ) -> Reply:
        """Send ``endpoint`` with the given values. ``secrets`` are masked in any error text."""
        url = endpoint.full_path.format(
            account_id=quote(self.settings.account_id or "", safe=""),
            **{name: quote(value, safe="") for name, value in path_values.items()},
        )
        headers = {"Authorization": f"Bearer {self.settings.api_token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        content = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        masked = [s for s in (self.settings.api_token, *secrets) if s]
        started = time.perf_counter()
        retries = 0
        status: int | str = "-"
        try:
            with anyio.fail_after(self.deadline):
                while True:
                    try:
                        status, raw, response_headers = await self._send_once(
                            endpoint.method, url, _encode_query(query), headers, content
                        )
                    except (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout) as exc:
                        # The request never reached the server: safe to resend, even a POST.
                        if retries < self.max_retries:
                            retries += 1
                            await self._sleep(self._backoff(retries))
                            continue
                        raise TransportFailure(
                            f"Could not connect to the RealtimeKit API at {self.settings.base_url} "
                            f"({type(exc).__name__}) after {retries + 1} attempts. Check the network or "
                            "RTK_API_BASE_URL, then try again."
                        ) from None
                    except httpx2.TransportError as exc:
                        status = type(exc).__name__
                        if endpoint.method in _IDEMPOTENT_METHODS and retries < self.max_retries:
                            retries += 1
                            await self._sleep(self._backoff(retries))
                            continue
                        raise TransportFailure(_transport_message(endpoint, exc, retries)) from None
                    if status in _RETRYABLE_STATUS and retries < self.max_retries:
                        may_resend = status == 429 or endpoint.method in _IDEMPOTENT_METHODS
                        wait = _retry_after(response_headers)
                        if may_resend and (wait is None or wait <= MAX_RETRY_AFTER_S):
                            retries += 1
                            await self._sleep(wait if wait is not None else self._backoff(retries))
                            continue
                    return _interpret(endpoint, status, raw, response_headers, masked)
        except TimeoutError:
            status = "deadline"
            raise TransportFailure(
                f"The call did not finish within {self.deadline:.0f} s overall. "
                + _outcome_hint(endpoint)
            ) from None
        finally:
            logger.info(
                "tool=%s %s %s status=%s ms=%.0f retries=%d",
                endpoint.name,
                endpoint.method,
                endpoint.full_path,
                status,
                (time.perf_counter() - started) * 1000,
                retries,
            )

    async def _send_once(
        self, method: str, url: str, query: list[tuple[str, str]], headers: dict[str, str], content: bytes | None
    ) -> tuple[int, bytes, httpx2.Headers]:
        request = self._http.build_request(method, url, params=query, headers=headers, content=content)
        response = await self._http.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise BadResponse(
                        f"The RealtimeKit API sent more than {MAX_RESPONSE_BYTES // (1024 * 1024)} MB for one "
                        "call; it was not read. Ask for less: use page_no/per_page or narrower filters."
                    )
                chunks.append(chunk)
        finally:
            await response.aclose()
        return response.status_code, b"".join(chunks), response.headers

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_max, self.backoff_initial * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # jitter: bursts of clients don't retry in lockstep


def _encode_query(query: dict[str, Any] | None) -> list[tuple[str, str]]:
    """JSON values as the API's query string expects them: lowercase booleans, repeated keys for lists."""
    pairs: list[tuple[str, str]] = []
    for key, value in (query or {}).items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, bool):
                pairs.append((key, "true" if item else "false"))
            elif isinstance(item, (dict, list)):
                pairs.append((key, json.dumps(item, separators=(",", ":"))))
            else:
                pairs.append((key, str(item)))
    return pairs


def _retry_after(headers: httpx2.Headers) -> float | None:
    """Seconds the server asked us to wait, from ``retry-after-ms`` or ``Retry-After`` (seconds or a date)."""
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _outcome_hint(endpoint: Endpoint) -> str:
    if endpoint.method in _IDEMPOTENT_METHODS:
        return "Try again."
    check = f"; check with {_checker(endpoint)}" if _checker(endpoint) else ""
    return f"It was not resent because it may have taken effect: its outcome is unknown{check} before retrying."


def _checker(endpoint: Endpoint) -> str | None:
    """The read tool that shows whether a write took effect."""
    for name in reversed(endpoint.path_fields):
        if name in LIST_TOOL_FOR_ID and name != "app_id":
            return LIST_TOOL_FOR_ID[name]
    return {"apps": "list_apps", "presets": "list_presets", "webhooks": "list_webhooks",
            "recordings": "list_recordings", "livestreams": "list_livestreams",
            "meetings": "list_meetings"}.get(endpoint.group)


def _transport_message(endpoint: Endpoint, exc: Exception, retries: int) -> str:
    kind = "timed out" if isinstance(exc, httpx2.TimeoutException) else f"failed ({type(exc).__name__})"
    attempts = f" after {retries + 1} attempts" if retries else ""
    return f"The request to RealtimeKit {kind}{attempts}. {_outcome_hint(endpoint)}"


def _interpret(
    endpoint: Endpoint, status: int, raw: bytes, headers: httpx2.Headers, masked: list[str]
) -> Reply:
    text = raw.decode("utf-8", errors="replace").strip()
    payload: Any = None
    parsed = False
    if text:
        try:
            payload = json.loads(text)
            parsed = True
        except ValueError:
            pass
    if 200 <= status < 300:
        if not text:
            if endpoint.method == "GET":
                raise BadResponse("The RealtimeKit API answered with an empty body where data was expected. Try again.")
            return Reply(status, None)
        if not parsed or not isinstance(payload, (dict, list)):
            kind = headers.get("content-type", "unknown type").split(";")[0]
            raise BadResponse(
                f"The RealtimeKit API answered HTTP {status} with a body that is not JSON ({kind}). "
                + _outcome_hint(endpoint)
            )
        if isinstance(payload, dict) and payload.get("success") is False:
            message = _api_message(payload, masked) or "no message"
            raise ApiError(f"The RealtimeKit API reported a failure (HTTP {status}): {message}.", status=status)
        return Reply(status, payload)
    message = _api_message(payload, masked) if parsed else None
    raise ApiError(_status_message(endpoint, status, message, _retry_after(headers)), status=status,
                   **({"retry_after_s": round(w)} if (w := _retry_after(headers)) is not None else {}))


def _status_message(endpoint: Endpoint, status: int, api_message: str | None, wait: float | None) -> str:
    said = f": {api_message}" if api_message else ""
    if status == 401:
        return f"HTTP 401 Unauthorized{said}. Check CLOUDFLARE_API_TOKEN: it is missing, mistyped, expired or revoked."
    if status == 403:
        return (
            f"HTTP 403 Forbidden{said}. The API token needs the Realtime or Realtime Admin permission "
            "for this account (check CLOUDFLARE_ACCOUNT_ID too)."
        )
    if status == 404:
        ids = [name for name in endpoint.path_fields if name != "account_id"]
        shown = "; ".join(f"{LIST_TOOL_FOR_ID[n]} shows valid {n} values" for n in ids if n in LIST_TOOL_FOR_ID)
        names = ", ".join(ids) or "the request"
        return f"HTTP 404 Not Found{said}. Check {names}{'; ' + shown if shown else ''}."
    if status in (400, 409, 422):
        return f"HTTP {status}: the API rejected the request{said}. Fix the arguments and call again."
    if status == 429:
        after = f" Retry after {wait:.0f} s." if wait is not None else " Wait a minute before retrying."
        return f"HTTP 429 Too Many Requests: the RealtimeKit rate limit was hit{said}.{after}"
    if status >= 500:
        return f"HTTP {status}: RealtimeKit had a server error{said}. {_outcome_hint(endpoint)}"
    return f"HTTP {status}{said}."


def _api_message(payload: Any, masked: list[str]) -> str | None:
    """The API's own error text, from whichever envelope it used; cleaned, capped and masked."""
    if not isinstance(payload, dict):
        return None
    parts: list[str] = []
    error = payload.get("error")
    if isinstance(error, dict):
        parts.append(str(error.get("message") or error.get("code") or ""))
    elif isinstance(error, str):
        parts.append(error)
    errors = payload.get("errors")
    if isinstance(errors, list):
        for item in errors[:3]:
            parts.append(str(item.get("message", "")) if isinstance(item, dict) else str(item))
    if isinstance(payload.get("message"), str):
        parts.append(payload["message"])
    message = "; ".join(p for p in parts if p)
    message = "".join(ch if ch.isprintable() else " " for ch in message)
    for secret in masked:
        message = message.replace(secret, "***")
    if len(message) > _MAX_MESSAGE_CHARS:
        message = message[: _MAX_MESSAGE_CHARS - 1] + "…"
    return message.rstrip(".") or None
