"""One row of the API surface, and the JSON Schema an agent sees for it.

An ``Endpoint`` is data: a tool name, an HTTP method, a path template and a pydantic model of
every parameter. Everything else — the tool's input schema, description, annotations, which
fields go into the path, the query string or the body — is derived from the row, so the 53
tools share one code path (see ``rtk_mcp.server``).
"""

from __future__ import annotations

import copy
import re
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, Field, create_model
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from rtk_mcp.catalog.common import ListedBy

__all__ = ["Endpoint", "input_schema", "input_schemas", "PATH_PREFIX", "FIELDS_ARG"]

#: Every RealtimeKit path starts here; ``account_id`` always comes from the environment.
PATH_PREFIX = "/accounts/{account_id}/realtime/kit"

_PLACEHOLDER = re.compile(r"{(\w+)}")

#: The argument of list tools that picks which fields of each item come back (ids and names always do).
FIELDS_ARG = "fields"


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
    #: Part of the ``default`` toolset: the everyday meeting work most users need, at a fraction of
    #: the catalogue's cost in context.
    default_toolset: bool = False
    #: Where the reference documents the same operation under another group, say so here.
    alias_of: str | None = None
    #: The reference documents no response body (``void``): an empty 2xx answer is a success.
    returns_nothing: bool = False
    #: The participant-written file the tool can also return (``include_content``): "transcript",
    #: "chat" or "summary"; fetched and parsed by ``rtk_mcp.results.content``, never sent to the API.
    reads: str | None = None
    #: Each path placeholder, in order, and where its valid values come from (its type says so).
    path_ids: dict[str, ListedBy] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_ids", {name: self._source_of(name) for name in _PLACEHOLDER.findall(self.path)})
        if self.list_result and FIELDS_ARG not in self.params.model_fields:
            # The same model (name, docstring, group) with the optional ``fields`` argument added.
            fields_arg = (Annotated[list[str] | None, Field(description="Fields per item")], None)
            object.__setattr__(self, "params", create_model(
                self.params.__name__, __base__=self.params, __doc__=self.params.__doc__,
                __module__=self.params.__module__, **{FIELDS_ARG: fields_arg}))

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
        ``rtk_mcp.results.shaping.select_fields``, never sent to the API)."""
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


def input_schema(model: type[BaseModel], *, portable: bool = True) -> dict[str, Any]:
    """The model's JSON Schema, flattened for MCP clients.

    Every ``$ref`` is inlined (several clients reject ``$defs``), pydantic's ``title``s and
    ``default: null`` are dropped (they cost tokens and say nothing), and ``Optional[X]`` is shown
    as ``X`` (omitting a field is how an agent says "not set"). Keys come in one fixed order
    (``type`` first), which tokenizes shorter than pydantic's order. Only keywords every provider
    accepts are written (see "the dialect" below); validation enforces every rule either way.

    ``portable=False`` gives every rule as validation states it (bounds, lengths) instead: what a
    test generating valid arguments needs, never what an agent is shown.

    Each model's schema is generated once per process; callers get their own copy.
    """
    return input_schemas([model], portable=portable)[0]


def input_schemas(models: Iterable[type[BaseModel]], *, portable: bool = True) -> list[dict[str, Any]]:
    """:func:`input_schema` of each of ``models``, generated in one pass, so that a nested model several
    of them share (a storage config, an AI config) is generated once."""
    models = list(models)
    missing = [model for model in dict.fromkeys(models) if (model, portable) not in _generated]
    if missing:
        refs, shared = models_json_schema([(model, "validation") for model in missing],
                                          schema_generator=_SchemaGenerator)
        defs = shared.get("$defs", {})
        for model in missing:
            raw = dict(defs[refs[model, "validation"]["$ref"].rpartition("/")[2]])
            raw.pop("description", None)  # the docstring is the tool's description; don't send it twice
            _generated[model, portable] = _ordered({**_clean(raw, defs, portable), "additionalProperties": False})
    return [copy.deepcopy(_generated[model, portable]) for model in models]


_generated: dict[tuple[type[BaseModel], bool], dict[str, Any]] = {}


class _SchemaGenerator(GenerateJsonSchema):
    def encode_default(self, dft: Any) -> Any:
        # pydantic builds a serializer for every default it writes; ``None`` needs none, and
        # ``default: null`` is dropped from the schema anyway (see _clean).
        return None if dft is None else super().encode_default(dft)


#: Emitted keys come in this order; keys not listed follow in pydantic's order.
_KEY_ORDER = ("type", "description", "enum", "format", "pattern", "items", "minItems", "properties", "required",
              "additionalProperties")
_RANK = {key: index for index, key in enumerate(_KEY_ORDER)}


def _ordered(node: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(node.items(), key=lambda item: _RANK.get(item[0], len(_RANK))))


def _clean(node: Any, defs: dict[str, Any], portable: bool) -> Any:
    if isinstance(node, list):
        return [_clean(item, defs, portable) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _clean(merged, defs, portable)
    variants = node.get("anyOf")
    if variants is not None:
        not_null = [v for v in variants if v != {"type": "null"}]
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        if len(not_null) == 1:
            return _clean({**not_null[0], **rest}, defs, portable)
        node = {"anyOf": not_null, **rest}  # ``X | Y | None``: null is said by omitting the field
    out: dict[str, Any] = {}
    for key, value in node.items():
        if (key == "title" and isinstance(value, str)) or (key == "default" and value is None):
            continue
        if key == "properties":
            out[key] = {name: _clean(sub, defs, portable) for name, sub in value.items()}
        else:
            out[key] = _clean(value, defs, portable)
    return _ordered(_portable(out) if portable else out)


# --- the dialect every provider accepts ---------------------------------------------------------
#
# Hosts hand these schemas to OpenAI (Structured Outputs in strict mode), Anthropic (strict tool
# use) and Gemini (the OpenAPI-subset ``parameters`` or ``parametersJsonSchema``), and a provider that
# refuses one keyword refuses the whole request. So a keyword reaches the schema only if all of them
# accept it; a rule none can carry goes into the description, and pydantic still enforces every rule
# on every call, naming the field (tests/catalog/test_portability.py runs the providers' own conversions).
#
# - ``format``: only ``date-time`` is on all three lists (Gemini takes ``enum``/``date-time`` only;
#   OpenAI refuses ``uri`` outright). URLs say their scheme with ``pattern``, dates their form in words.
# - ``pattern``: kept. OpenAI strict and Gemini take it; Anthropic's strict grammar takes simple ones.
# - ``minimum``/``maximum`` (and exclusive forms), ``minLength``/``maxLength``, ``maxItems``, and
#   ``minItems`` above 1: Anthropic's strict grammar refuses them, so a bound is written into the
#   description instead ("150-1000"; a lone minimum of 0 or 1 goes without saying).
#   ``minItems: 1`` stays (Anthropic takes 0 and 1).
# - ``additionalProperties: false`` on every object: strict OpenAI and Anthropic require it; Gemini's
#   conversion drops it. (An open map cannot be written portably, so the catalog has none.)
# - ``const``: Gemini's schema model has no ``const``; ``enum`` with the one value says the same.
# - ``contentMediaType`` (JSON carried as text, see catalog.common.JsonObject): outside Gemini's
#   subset; the description says it.

_PORTABLE_FORMATS = {"date-time"}
_FORMAT_WORDS = {"date": "YYYY-MM-DD"}


def _portable(node: dict[str, Any]) -> dict[str, Any]:
    """One schema node in the dialect above (its children are already done)."""
    out = dict(node)
    notes = []
    if "const" in out:
        out["enum"] = [out.pop("const")]
    out.pop("contentMediaType", None)
    fmt = out.get("format")
    if fmt is not None and fmt not in _PORTABLE_FORMATS:
        del out["format"]
        if fmt in _FORMAT_WORDS and _FORMAT_WORDS[fmt] not in out.get("description", ""):
            notes.append(_FORMAT_WORDS[fmt])
    low = out.pop("minimum", None)
    high = out.pop("maximum", None)
    if low is not None and high is not None:
        notes.append(f"{low}-{high}")
    elif low is not None and low not in (0, 1):  # not negative, or not 0, goes without saying
        notes.append(f"min {low}")
    elif high is not None:
        notes.append(f"max {high}")
    for keyword, words in (("exclusiveMinimum", "over"), ("exclusiveMaximum", "under")):
        if keyword in out:
            notes.append(f"{words} {out.pop(keyword)}")
    if out.pop("minLength", 1) > 1:
        notes.append(f"at least {node['minLength']} characters")
    if "maxLength" in out:
        notes.append(f"at most {out.pop('maxLength')} characters")
    if out.get("minItems", 1) > 1:
        notes.append(f"at least {out.pop('minItems')} items")
    if "maxItems" in out:
        notes.append(f"at most {out.pop('maxItems')} items")
    if notes:
        description = out.get("description", "").rstrip(". ")
        out["description"] = f"{description}, {', '.join(notes)}" if description else ", ".join(notes)
    if out.get("type") == "object" or "properties" in out:
        out.setdefault("additionalProperties", False)
    return out
