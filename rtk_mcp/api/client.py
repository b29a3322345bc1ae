"""The async HTTP client: one place for auth, timeouts, retries and turning failures into errors.

Retries are bounded (``max_retries``, exponential backoff with jitter) and never duplicate a write: GET, PUT
and DELETE retry on 408, 429, 5xx and transport errors; POST and PATCH retry only when the request certainly
did not take effect (a 429, or a failure to connect). After a read timeout or a 5xx a write is *not* resent,
and the error says its outcome is unknown and how to check. Each attempt waits for a slot in the client-side
rate limiter (:mod:`rtk_mcp.api.ratelimit`), is bounded by the per-attempt timeout, and the whole call by
``deadline``; a retry whose wait would pass the deadline is not made.
"""

from __future__ import annotations

import email.utils
import functools
import json
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio
import httpx2

from rtk_mcp import __version__
from rtk_mcp.api import messages
from rtk_mcp.api.errors import ApiError, BadResponse, StorageError, TransportFailure
from rtk_mcp.api.ratelimit import RateLimiter
from rtk_mcp.catalog import Endpoint
from rtk_mcp.config import Settings, share_of
from rtk_mcp.sanitize import mask, maskable, shortened, strip_invisible

__all__ = ["RealtimeKitClient", "Reply"]

logger = logging.getLogger("rtk_mcp.api.client")

#: Failures where the request certainly never reached the API: safe to resend even a POST.
_NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout, httpx2.UnsupportedProtocol)
#: Waits the server asks for beyond this fail fast: Cloudflare blocks a token for 5 minutes.
MAX_RETRY_AFTER_S = 60.0
#: Bodies beyond this are refused rather than read into memory.
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_TOO_LARGE = (f"The RealtimeKit API sent more than {MAX_RESPONSE_BYTES // 2**20} MB for one call; it was not read. "
              "Ask for less: use page_no/per_page or narrower filters.")
_MAX_MESSAGE_CHARS = 300
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 3
#: Answers nested deeper than this are not read: no RealtimeKit response comes close, and walking
#: one that does would recurse as deep.
MAX_RESPONSE_DEPTH = 64

