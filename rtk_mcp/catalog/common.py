"""Models and types shared by several endpoints.

Descriptions are deliberately terse: every word here is paid for, in tokens, in every
conversation an assistant has with this server.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = ["Params", "AppParams", "PathId", "PageNo", "PerPage", "ISOTime", "check_path_id"]


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

PageNo = Annotated[int, Field(ge=0, description="Page number")]
PerPage = Annotated[int, Field(ge=1, description="Results per page")]
#: Timestamps are passed through as the API expects them (ISO 8601 date-time strings).
ISOTime = Annotated[str, Field(description="ISO 8601 date-time")]


class Params(BaseModel):
    """Base of every parameter model: unknown keys are errors, so a typo never "succeeds"."""

    model_config = ConfigDict(extra="forbid")


class AppParams(Params):
    """Base of every endpoint under ``/{app_id}``: the app defaults to ``RTK_APP_ID``."""

    app_id: PathId | None = Field(default=None, description="Default: RTK_APP_ID")
