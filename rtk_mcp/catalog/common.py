"""Models and types shared by several endpoints.

Descriptions are deliberately terse: every word here is paid for, in tokens, in every
conversation an assistant has with this server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = ["Params", "AppParams", "PathId", "HttpsUrl", "StreamUrl", "PageNo", "PerPage", "ISOTime", "check_path_id",
           "unstated_minimum"]


def check_path_id(value: str) -> str:
    """Reject ids that would change the request's path, host or query instead of naming a resource."""
    if not value:
        raise ValueError("must not be empty")
    if value in {".", ".."}:
        raise ValueError("must be an id, not a relative path")
    for bad in ("/", "\\", "?", "#", "%"):
        if bad in value:
            raise ValueError(f"must be a plain id; {bad!r} is not allowed")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F or ch.isspace() for ch in value):
        raise ValueError("must be a plain id; whitespace and control characters are not allowed")
    return value


#: An id that is substituted into the URL path.
PathId = Annotated[str, AfterValidator(check_path_id)]

_MAX_URL_CHARS = 2048


def _url_check(*schemes: str) -> Callable[[str], str]:
    def check_url(value: str) -> str:
        """An absolute URL the API will fetch or send to: one of ``schemes``, a host, nothing hidden."""
        if len(value) > _MAX_URL_CHARS:
            raise ValueError(f"must be at most {_MAX_URL_CHARS} characters")
        if any(ord(ch) < 0x21 or ord(ch) == 0x7F or ch.isspace() for ch in value):
            raise ValueError("must be a URL without spaces or control characters")
        parts = urlsplit(value)
        if parts.scheme.lower() not in schemes:
            raise ValueError(f"must be an absolute {' or '.join(s + '://' for s in schemes)} URL")
        if not parts.hostname or parts.username is not None or parts.password is not None:
            raise ValueError("must name a host (and no user:password@)")
        return value

    return check_url


#: A URL RealtimeKit fetches or calls back (webhook, page to record, picture, watermark): https only.
HttpsUrl = Annotated[str, AfterValidator(_url_check("https")),
                     Field(json_schema_extra={"format": "uri", "pattern": "^https://"})]
#: Where a recording or livestream is pushed: rtmp or rtmps.
StreamUrl = Annotated[str, AfterValidator(_url_check("rtmp", "rtmps")),
                      Field(json_schema_extra={"format": "uri", "pattern": "^rtmps?://"})]


def unstated_minimum(schema: dict[str, object]) -> None:
    # Undocumented and obvious (pages are not negative, a page holds at least one result): the
    # schema doesn't spend tokens on it; validation still enforces it.
    schema.pop("minimum", None)


PageNo = Annotated[int, Field(ge=0, description="Page number", json_schema_extra=unstated_minimum)]
PerPage = Annotated[int, Field(ge=1, description="Page size", json_schema_extra=unstated_minimum)]
#: Timestamps are passed through as the API expects them (ISO 8601 date-time strings).
ISOTime = Annotated[str, Field(description="ISO 8601")]


class Params(BaseModel):
    """Base of every parameter model: unknown keys are errors, so a typo never "succeeds"."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class AppParams(Params):
    """Base of every endpoint under ``/{app_id}``: the app defaults to ``RTK_APP_ID``.

    ``app_id`` is the one argument without a description: 51 tools take it, and the server's
    instructions say once what all 51 copies would (it defaults to ``RTK_APP_ID``; ``list_apps``, whose
    description calls itself the source of app_id, shows the ids). That saves ~435 tokens per conversation.
    """

    app_id: PathId | None = None
