"""Signing webhook deliveries as RealtimeKit signs them.

RealtimeKit signs each delivery's raw body with RSA-SHA256 (PKCS#1 v1.5) and sends the signature,
base64-encoded, in the ``rtk-signature`` header; receivers verify it with the public key it
publishes at ``GET /.well-known/webhooks.json``. The sandbox does the same with a key pair it makes
on first use and keeps in its state (so every process sharing a state file signs with one key, and
the key a receiver fetched stays valid across restarts).

``cryptography`` is imported only here, when a key is made or used: serving the API never needs it.
"""

from __future__ import annotations

import base64
import functools
from typing import Any

from .store import State, Store

__all__ = ["PUBLIC_KEY_PATH", "public_key", "public_key_pem", "sign"]

#: Where the public key is published, as RealtimeKit publishes its own.
PUBLIC_KEY_PATH = "/.well-known/webhooks.json"
_KEY = "webhook_private_key"


def private_key_pem(state: State) -> str:
    """The state's signing key (PEM, PKCS#8), made on first use."""
    pem = state.meta(_KEY)
    if pem is None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        state.set_meta(_KEY, pem)
    return pem


@functools.lru_cache(maxsize=4)
def _load(pem: str) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(pem.encode(), password=None)


def public_key_pem(private_pem: str) -> str:
    from cryptography.hazmat.primitives import serialization

    public = _load(private_pem).public_key()
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def sign(private_pem: str, body: bytes) -> str:
    """The ``rtk-signature`` value for *body*: base64 of its RSA-SHA256 PKCS#1 v1.5 signature."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    return base64.b64encode(_load(private_pem).sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def public_key(store: Store) -> str:
    """The PEM public key that verifies the ``rtk-signature`` of deliveries from the sandbox on *store*."""
    with store.transaction() as state:
        return public_key_pem(private_key_pem(state))
