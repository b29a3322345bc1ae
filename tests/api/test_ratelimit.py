"""The client-side rate limiter, on a fake clock: a queued burst never exceeds any sliding window, and
replicas sharing one token, each taking its share, never exceed the published limits together."""

from __future__ import annotations

import bisect
import os
import subprocess
import sys
from dataclasses import replace
from fractions import Fraction

import anyio
import anyio.lowlevel
import httpx2
import pytest
from mcp import Client

from rtk_mcp.api.client import RealtimeKitClient
from rtk_mcp.api.ratelimit import RateLimiter
from rtk_mcp.config import DEFAULT_LIMITS, Settings, parse_share, share_of
from rtk_mcp.server import build_server
from tests.conftest import ACCOUNT, BASE, TOKEN


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


async def _send_through(limiters: list[RateLimiter], callers: list[int], clock: FakeClock) -> list[list[float]]:
    """``callers[i]`` calls queued at once on ``limiters[i]``, all on one clock: when each was sent."""
    sent: list[list[float]] = [[] for _ in limiters]

    async def one_call(replica: int) -> None:
        await limiters[replica].acquire()
        sent[replica].append(clock())

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for replica, count in enumerate(callers):
                for _ in range(count):
                    tg.start_soon(one_call, replica)
    return sent


@pytest.mark.parametrize("callers", [(1000, 1000), (1500, 40), (3, 900)], ids=["both-busy", "one-busy", "uneven"])
async def test_two_replicas_with_half_shares_never_exceed_the_published_limits_together(callers: tuple[int, int]) -> None:
    clock = FakeClock()
    half = share_of(parse_share("1/2"))
    limiters = [RateLimiter(half, clock=clock, sleep=clock.sleep) for _ in callers]
    sent = await _send_through(limiters, list(callers), clock)

    together = sorted(sent[0] + sent[1])
    assert [len(stamps) for stamps in sent] == list(callers)
    for (limit, period), (own_limit, _) in zip(DEFAULT_LIMITS, half, strict=True):
        assert _max_in_any_window(together, period) <= limit
        for stamps in sent:  # each replica may use its whole share, and no more
            assert _max_in_any_window(stamps, period) == min(own_limit, len(stamps))
    if min(callers) >= 1000:  # both saturated: together they reach the published limits exactly
        assert [_max_in_any_window(together, period) for _, period in DEFAULT_LIMITS] == [250, 1200]


async def test_two_replicas_each_taking_the_whole_limits_would_exceed_them() -> None:
    """What the share prevents: the same traffic, unsplit, sends twice the published limit in a window."""
    clock = FakeClock()
    limiters = [RateLimiter(clock=clock, sleep=clock.sleep) for _ in range(2)]
    sent = await _send_through(limiters, [300, 300], clock)
    assert _max_in_any_window(sorted(sent[0] + sent[1]), 10.0) == 500


def test_a_share_is_a_decimal_or_fraction_that_leaves_every_window_a_request() -> None:
    assert parse_share("0.5") == parse_share(" 1/2 ") == Fraction(1, 2)
    assert share_of(parse_share("1/3")) == ((83, 10.0), (400, 300.0))
    assert share_of(Fraction(1)) == DEFAULT_LIMITS
    for bad, reason in [("0", "more than 0"), ("1.5", "at most 1"), ("-1/2", "more than 0"), ("half", "fraction"),
                        ("1/0", "fraction"), ("nan", "fraction"), ("1/251", "smallest share is 1/250")]:
        with pytest.raises(ValueError, match=reason):
            parse_share(bad)
    assert share_of(parse_share("1/250")) == ((1, 10.0), (4, 300.0))


async def test_the_configured_share_is_what_the_api_client_queues_to(monkeypatch: pytest.MonkeyPatch) -> None:
    """RTK_RATE_LIMIT_SHARE=1/2: 125 calls in 10 s go straight out, the 126th waits for the window."""
    clock = FakeClock()
    monkeypatch.setenv("RTK_RATE_LIMIT_SHARE", "1/2")
    settings = replace(Settings.from_env(), api_token=TOKEN, account_id=ACCOUNT, base_url=BASE)
    assert settings.rate_limit_share == Fraction(1, 2)
    api = httpx2.MockTransport(lambda request: httpx2.Response(200, json={"success": True, "data": []}))
    client = RealtimeKitClient(settings, transport=api, clock=clock, sleep=clock.sleep)
    async with Client(build_server(settings, client=client)) as session:
        for _ in range(125):
            assert not (await session.call_tool("list_apps", {})).is_error
        assert clock.waits == []
        assert not (await session.call_tool("list_apps", {})).is_error
    assert clock.waits == [pytest.approx(10.0)]


def test_a_bad_share_in_the_environment_is_reported_and_the_whole_limits_kept(caplog: pytest.LogCaptureFixture) -> None:
    assert Settings.from_env({"RTK_RATE_LIMIT_SHARE": "50%"}).rate_limit_share == 1
    assert "RTK_RATE_LIMIT_SHARE" in caplog.text


def test_the_share_flag_wins_over_the_environment_and_is_named_at_startup() -> None:
    env = {**os.environ, "RTK_RATE_LIMIT_SHARE": "1/4"}
    for args, expected in [((), "1/4"), (("--rate-limit-share", "0.5"), "1/2")]:
        done = subprocess.run([sys.executable, "-m", "rtk_mcp", *args], input="", capture_output=True,
                              text=True, timeout=60, env=env)
        assert done.returncode == 0, done.stderr
        assert f"taking {expected} of the rate limits over stdio" in done.stderr
    refused = subprocess.run([sys.executable, "-m", "rtk_mcp", "--rate-limit-share", "2", "tools"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "--rate-limit-share: '2' is not more than 0 and at most 1" in refused.stderr
