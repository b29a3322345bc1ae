"""One sandbox as a program drives it: its API, the people in its meetings, its time, its webhooks.

:class:`Sandbox` holds the state (in memory, or a state file shared with other processes) and the
clock. Its API is served by :meth:`Sandbox.app` / :meth:`Sandbox.transport`; everything else here
is what RealtimeKit does outside its REST API — people joining, speaking, chatting and leaving,
time passing, webhook deliveries — and so is never an MCP tool::

    sandbox = Sandbox(clock=ManualClock())
    peer = await sandbox.join(meeting_id, "ada")        # a participant id or custom_participant_id
    await sandbox.say(meeting_id, "ada", "Hello all")
    await sandbox.leave(meeting_id, "ada")
    await sandbox.advance(120)                          # keep-alive passes: the session ends
    await sandbox.deliver()                             # send the webhook deliveries now due
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from . import people
from .clock import Clock, SystemClock, advance_shared, checked_step, iso, sandbox_now
from .delivery import deliver_forever, deliver_pending, list_deliveries
from .handlers import advance_all
from .people import ControlError
from .seed import build_state
from .signing import public_key
from .store import SandboxStateError, State, Store

if TYPE_CHECKING:
    import httpx2
    from starlette.applications import Starlette

__all__ = ["Sandbox"]


class Sandbox:
    """A sandbox: seeded in-memory state, or the state in the SQLite file *state_path*, on *clock*."""

    def __init__(self, state_path: str | Path | None = None, *, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self.store = Store(lambda: build_state(self.clock.now()), state_path)

    # ------------------------------------------------------------------ the API

    def app(self) -> Starlette:
        """The sandbox's ASGI app (the REST API, download links, the published webhook key) on this state."""
        from .app import build_app

        return build_app(self.store, self.clock)

    def transport(self) -> httpx2.ASGITransport:
        import httpx2

        return httpx2.ASGITransport(app=self.app())

    # ------------------------------------------------------------------ people

    async def _at_now(self, control: Callable[..., Any], *args: Any) -> Any:
        # On a worker thread: a transaction may wait (bounded) for another process holding the file.
        return await anyio.to_thread.run_sync(self._in_transaction, control, *args)

    def _in_transaction(self, control: Callable[..., Any], *args: Any) -> Any:
        with self.store.transaction() as state:
            try:
                now = sandbox_now(state, self.clock)
                advance_all(state, now)
                return control(state, now, *args)
            except (ControlError, SandboxStateError):
                raise
            except Exception as exc:  # one message naming the file, as a request gets
                raise self.store.unusable(exc) from None

    async def join(self, meeting_id: str, participant: str) -> dict[str, Any]:
        """*participant* (its id or custom_participant_id, added with ``add_participant``) joins the meeting.

        The first join of a meeting with no live session starts a new one. Answers the peer, whose
        ``id`` is the peer id the session reports use.
        """
        return await self._at_now(people.join, meeting_id, participant)

    async def say(self, meeting_id: str, participant: str, text: str) -> dict[str, Any]:
        """One line of the session's transcript, said by a participant who has joined."""
        return await self._at_now(people.say, meeting_id, participant, text)

    async def chat(self, meeting_id: str, participant: str, text: str) -> dict[str, Any]:
        """One chat message, written by a participant who has joined."""
        return await self._at_now(people.chat, meeting_id, participant, text)

    async def leave(self, meeting_id: str, participant: str) -> dict[str, Any]:
        return await self._at_now(people.leave, meeting_id, participant)

    # ------------------------------------------------------------------ time

    def now(self) -> str:
        """Sandbox time now (ISO 8601), as every process sharing the state sees it."""
        with self.store.transaction() as state:
            return iso(sandbox_now(state, self.clock))

    async def advance(self, seconds: float) -> str:
        """Move sandbox time forward for every process sharing the state; answers the new time.

        Whatever falls due meanwhile happens now: sessions end, recordings upload, summaries appear.
        Raises ``ValueError`` for a step back, NaN, or beyond a century.
        """
        checked_step(seconds)  # before the transaction, which reports what fails inside it as the file's fault

        def move(state: State, _: Any) -> str:
            advance_shared(state, seconds)
            now = sandbox_now(state, self.clock)
            advance_all(state, now)
            return iso(now)

        return await self._at_now(move)

    # ------------------------------------------------------------------ webhooks

    async def deliver(self, *, timeout: float = 15.0) -> int:
        """Send every webhook delivery due, with retries, for at most *timeout* seconds; answers how many are left."""
        return await deliver_pending(self.store, self.clock, timeout=timeout)

    async def deliver_forever(self) -> None:
        """Deliver webhooks as sandbox time passes, until cancelled (what a running sandbox does)."""
        await deliver_forever(self.store, self.clock)

    @asynccontextmanager
    async def delivering(self) -> AsyncIterator[Sandbox]:
        """Deliver webhooks in the background while the block runs."""
        async with anyio.create_task_group() as group:
            group.start_soon(self.deliver_forever)
            try:
                yield self
            finally:
                group.cancel_scope.cancel()

    def deliveries(self, webhook_id: str | None = None) -> list[dict[str, Any]]:
        """What was sent to each webhook, oldest event first: event, body, status, and every attempt's answer."""
        return list_deliveries(self.store, webhook_id)

    def public_key(self) -> str:
        """The PEM public key that verifies this sandbox's ``rtk-signature`` headers."""
        return public_key(self.store)

    def close(self) -> None:
        self.store.close()
