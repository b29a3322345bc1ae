"""The client-side rate limiter, on a fake clock: a queued burst never exceeds any sliding window."""

from __future__ import annotations

import bisect

import anyio
import anyio.lowlevel
import pytest

from rtk_mcp.ratelimit import DEFAULT_LIMITS, RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()


def _max_in_any_window(stamps: list[float], period: float) -> int:
    """The most requests in any half-open window [t, t + period) starting at a send time."""
    return max(bisect.bisect_left(stamps, t + period) - i for i, t in enumerate(stamps))


@pytest.mark.parametrize("limits", [DEFAULT_LIMITS, ((25, 10.0), (60, 300.0))], ids=["published", "scaled"])
async def test_a_thousand_queued_calls_never_exceed_any_window(limits: tuple[tuple[int, float], ...]) -> None:
    clock = FakeClock()
    limiter = RateLimiter(limits, clock=clock, sleep=clock.sleep)
    sent: list[float] = []

    async def one_call() -> None:
        await limiter.acquire()
        sent.append(clock())

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for _ in range(1000):
                tg.start_soon(one_call)

    assert len(sent) == 1000
    assert sent == sorted(sent)
    for limit, period in limits:
        assert _max_in_any_window(sent, period) == min(limit, 1000)  # the whole budget, never more
    if limits == DEFAULT_LIMITS:
        # Queued, not refused, and no slower than needed: 1000 calls are 4 windows' worth of 250.
        assert sent[:250] == [sent[0]] * 250
        assert sent[-1] - sent[0] == pytest.approx(30.0)


async def test_calls_within_the_limit_do_not_wait() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    for _ in range(250):
        await limiter.acquire()
    assert clock.waits == []
    await limiter.acquire()
    assert clock.waits == [pytest.approx(10.0)]


async def test_a_cancelled_waiter_does_not_take_a_slot() -> None:
    clock = FakeClock()
    waiting = anyio.Event()

    async def sleep_until_cancelled(seconds: float) -> None:
        waiting.set()
        await anyio.sleep_forever()

    limiter = RateLimiter(((1, 10.0),), clock=clock, sleep=sleep_until_cancelled)
    await limiter.acquire()
    with anyio.fail_after(1):
        async with anyio.create_task_group() as tg:
            tg.start_soon(limiter.acquire)  # queues behind the first call, then is abandoned
            await waiting.wait()
            tg.cancel_scope.cancel()
    clock.now += 10
    with anyio.fail_after(1):
        await limiter.acquire()  # no wait (this sleep never returns): the abandoned caller took nothing
