"""Models and types shared by several endpoints.

Descriptions are deliberately terse: every word here is paid for, in tokens, in every
conversation an assistant has with this server.
"""

import json
import math
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import CoreSchema

from rtk_mcp.sanitize import has_invisible

__all__ = ["Params", "AppParams", "ListedBy", "PathId", "AppId", "MeetingId", "FROM_LIST_MEETINGS", "Uri",
           "StreamUrl", "PageNo", "PerPage", "ISOTime", "JsonObject", "check_path_id", "unstated_minimum",
           "MAX_TEXT_CHARS", "MAX_ID_CHARS", "MAX_INTEGER"]

#: The reference documents no length limits, so these are sane maxima: far beyond any real name,
#: title, search or message, and far below what would make a request fail as too large.
MAX_TEXT_CHARS = 10_000
#: RealtimeKit ids are UUIDs or short names; an id goes into the URL path.
MAX_ID_CHARS = 256
#: The largest integer JSON carries exactly everywhere (2**53 - 1): beyond it, parsers round.
MAX_INTEGER = 2**53 - 1
#: How deeply an open object may nest.
_MAX_DEPTH = 32


def check_path_id(value: str) -> str:
    """Reject ids that would change the request's path, host or query instead of naming a resource."""
    if not value:
        raise ValueError("must not be empty")
    if len(value) > MAX_ID_CHARS:
        raise ValueError(f"must be an id of at most {MAX_ID_CHARS} characters")
    if value in {".", ".."}:
        raise ValueError("must be an id, not a relative path")
    for bad in ("/", "\\", "?", "#", "%"):
        if bad in value:
            raise ValueError(f"must be a plain id; {bad!r} is not allowed")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F or ch.isspace() for ch in value):
        raise ValueError("must be a plain id; whitespace and control characters are not allowed")
    if has_invisible(value):
        raise ValueError("must be a plain id; invisible and formatting characters are not allowed")
    return value


def _check_json(value: Any, depth: int = 0) -> None:
    """Raise ``ValueError`` unless ``value`` is JSON every parser reads the same way, within the limits."""
    if depth > _MAX_DEPTH:
        raise ValueError(f"must not nest more than {_MAX_DEPTH} levels deep")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_json(key, depth + 1)
            _check_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number (not NaN or Infinity)")
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
        raise ValueError(f"must be between -{MAX_INTEGER} and {MAX_INTEGER} (each integer)")
    elif isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"must be at most {MAX_TEXT_CHARS} characters (each string)")


#: An id that is substituted into the URL path.
PathId = Annotated[str, AfterValidator(check_path_id)]


class ListedBy:
    """Where an id's valid values come from: the tools whose results show them.

    Put on an id's type (``Annotated[PathId, ListedBy("list_meetings")]``), it is the one place that
    says so: the field's description an agent reads and the hint of a 404 naming that id are both
    written from it, so the two cannot disagree.

    ``as_field`` is the name those results give the id when it differs (a peer report's peer_id is a
    participant_id); ``described=False`` leaves the description to the server's instructions (app_id).
    """

    def __init__(self, *tools: str, as_field: str | None = None, described: bool = True) -> None:
        self.tools = tools
        self.as_field = as_field
        self.described = described

    def __repr__(self) -> str:
        return f"ListedBy({', '.join(map(repr, self.tools))}, as_field={self.as_field!r})"

    @property
    def description(self) -> str:
        source = " or ".join(self.tools)
        return f"{self.as_field} from {source}" if self.as_field else f"From {source}"

    def hint(self, name: str) -> str:
        """What to do about a wrong ``name``, for an error message."""
        known_as = f" (as {self.as_field})" if self.as_field else ""
        return f"{' or '.join(self.tools)} shows valid {name} values{known_as}"

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        json_schema = handler(schema)
        if self.described:
            json_schema["description"] = self.description
        return json_schema


#: Everything under ``/{app_id}`` takes one; it defaults to ``RTK_APP_ID``.
AppId = Annotated[PathId, ListedBy("list_apps", described=False)]
#: Meeting ids come from list_meetings, in the path (``MeetingId``) and in a request body alike.
FROM_LIST_MEETINGS = ListedBy("list_meetings")
MeetingId = Annotated[PathId, FROM_LIST_MEETINGS]

_MAX_URL_CHARS = 2048


