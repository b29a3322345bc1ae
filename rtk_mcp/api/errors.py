"""Errors an agent can act on.

Every failure a caller can cause becomes one of these, and every one of them becomes a tool result
with ``isError: true`` whose text is ``str(error)``: one or two sentences saying what went wrong and
what to do next. Messages never contain the API token, credential-like argument values or a
traceback.

::

    RtkError                      base; ``str()`` is the message shown to the agent
    ├── ConfigError               required environment variables are missing
    ├── ArgumentError             arguments failed validation; no request was sent
    ├── UnknownToolError          no tool by that name in this server's selection
    └── RequestFailed             the request was sent (or attempted) and did not succeed
        ├── ApiError              the API answered with an error status or ``success: false``
        ├── TransportFailure      no usable answer: connection error, timeout, reset
        ├── BadResponse           an answer we cannot read: HTML, empty, malformed JSON
        └── StorageError          a presigned file (transcript, chat, summary) could not be fetched
                                  or is not what it should be
"""

from __future__ import annotations

from typing import Any

__all__ = ["RtkError", "ConfigError", "ArgumentError", "UnknownToolError", "RequestFailed", "ApiError",
           "TransportFailure", "BadResponse", "StorageError"]


class RtkError(Exception):
    """Base of every error that is reported to the agent as a tool error."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        #: Machine-readable extras (e.g. ``status``, ``retry_after_s``), included in structured results.
        self.details = details


class ConfigError(RtkError):
    pass


class ArgumentError(RtkError):
    pass


class UnknownToolError(RtkError):
    pass


class RequestFailed(RtkError):
    pass


class ApiError(RequestFailed):
    def __init__(self, message: str, *, status: int, **details: Any) -> None:
        super().__init__(message, status=status, **details)
        self.status = status


class TransportFailure(RequestFailed):
    pass


class BadResponse(RequestFailed):
    pass


class StorageError(RequestFailed):
    pass
