"""Sending queued webhook deliveries: signed, in order, retried, every attempt recorded.

:func:`deliver_forever` is the loop a sandbox process runs while it is up (the MCP server in
sandbox mode, ``rtk-mcp sandbox serve``); :func:`deliver_pending` sends what is due and waits,
bounded, for the rest (``play`` and ``advance`` run it before they exit). Both take the state's
:class:`~rtk_mcp.sandbox.store.Store` and the sandbox clock, so any number of processes can share a
state file: a delivery is claimed in a transaction before it is sent, so two processes never send
it at the same time.

Each pass first brings the sandbox's lifecycles up to its clock (a recording that started, a
session whose keep-alive ran out): those events happen when sandbox time passes them, whether or
not an API request arrives. Then, per webhook, the oldest undelivered event (by the sandbox time
it happened) is sent; a later event to the same webhook waits until it is done, so a receiver sees
events in the order they happened.

Rules, following RealtimeKit's webhook documentation where it has one:

* a ``2xx`` answer delivers; a ``5xx``, a timeout (:data:`ATTEMPT_TIMEOUT_S`) or a network error is
  retried with doubling waits (:data:`FIRST_RETRY_S`, up to :data:`MAX_ATTEMPTS` attempts); any
  other answer fails the delivery at once, as RealtimeKit documents ("does not retry it");
* every attempt sends the same body, signature and ``rtk-uuid``, so a receiver can drop duplicates;
* the sandbox is offline: it sends only to http(s) URLs on loopback addresses (``127.0.0.1``,
  ``::1``, ``localhost``); a delivery to any other URL is recorded as ``not_sent``;
* a webhook disabled or deleted before its delivery is sent gets nothing (``cancelled``).
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import anyio

from .clock import Clock, sandbox_now
from .handlers import advance_all
from .signing import private_key_pem, sign
from .store import State, Store

__all__ = ["ATTEMPT_TIMEOUT_S", "FIRST_RETRY_S", "MAX_ATTEMPTS", "deliver_due", "deliver_forever", "deliver_pending",
           "list_deliveries"]

logger = logging.getLogger("rtk_mcp.sandbox")

MAX_ATTEMPTS = 6
FIRST_RETRY_S = 0.25
ATTEMPT_TIMEOUT_S = 3.0
#: How often the loop looks for due deliveries (well within the two seconds an event may wait).
POLL_S = 0.25
#: Finished deliveries kept for ``rtk-mcp sandbox deliveries`` (the oldest are dropped beyond).
KEEP_FINISHED = 1000
_ANSWER_CHARS = 200

Record = dict[str, Any]


def _sendable(url: str) -> bool:
    """An http(s) URL on a loopback host: the only kind an offline sandbox sends to."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _wall() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _in_order(deliveries: Iterable[Record]) -> list[Record]:
    return sorted(deliveries, key=lambda d: (d["at"], d["seq"]))


def _claim(state: State, wall: float) -> list[Record]:
    """Claim, per webhook, its oldest pending delivery if it is due; settle those that will never be sent."""
    pending: dict[str, list[Record]] = {}
    for delivery in _in_order(d for d in state["deliveries"].values() if d["status"] == "pending"):
        pending.setdefault(delivery["webhook_id"], []).append(delivery)
    claimed = []
    for webhook_id, queue in pending.items():
        hook = state["webhooks"].get(webhook_id)
        for delivery in queue:
            if hook is None or hook.get("enabled") is False or delivery["event"] not in hook.get("events", ()):
                delivery["status"] = "cancelled"
                continue
            if not _sendable(delivery["url"]):
                delivery["status"] = "not_sent"
                continue
            if delivery["next_try"] <= wall and delivery["claimed_until"] <= wall:
                delivery["claimed_until"] = wall + ATTEMPT_TIMEOUT_S + 1
                claimed.append(dict(delivery))
            break  # later events to this webhook wait for this one
    return claimed


def _prune(state: State) -> None:
    finished = _in_order(d for d in state["deliveries"].values() if d["status"] != "pending")
    for delivery in finished[: max(0, len(finished) - KEEP_FINISHED)]:
        del state["deliveries"][delivery["id"]]


async def _attempt(http: Any, key: str, delivery: Record) -> Record:
    body = delivery["body"].encode()
    headers = {
        "content-type": "application/json", "rtk-signature": sign(key, body), "rtk-uuid": delivery["id"],
        "rtk-webhook-id": delivery["webhook_id"], "user-agent": "rtk-mcp-sandbox",
    }
    attempt: Record = {"at": _wall(), "status_code": None, "error": None}
    try:
        answer = await http.post(delivery["url"], content=body, headers=headers)
    except Exception as exc:  # a refused connection, a timeout: retried
        attempt["error"] = type(exc).__name__
    else:
        attempt["status_code"] = answer.status_code
        attempt["answer"] = answer.text[:_ANSWER_CHARS]
    return attempt