def _check_stream_url(value: str) -> str:
    """An absolute rtmp or rtmps URL the API will send to: a host, nothing hidden."""
    _check_uri(value)  # which also refuses a malformed port, or port 0
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("rtmp", "rtmps"):
        raise ValueError("must be an absolute rtmp:// or rtmps:// URL")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise ValueError("must name a host (and no user:password@)")
    return value


def _check_uri(value: str) -> str:
    """An absolute URI (the reference's ``format: uri``): a scheme, then no spaces or control characters."""
    if len(value) > _MAX_URL_CHARS:
        raise ValueError(f"must be at most {_MAX_URL_CHARS} characters")
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F or ch.isspace() for ch in value):
        raise ValueError("must be a URL without spaces or control characters")
    if has_invisible(value):  # bidi controls and zero-width characters make a URL read as another
        raise ValueError("must be a URL without invisible or bidirectional-control characters")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:  # unclosed brackets, a port that is not a number or beyond 65535
        raise ValueError("must be a well-formed URL, with a port from 1 to 65535 if any") from None
    if not parts.scheme:
        raise ValueError("must be an absolute URL (with a scheme, e.g. https://)")
    if port == 0:  # no service listens on port 0
        raise ValueError("must have a port from 1 to 65535, or none")
    return value


# URLs are plain strings: ``format: uri`` is refused by OpenAI's strict mode and Gemini (see
# rtk_mcp.catalog.endpoint's dialect notes); validation checks them, and a scheme the reference
# implies is stated with a ``pattern``.

#: A URL the reference types ``format: uri`` (a picture, a watermark, a webhook): any absolute URL; the
#: reference names no scheme, so none is imposed.
Uri = Annotated[str, AfterValidator(_check_uri), Field(json_schema_extra={"format": "uri"})]
#: Where a recording is also streamed: the reference calls it an "RTMP URL" (``format: uri``), so
#: rtmp or rtmps, refused before sending rather than failing once the recording runs.
StreamUrl = Annotated[str, AfterValidator(_check_stream_url),
                      Field(json_schema_extra={"pattern": "^rtmps?://"})]


def unstated_minimum(schema: dict[str, object]) -> None:
    # Said in words ("0-based"): the schema doesn't spend tokens on it; validation still enforces it.
    schema.pop("minimum", None)


# The reference gives no base or bounds for either (is the first page 0 or 1?): none are imposed,
# and the names say the rest.
PageNo = int
PerPage = int


def _check_date_time(value: str) -> str:
    """An ISO 8601 date-time (``2025-01-31T09:00:00Z``), passed through as given."""
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date-time, e.g. 2025-01-31T09:00:00Z") from None
    if "T" not in value.upper() and " " not in value:
        raise ValueError("must be an ISO 8601 date-time with a time, e.g. 2025-01-31T09:00:00Z")
    return value


ISOTime = Annotated[str, AfterValidator(_check_date_time), Field(json_schema_extra={"format": "date-time"})]


def _parse_json_object(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError("must be a JSON object, as text") from None
    return value


#: An object whose keys the reference leaves open, taken as JSON text: an open map has no form that
#: OpenAI and Anthropic strict modes accept (they want every object closed), a string has. An object
#: is accepted too; either way the API receives the object, held to the same limits as typed fields (by
#: the validator of :class:`Params`, which every model holding one extends).
JsonObject = Annotated[dict[str, Any], BeforeValidator(_parse_json_object),
                       WithJsonSchema({"type": "string", "contentMediaType": "application/json"})]


class Params(BaseModel):
    """Base of every parameter model: unknown keys are errors, so a typo never "succeeds"."""

    # Floats must be finite. Strings, integers and open objects are held to the limits above by the
    # validator below rather than by per-field keywords: the same limits everywhere, stated once.
    model_config = ConfigDict(extra="forbid", defer_build=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _within_limits(cls, value: Any) -> Any:
        """Every string at most :data:`MAX_TEXT_CHARS`, every integer JSON-exact, whatever the field."""
        _check_json(value)  # nested models are checked by their own validator
        return value


class AppParams(Params):
    """Base of every endpoint under ``/{app_id}``: the app defaults to ``RTK_APP_ID``.

    Described in every tool: hosts load one definition at a time, and some SDK helpers drop the
    server's instructions, so a tool must not rely on either to explain its arguments. Where app ids
    come from is said in a word (list_apps), as the tests require of every id.
    """

    app_id: AppId | None = Field(default=None, description="Default RTK_APP_ID; list_apps")
