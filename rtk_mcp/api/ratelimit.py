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

import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

import anyio

from rtk_mcp.config import DEFAULT_LIMITS

__all__ = ["RateLimiter"]

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
