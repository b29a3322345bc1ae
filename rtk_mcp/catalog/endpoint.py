"""One row of the API surface, and the JSON Schema an agent sees for it.

An ``Endpoint`` is data: a tool name, an HTTP method, a path template and a pydantic model of
every parameter. Everything else — the tool's input schema, description, annotations, which
fields go into the path, the query string or the body — is derived from the row, so the 53
tools share one code path (see ``rtk_mcp.server``).
"""

from __future__ import annotations

import copy
import functools
import re
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, Field, create_model

from rtk_mcp.catalog.common import ListedBy

__all__ = ["Endpoint", "input_schema", "PATH_PREFIX", "FIELDS_ARG"]

#: Every RealtimeKit path starts here; ``account_id`` always comes from the environment.
PATH_PREFIX = "/accounts/{account_id}/realtime/kit"

_PLACEHOLDER = re.compile(r"{(\w+)}")

#: The argument of list tools that picks which fields of each item come back (ids and names always do).
FIELDS_ARG = "fields"


def _with_fields_arg(params: type[BaseModel]) -> type[BaseModel]:
    """``params`` plus the optional ``fields`` argument (same name, docstring and config)."""
    fields_type = Annotated[list[str] | None, Field(description="Item fields to return")]
    return create_model(params.__name__, __base__=params, __doc__=params.__doc__, __module__=params.__module__,
                        **{FIELDS_ARG: (fields_type, None)})


@dataclass(frozen=True)
class Endpoint:
    """One documented operation, exposed as one MCP tool: every fact about the tool is on this row
    or on the types of its ``params`` model.

    ``path`` is relative to :data:`PATH_PREFIX` and names its placeholders after the model's
    fields (``{meeting_id}``). Fields that are not path placeholders go into the query string for
    GET/DELETE and into the JSON body otherwise. The tool description is the model's docstring, and
    the toolset (``group``) is the catalog module the model is defined in.
    """

    name: str
    method: str
    path: str
    params: type[BaseModel]
    title: str
    destructive: bool = False
    #: For a write that is never resent after an ambiguous failure (POST, PATCH): the read tool that
    #: shows whether it took effect, named in the error that says its outcome is unknown.
    check_with: str | None = None
    #: For a list whose items the API nests inside ``data`` (as documented): the key they sit under.
    items_key: str | None = None
    #: Part of the ``default`` toolset: the everyday meeting work most users need, at a fraction of
    #: the catalogue's cost in context.
    default_toolset: bool = False
    #: Where the reference documents the same operation under another group, say so here.
    alias_of: str | None = None
    #: The reference documents no response body (``void``): an empty 2xx answer is a success.
    returns_nothing: bool = False
    #: The participant-written file the tool can also return (``include_content``): "transcript",
    #: "chat" or "summary"; fetched and parsed by ``rtk_mcp.content``, never sent to the API.
    reads: str | None = None
    #: Each path placeholder, in order, and where its valid values come from (its type says so).
    path_ids: dict[str, ListedBy] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_ids", {name: self._source_of(name) for name in _PLACEHOLDER.findall(self.path)})
        if self.list_result and FIELDS_ARG not in self.params.model_fields:
            object.__setattr__(self, "params", _with_fields_arg(self.params))

    @property
    def path_fields(self) -> tuple[str, ...]:
        return tuple(self.path_ids)

    @property
    def group(self) -> str:
        return self.params.__module__.rpartition(".")[2]

    @property
    def read_only(self) -> bool:
        return self.method == "GET"

    @property
    def idempotent(self) -> bool:
        """Whether sending it twice does what sending it once does: GET, PUT and DELETE, never POST or PATCH."""
        return self.method in {"GET", "PUT", "DELETE"}

    @property
    def list_result(self) -> bool:
        """Whether the result is a list of items (the ``list_*`` tools), so the tool takes
        :data:`FIELDS_ARG`: which fields of each item to return (applied by
        ``rtk_mcp.shaping.select_fields``, never sent to the API)."""
        return self.name.startswith("list_")

    @property
    def in_query(self) -> bool:
        """Whether non-path parameters travel in the query string (else in the JSON body)."""
        return self.method in {"GET", "DELETE"}

    @property
    def description(self) -> str:
        return " ".join((self.params.__doc__ or "").split())

    @property
    def full_path(self) -> str:
        return PATH_PREFIX + self.path

    def _source_of(self, name: str) -> ListedBy:
        field_info = self.params.model_fields[name]
        found = _listed_by(field_info.metadata) or _listed_by([field_info.annotation])
        if found is None:
            raise TypeError(f"{self.name}: path field {name} needs a typed id saying which tool lists its values")
        return found


def _listed_by(annotations: Iterable[Any]) -> ListedBy | None:
    """The ``ListedBy`` among ``annotations``, looking inside ``Annotated`` and ``X | None``."""
    for item in annotations:
        if isinstance(item, ListedBy):
            return item
        found = _listed_by(getattr(item, "__metadata__", ())) or _listed_by(typing.get_args(item))
        if found is not None:
            return found
    return None


def input_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema, flattened for MCP clients.

    Every ``$ref`` is inlined (several clients reject ``$defs``), pydantic's ``title``s and
    ``default: null`` are dropped (they cost tokens and say nothing), and ``Optional[X]`` is shown
    as ``X`` (omitting a field is how an agent says "not set"). Keys come in one fixed order
    (``type`` first), which tokenizes shorter than pydantic's order.
    ``additionalProperties: false`` is stated once, at the top level: nested objects are just as
    strict, because pydantic rejects an unknown nested key, naming its path, before anything is sent.

    Each model's schema is generated once per process; callers get their own copy.
    """
    return copy.deepcopy(_generate(model))


@functools.cache
def _generate(model: type[BaseModel]) -> dict[str, Any]:
    raw = model.model_json_schema()
    defs = raw.pop("$defs", {})
    raw.pop("description", None)  # the docstring is the tool's description; don't send it twice
    return _ordered({**_clean(raw, defs), "additionalProperties": False})


#: Emitted keys come in this order; keys not listed follow in pydantic's order.
_KEY_ORDER = ("type", "description", "enum", "const", "format", "pattern", "items", "minItems", "maxItems",
              "minLength", "maxLength", "minimum", "maximum", "properties", "required", "additionalProperties")
_RANK = {key: index for index, key in enumerate(_KEY_ORDER)}


def _ordered(node: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(node.items(), key=lambda item: _RANK.get(item[0], len(_RANK))))


def _clean(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_clean(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _clean(merged, defs)
    variants = node.get("anyOf")
    if variants is not None:
        not_null = [v for v in variants if v != {"type": "null"}]
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        if len(not_null) == 1:
            return _clean({**not_null[0], **rest}, defs)
        node = {"anyOf": not_null, **rest}  # ``X | Y | None``: null is said by omitting the field
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" and value is None:
            continue
        if key == "additionalProperties" and value is False:
            continue  # stated once, at the top level (see :func:`input_schema`)
        if key == "properties":
            out[key] = {name: _clean(sub, defs) for name, sub in value.items()}
        else:
            out[key] = _clean(value, defs)
    return _ordered(out)