def _record(state: State, delivery_id: str, attempt: Record, wall: float) -> None:
    delivery = state["deliveries"].get(delivery_id)
    if delivery is None or delivery["status"] != "pending":
        return
    delivery["attempts"].append(attempt)
    delivery["claimed_until"] = 0.0
    code = attempt["status_code"]
    if code is not None and 200 <= code < 300:
        delivery["status"] = "delivered"
    elif (code is None or code >= 500) and len(delivery["attempts"]) < MAX_ATTEMPTS:
        delivery["next_try"] = wall + FIRST_RETRY_S * 2 ** (len(delivery["attempts"]) - 1)
    else:
        delivery["status"] = "failed"


async def deliver_due(store: Store, clock: Clock, http: Any) -> int:
    """One pass: bring lifecycles up to sandbox time, then send each webhook's next due delivery; answers how many were tried."""
    # Transactions wait for the state file's lock (bounded), so they run on worker threads, as requests do.
    claimed, key = await anyio.to_thread.run_sync(_claim_due, store, clock)
    if not claimed:
        return 0
    results: dict[str, Record] = {}

    async def send(delivery: Record) -> None:
        results[delivery["id"]] = await _attempt(http, key, delivery)

    async with anyio.create_task_group() as group:
        for delivery in claimed:
            group.start_soon(send, delivery)
    await anyio.to_thread.run_sync(_settle, store, results)
    return len(claimed)


def _claim_due(store: Store, clock: Clock) -> tuple[list[Record], str]:
    with store.transaction() as state:
        advance_all(state, sandbox_now(state, clock))
        claimed = _claim(state, time.time())
        return claimed, private_key_pem(state) if claimed else ""


def _settle(store: Store, results: dict[str, Record]) -> None:
    with store.transaction() as state:
        for delivery_id, attempt in results.items():
            _record(state, delivery_id, attempt, time.time())
        _prune(state)


def _waiting(store: Store) -> tuple[int, float]:
    """How many deliveries are pending, and the soonest wall time one of them may be tried."""
    with store.transaction() as state:
        pending = [d for d in state["deliveries"].values() if d["status"] == "pending"]
    soonest = min((max(d["next_try"], d["claimed_until"]) for d in pending), default=0.0)
    return len(pending), soonest


def _client() -> Any:
    import httpx2

    # No proxies from the environment: deliveries go to loopback only, straight.
    return httpx2.AsyncClient(timeout=ATTEMPT_TIMEOUT_S, follow_redirects=False, trust_env=False)


async def deliver_pending(store: Store, clock: Clock, *, timeout: float = 15.0) -> int:
    """Send everything due now, then keep retrying for at most *timeout* seconds; answers how many are left.

    With ``timeout=0`` it sends what can go at once and waits for no retry. An attempt already
    started finishes (within :data:`ATTEMPT_TIMEOUT_S`), so the wait may run over by that much.
    """
    deadline = time.monotonic() + timeout
    async with _client() as http:
        while True:
            tried = await deliver_due(store, clock, http)
            left, soonest = await anyio.to_thread.run_sync(_waiting, store)
            if not left:
                return 0
            if tried:
                continue
            wait = max(0.0, soonest - time.time())
            if time.monotonic() + wait > deadline:
                return left
            await anyio.sleep(min(POLL_S, wait))


async def deliver_forever(store: Store, clock: Clock, *, poll: float = POLL_S) -> None:
    """Run until cancelled: every *poll* seconds, advance lifecycles and send due deliveries."""
    async with _client() as http:
        while True:
            try:
                await deliver_due(store, clock, http)
            except Exception as exc:  # a busy or damaged state file must not stop the server using it
                logger.warning("sandbox webhook delivery pass failed: %s", exc)
            await anyio.sleep(poll)


def list_deliveries(store: Store, webhook_id: str | None = None) -> list[Record]:
    """Every delivery kept, oldest event first: what was sent where, and how each attempt was answered."""
    with store.transaction() as state:
        items = _in_order(state["deliveries"].values())
    return [
        {k: v for k, v in d.items() if k not in ("next_try", "claimed_until", "_app")}
        for d in items if webhook_id is None or d["webhook_id"] == webhook_id
    ]
