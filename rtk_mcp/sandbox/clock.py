"""The sandbox's notion of time: the wall clock by default, or a clock a test moves by hand.

Lifecycles (a recording starting a few seconds after it is invoked, an upload finishing, an empty
live session ending, a summary becoming available) are computed from the clock at the start of
every request, so a test that advances a :class:`ManualClock` sees each state at the right moment
without sleeping.

Sandbox time is the clock plus an offset kept in the state (:func:`sandbox_now`): moving it with
:func:`advance_shared` (``rtk-mcp sandbox advance``, ``play``) moves it for every process sharing
the state file, so they all agree on what has happened.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock", "advance_shared", "iso", "parse_ts", "sandbox_now"]

#: The state's key for how far sandbox time has been moved ahead of the clock, in seconds.
OFFSET_KEY = "clock_offset_s"


class _Meta(Protocol):
    def meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that stands still until :meth:`advance` moves it (starts at the current time by default)."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime.now(UTC)
        self._now = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float = 0, *, minutes: float = 0, hours: float = 0, days: float = 0) -> datetime:
        """Move the clock forward and return the new time."""
        step = timedelta(seconds=seconds, minutes=minutes, hours=hours, days=days)
        if step < timedelta(0):
            raise ValueError("the sandbox clock only moves forward")
        self._now += step
        return self._now


def sandbox_now(state: _Meta, clock: Clock) -> datetime:
    """Sandbox time as every process sharing *state* sees it: *clock* plus the state's offset."""
    return clock.now() + timedelta(seconds=float(state.meta(OFFSET_KEY) or 0))


#: The farthest sandbox time moves in one step: a century, beyond any scenario and within what dates hold.
MAX_STEP_S = 100 * 366 * 86_400


def checked_step(seconds: float) -> float:
    """*seconds* as one step of sandbox time: forward, and at most :data:`MAX_STEP_S` (NaN is neither)."""
    if not 0 <= seconds <= MAX_STEP_S:
        raise ValueError(f"the sandbox clock only moves forward, at most {MAX_STEP_S} seconds (a century) at a "
                         "time; give a number of seconds in that range")
    return seconds


def advance_shared(state: _Meta, seconds: float) -> None:
    """Move sandbox time forward by *seconds* for everyone sharing *state*."""
    checked_step(seconds)
    state.set_meta(OFFSET_KEY, repr(float(state.meta(OFFSET_KEY) or 0) + seconds))


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with millisecond precision, e.g. ``2026-11-24T12:00:00.000Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_ts(value: str) -> datetime:
    """Parse an ISO 8601 date or date-time; naive values are taken as UTC. Raises ValueError."""
    moment = datetime.fromisoformat(value.strip())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
