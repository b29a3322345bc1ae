"""Client-side rate limiting: queue requests so a burst slows down instead of getting the token blocked.

Cloudflare blocks a token for 5 minutes once it exceeds 1200 requests in 5 minutes, and RealtimeKit
answers 429 beyond 250 requests in 10 seconds. Waiting a little on our side is far cheaper than
either, so every attempt (retries included) takes a slot here first.

Sliding windows, not fixed buckets: the limiter remembers when each of the last ``limit`` requests
of every window was sent and admits a new one only when fewer than ``limit`` were sent in the
preceding ``period`` seconds. Callers are admitted one at a time, in arrival order (a fair lock).

The limits are per token, so replicas sharing one token must split them: each takes its share of
every window (:func:`share_of`), rounded down, so shares adding up to at most 1 never exceed a
published limit together, whatever each replica's traffic.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from fractions import Fraction

import anyio

__all__ = ["RateLimiter", "DEFAULT_LIMITS", "parse_share", "share_of"]

#: (requests, seconds): RealtimeKit's published limit, then Cloudflare's per-token API limit.
DEFAULT_LIMITS: tuple[tuple[int, float], ...] = ((250, 10.0), (1200, 300.0))


def share_of(share: Fraction, limits: Sequence[tuple[int, float]] = DEFAULT_LIMITS) -> tuple[tuple[int, float], ...]:
    """This replica's part of every window: ``share`` of the limit, rounded down."""
    return tuple((math.floor(limit * share), period) for limit, period in limits)


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


class RateLimiter:
    def __init__(
        self,
        limits: Sequence[tuple[int, float]] = DEFAULT_LIMITS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self._windows = [(limit, period, deque[float]()) for limit, period in limits]
        self._clock = clock
        self._sleep = sleep
        self._lock = anyio.Lock()  # FIFO: the first caller to queue is the first admitted

    async def acquire(self) -> None:
        """Wait until one more request fits in every window, then count it as sent."""
        async with self._lock:
            while True:
                now = self._clock()
                wait = 0.0
                for limit, period, sent in self._windows:
                    while sent and sent[0] <= now - period:
                        sent.popleft()
                    if len(sent) >= limit:
                        wait = max(wait, sent[0] + period - now)
                if wait <= 0:
                    break
                await self._sleep(wait)
            for _, _, sent in self._windows:
                sent.append(now)