_Answer = tuple[int, bytes, httpx2.Headers]  # status, body, headers


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests deeper than ``limit``, measured level by level rather than by recursion."""
    level: list[Any] = [value]
    for _ in range(limit):
        level = [child for node in level
                 for child in (node.values() if isinstance(node, dict) else node if isinstance(node, list) else ())]
        if not level:
            return False
    return True


@dataclass
class _Tries:
    """What the retry loop knows of one call so far, for its error texts and its log line."""

    count: int = 0  # retries made
    status: int | str = "-"  # the last status, or the name of the last failure
    reached: int | str | None = None  # an earlier attempt's outcome that may have taken effect
    in_flight: bool = False  # whether the deadline can catch an attempt on its way to the server


class _GaveUp(Exception):
    """A transport failure with no retry left; ``sent`` says whether the request may have reached the API."""

    def __init__(self, cause: httpx2.RequestError, sent: bool) -> None:
        self.cause, self.sent = cause, sent


@dataclass(frozen=True)
class Reply:
    status: int
    payload: Any  # parsed JSON, or None for an empty successful write


class RealtimeKitClient:
    """Sends one endpoint call and returns its parsed JSON, or raises an :mod:`rtk_mcp.api.errors` error."""

    def __init__(
        self, settings: Settings, *, transport: httpx2.AsyncBaseTransport | None = None, max_retries: int = 2,
        backoff_initial: float = 0.5, backoff_max: float = 8.0, deadline: float = 120.0,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep, clock: Callable[[], float] = time.monotonic,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self.settings = settings
        self.max_retries = max_retries
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.deadline = deadline
        self._sleep = sleep
        self._clock = clock
        self._limiter = rate_limiter or RateLimiter(share_of(settings.rate_limit_share), clock=clock, sleep=sleep)
        self._http = httpx2.AsyncClient(
            base_url=settings.base_url,
            transport=transport,
            timeout=httpx2.Timeout(settings.timeout, connect=5.0),
            headers={"User-Agent": f"rtk-mcp/{__version__}", "Accept": "application/json"},
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(
        self, endpoint: Endpoint, path_values: dict[str, str], query: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None, secrets: Iterable[str] = (),
    ) -> Reply:
        """Send ``endpoint`` with the given values. ``secrets`` are masked in any error text."""
        values = {"account_id": self.settings.account_id or "", **path_values}
        url = endpoint.full_path.format_map({name: quote(value, safe="") for name, value in values.items()})
        headers = {"Authorization": f"Bearer {self.settings.api_token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        content = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        masked = maskable((self.settings.api_token, *secrets))
        started = time.perf_counter()
        tries = _Tries()
        # httpx encodes the query as the API expects it: lowercase booleans, repeated keys for lists.
        send = functools.partial(self._send_once, endpoint.method, url, query or None, headers, content)
        try:
            answer = await self._with_retries(send, tries, idempotent=endpoint.idempotent, rate_limited=True)
            return _interpret(endpoint, *answer, masked, tries.reached)
        except _GaveUp as failure:
            failed = type(failure.cause).__name__
            if not failure.sent:
                raise TransportFailure(
                    f"Could not connect to the RealtimeKit API at {messages.shown_url(self.settings.base_url)} "
                    f"({failed}) after {tries.count + 1} attempts. Check the network or RTK_API_BASE_URL, "
                    "then try again."
                ) from None
            kind = "timed out" if isinstance(failure.cause, httpx2.TimeoutException) else f"failed ({failed})"
            attempts = f" after {tries.count + 1} attempts" if tries.count else ""
            raise TransportFailure(f"The request to RealtimeKit {kind}{attempts}. "
                                   + messages.outcome_hint(endpoint)) from None
        except TimeoutError:
            tries.status = "deadline"
            if not tries.in_flight and not endpoint.idempotent:
                raise TransportFailure(
                    f"The call was not sent within {self.deadline:g} s: it waited in rtk-mcp's queue for the "
                    "API rate limits (250 requests per 10 s, 1200 per 5 minutes), or between retries of a "
                    "request that never reached the server. Nothing was changed; try again in a minute."
                ) from None
            raise TransportFailure(f"The call did not finish within {self.deadline:g} s overall. "
                                   + messages.outcome_hint(endpoint)) from None
        finally:
            logger.info("tool=%s %s %s status=%s ms=%.0f retries=%d", endpoint.name, endpoint.method,
                        endpoint.full_path, tries.status, (time.perf_counter() - started) * 1000, tries.count)

    async def download(self, url: str, *, max_bytes: int, too_large: str) -> tuple[int, bytes]:
        """GET a presigned file URL that the API returned; the final status and body.

        No credentials are sent: the URL carries its own signature, and the API token must never
        reach a storage host. Redirects are followed only within the same scheme, host and port.
        Retried like any read; it does not count against the API's rate limits (storage is not the API).
        """
        origin = httpx2.URL(url)

        async def send() -> _Answer:
            target, redirects = url, 0
            while True:
                # No query argument: re-encoding a presigned query string could break its signature.
                status, raw, headers = await self._send_once("GET", target, None, {"Accept": "*/*"}, None,
                                                             max_bytes=max_bytes, too_large=too_large)
                if status not in _REDIRECTS:
                    return status, raw, headers
                moved = origin.join(headers.get("location", ""))
                if (moved.scheme, moved.host, moved.port) != (origin.scheme, origin.host, origin.port) \
                        or redirects >= _MAX_REDIRECTS:
                    raise StorageError(
                        "The download link redirected elsewhere (another host, or too many redirects); "
                        "it was not followed. Call the tool again for a fresh link."
                    )
                target, redirects = str(moved), redirects + 1

        tries = _Tries()
        try:
            status, raw, _ = await self._with_retries(send, tries, idempotent=True, rate_limited=False)
        except _GaveUp as failure:
            raise TransportFailure(f"Downloading the file failed ({type(failure.cause).__name__}) after "
                                   f"{tries.count + 1} attempts. Call the tool again.") from None
        except TimeoutError:
            raise TransportFailure(f"Downloading the file did not finish within {self.deadline:g} s. "
                                   "Call the tool again.") from None
        return status, raw

    async def _with_retries(self, send: Callable[[], Awaitable[_Answer]], tries: _Tries, *, idempotent: bool,
                            rate_limited: bool) -> _Answer:
        """The one retry loop, by the rules of the module docstring: ``send`` until an answer that is final.

        A wait the server asks for (``Retry-After``) replaces the backoff; one longer than
        :data:`MAX_RETRY_AFTER_S` ends the retries. Raises :class:`_GaveUp` or ``TimeoutError``.
        """
        give_up_at = self._clock() + self.deadline
        with anyio.fail_after(self.deadline):
            while True:
                if rate_limited:
                    await self._limiter.acquire()  # every attempt counts against the published limits
                tries.in_flight = True
                try:
                    status, raw, headers = await send()
                except httpx2.RequestError as exc:
                    sent = not isinstance(exc, _NOT_SENT)
                    tries.in_flight, tries.status = sent, type(exc).__name__
                    if (idempotent or not sent) and await self._retried(tries, self._backoff(tries), give_up_at):
                        if sent:
                            tries.reached = tries.status
                        continue
                    raise _GaveUp(exc, sent) from None
                tries.in_flight, tries.status = False, status
                # Every 5xx: Cloudflare's own 520-526 ("origin unreachable", "timeout") are as transient as 502-504.
                retryable = status in (408, 429) or 500 <= status <= 599
                if retryable and (idempotent or status == 429):
                    asked = _retry_after(headers)
                    wait = self._backoff(tries) if asked is None else asked
                    if wait <= MAX_RETRY_AFTER_S and await self._retried(tries, wait, give_up_at):
                        if status != 429:  # a 429 was refused before doing anything
                            tries.reached = status
                        continue
                return status, raw, headers

    async def pause(self, seconds: float) -> None:
        """Wait between polls, through the same ``sleep`` as retries (tests replace it)."""
        await self._sleep(seconds)

    def now(self) -> float:
        """The client's monotonic clock, in seconds (tests replace it)."""
        return self._clock()

    async def _retried(self, tries: _Tries, wait: float, give_up_at: float) -> bool:
        """Sleep and count another attempt, unless retries are used up or the wait would pass the deadline."""
        if tries.count >= self.max_retries or self._clock() + wait > give_up_at:
            return False
        await self._sleep(wait)
        tries.count += 1
        return True

    async def _send_once(
        self, method: str, url: str, query: dict[str, Any] | None, headers: dict[str, str],
        content: bytes | None, *, max_bytes: int = MAX_RESPONSE_BYTES, too_large: str = _TOO_LARGE,
    ) -> _Answer:
        try:
            request = self._http.build_request(method, url, params=query, headers=headers, content=content)
        except (httpx2.InvalidURL, ValueError) as exc:  # e.g. a header value no HTTP request can carry
            raise TransportFailure(
                f"The request could not be built ({type(exc).__name__}), so nothing was sent. Check "
                "CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID and RTK_API_BASE_URL for stray characters."
            ) from None
        # httpx's read timeout is per chunk; this bounds the whole attempt, so a trickling body ends too.
        with anyio.move_on_after(self.settings.timeout) as attempt:
            response = await self._http.send(request, stream=True)
            try:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise BadResponse(too_large)
            finally:
                # Shielded and bounded: even when the call is cancelled, the connection is closed, not leaked.
                with anyio.CancelScope(shield=True), anyio.move_on_after(1):
                    await response.aclose()
        if attempt.cancelled_caught:
            raise httpx2.ReadTimeout(f"no complete answer within {self.settings.timeout:.0f} s", request=request)
        return response.status_code, bytes(body), response.headers

    def _backoff(self, tries: _Tries) -> float:
        ceiling = min(self.backoff_max, self.backoff_initial * 2 ** tries.count)
        return random.uniform(ceiling / 2, ceiling)  # jitter: bursts of clients don't retry in lockstep


