"""A webhook receiver on loopback for the sandbox's deliveries: records every request, answers as told."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    #: Answers to give, in turn, to requests for an event name (then 200).
    answers: dict[str, list[int]] = field(default_factory=dict)
    #: Set once anything has arrived.
    arrived: threading.Event = field(default_factory=threading.Event)

    def unique(self) -> list[Received]:
        """What a receiver that drops duplicates by ``rtk-uuid`` keeps, in arrival order."""
        seen: set[str] = set()
        kept = []
        for request in self.received:
            if request.headers["rtk-uuid"] not in seen:
                seen.add(request.headers["rtk-uuid"])
                kept.append(request)
        return kept


def verify(public_key_pem: str, request: Received) -> None:
    """Raise unless ``rtk-signature`` is RSA-SHA256 (PKCS#1 v1.5) over the raw body with this key."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    key = serialization.load_pem_public_key(public_key_pem.encode())
    key.verify(base64.b64decode(request.headers["rtk-signature"]), request.body, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            request = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            with lock:
                state.received.append(request)
                queued = state.answers.get(request.event["event"], [])
                code = queued.pop(0) if queued else 200
                state.arrived.set()
            self.send_response(code)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