def _retry_after(headers: httpx2.Headers) -> float | None:
    """Seconds the server asked us to wait, from ``retry-after-ms`` or ``Retry-After`` (seconds or a date).
    ``None`` when it asked nothing usable: ``Retry-After: 1e999`` or ``nan`` is no instruction at all."""
    for name, per_second in (("retry-after-ms", 1000), ("retry-after", 1)):
        try:
            seconds = float(headers[name]) / per_second
        except (KeyError, ValueError):
            continue
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(headers.get("retry-after", ""))
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _interpret(endpoint: Endpoint, status: int, raw: bytes, headers: httpx2.Headers, masked: list[str],
               reached: int | str | None) -> Reply:
    def unreadable(what: str) -> BadResponse:
        return BadResponse(f"The RealtimeKit API answered HTTP {status} with {what}. {messages.outcome_hint(endpoint)}")

    text = raw.decode("utf-8", errors="replace").strip()
    try:
        payload, parsed = json.loads(text), True
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        payload, parsed = None, False
    if parsed and _deeper_than(payload, MAX_RESPONSE_DEPTH):
        if 200 <= status < 300:
            raise unreadable(f"JSON nested more than {MAX_RESPONSE_DEPTH} levels deep, which rtk-mcp does not read")
        payload = None  # an error status says enough without its body
    if 300 <= status < 400:
        raise ApiError(messages.redirect_message(status, headers.get("location")), status=status)
    if status == 404 and reached is not None and endpoint.method == "DELETE":
        raise ApiError(f"HTTP 404 Not Found on a retry: an earlier attempt ({reached}) probably reached the API "
                       f"and deleted it already. {messages.not_found_hint(endpoint)}", status=status)
    if 200 <= status < 300:
        if not text:
            # "No Content", or an operation documented to return nothing, is an answer; an empty body
            # where the reference documents JSON is not.
            if status == 204 or endpoint.returns_nothing:
                return Reply(status, None)
            raise unreadable("an empty body where JSON was expected")
        if not parsed:
            raise unreadable(f"a body that is not JSON ({headers.get('content-type', 'unknown type').split(';')[0]})")
        if not isinstance(payload, (dict, list)):
            raise unreadable(f"unexpected JSON (a bare {type(payload).__name__})")
        if isinstance(payload, dict) and payload.get("success") is False:
            message = _api_message(payload, masked) or "no message"
            raise ApiError(f"The RealtimeKit API reported a failure (HTTP {status}): {message}.", status=status)
        return Reply(status, payload)
    message = _api_message(payload, masked)
    wait = _retry_after(headers)
    extra = {"retry_after_s": round(wait)} if wait is not None and status in (429, 503) else {}
    raise ApiError(messages.status_message(endpoint, status, message, wait), status=status, **extra)


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
        parts += [str(item.get("message") or "") if isinstance(item, dict) else str(item) for item in errors[:3]]
    if isinstance(payload.get("message"), str):
        parts.append(payload["message"])
    message = "; ".join(p for p in parts if p)
    message = "".join(ch if ch.isprintable() else " " for ch in strip_invisible(message))
    return shortened(mask(message, masked), _MAX_MESSAGE_CHARS).rstrip(".") or None
