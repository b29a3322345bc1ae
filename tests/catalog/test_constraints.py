"""Every rule a tool enforces beyond the reference's own types, enums and required fields is listed here,
with its reason; a rule not listed fails, and so does a listed rule that is gone.

The reference is ``../shared/reference``: ``endpoints.json`` gives each operation's request (types, enums,
required fields, formats) and the docs page gives the bounds the SDK types drop (``maximum600``, ...),
matched to a request field by its name and description. Our side is each tool's full input schema
(``portable=False``: bounds as validation states them) and the validators of its parameter models.
"""

from __future__ import annotations

import json
import re
import typing
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import AfterValidator, BaseModel, BeforeValidator

from rtk_mcp.catalog import ENDPOINTS, Endpoint, input_schema
from rtk_mcp.catalog.endpoint import FIELDS_ARG

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference"

#: Arguments of ours, never sent to the API, and their rules.
OWN_ARGUMENTS = {
    FIELDS_ARG: "picks the fields of each listed item in the result",
    "include_content": "fetches the file behind the returned download URL",
    "offset": "a window on fetched content: 0-based",
    "limit": "a window on fetched content: bounded so one result stays readable",
    "wait_s": "waits for a summary being generated: bounded so a call ends",
}

_RTMP = "the reference calls it an \"RTMP URL\" (format uri): another scheme is refused before a recording fails on it"
_LAYERS = ("the API's object keyed by layer name, taken as a list of named layers (strict schemas refuse open "
           "maps); names must be unique, or layers would silently merge")

#: (tool, field path) -> why the tool enforces more there than the reference says.
OURS: dict[tuple[str, str], str] = {
    **{(tool, "recording_config.live_streaming_config.rtmp_url"): _RTMP
       for tool in ("create_meeting", "replace_meeting")},
    ("start_recording", "rtmp_out_config.rtmp_url"): _RTMP,
    **{(tool, "url"): "format uri, as the docs page states it for a webhook's url (lines 3998-4002); endpoints.json "
       "words this field \"URL this webhook …\" and leaves the format out" for tool in ("create_webhook", "replace_webhook")},
    ("start_track_recording", "layers"): _LAYERS,
    ("start_recording", "url"): "an absolute URL (any scheme): the reference asks for a URL of a page to record, and "
                                "a string that is none could only fail once recording starts",
    **{(tool, "filters"): "a list of the documented values, sent as the documented comma-separated string"
       for tool in ("get_session_participant", "get_peer_report")},
    **{(tool, "ui.config_diff"): "typed unknown: taken as JSON text (strict schemas refuse open objects), sent "
       "as the object" for tool in ("create_preset", "update_preset")},
}

#: Rules every tool applies, whatever the field (their reason, and the validator that applies them).
EVERYWHERE = {
    "check_path_id": "an id put into the URL path must be a plain id: no '/', '?', '#', '%', spaces or hidden "
                     "characters that would change the request's path, host or query",
    "_within_limits": "every string at most 10,000 characters, every integer exact in JSON (2**53 - 1), open "
                      "objects at most 32 levels deep: far beyond real values, far below a request too large",
}

#: Validators that carry out a keyword the schema states (and this test compares) rather than a rule of their own.
_STATED_BY_KEYWORD = {"_check_uri", "_check_date_time", "_check_stream_url"}
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems",
           "maxItems", "pattern", "format")


def _operations() -> dict[tuple[str, str], dict[str, Any]]:
    data = json.loads((REFERENCE / "endpoints.json").read_text())
    return {(op["method"], op["path"].replace("{livestream-session-id}", "{livestream_session_id}")): op
            for op in data["endpoints"]}


def _documented_bounds() -> dict[str, dict[str, list[dict[str, str]]]]:
    """field name -> its first description line in the docs -> the bounds stated under it, as listed."""
    bounds: dict[str, dict[str, list[dict[str, str]]]] = defaultdict(dict)
    field, description, stated = "", "", {}
    for line in [*(REFERENCE / "realtimekit-api-docs.txt").read_text().splitlines(), "end: end"]:
        head = re.match(r"^(\w+)\??: ", line)
        if head:
            if stated:
                bounds[field].setdefault(description, []).append(stated)
            field, description, stated = head.group(1), "", {}
        elif keyword := re.match(r"^(maximum|minimum|format)(\S+)$", line):
            stated[keyword.group(1)] = keyword.group(2)
        elif line.strip() and not description and not line.startswith('"') and line != "One of the following:":
            description = line.strip()
    return bounds


OPERATIONS = _operations()
DOCUMENTED = _documented_bounds()


def _resolved(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        node = {**defs[node["$ref"].rpartition("/")[2]], **{k: v for k, v in node.items() if k != "$ref"}}
    variants = [_resolved(v, defs) for v in node.get("anyOf", []) if v != {"type": "null"}]
    if variants and len({v.get("type") for v in variants}) == 1:
        # One type, offered plain or with a format (``string`` or ``date-time``): the format is what is stated.
        merged: dict[str, Any] = {}
        for variant in variants:
            merged.update(variant)
        node = {**merged, **{k: v for k, v in node.items() if k != "anyOf"}}
    return node


def _stated(name: str, reference: dict[str, Any]) -> dict[str, str]:
    """The bounds the reference states for a request field: in endpoints.json, or in the docs under the same
    name and description (or the same name, where the docs describe that name one way only)."""
    stated = {"format": reference["format"]} if "format" in reference else {}
    if "YYYY-MM-DD" in reference.get("description", ""):
        stated["format"] = "date"
    by_description = DOCUMENTED.get(name, {})
    found = by_description.get(reference.get("description", "").strip())
    if found is None and len(by_description) == 1:
        found = next(iter(by_description.values()))
    for bounds in found or []:
        stated.update(bounds)
    return stated


def _value(keyword: str, value: Any) -> str:
    return str(value).lower() if keyword != "pattern" else str(value)


def _schema_findings(ours: dict[str, Any], reference: dict[str, Any], defs: dict[str, Any], path: str,
                     skip: set[str]) -> Iterator[tuple[str, str]]:
    """(field path, what is beyond the reference) for every property of ``ours``, recursively."""
    required = set(reference.get("required", []))
    for name, node in ours.get("properties", {}).items():
        where = f"{path}{name}"
        if not path and name in skip:
            continue
        if name not in reference.get("properties", {}):
            if not path and name in OWN_ARGUMENTS:
                continue
            yield where, "a field the reference does not have"
            continue
        yield from _node_findings(node, _resolved(reference["properties"][name], defs), defs, where, name)
        if name in ours.get("required", []) and name not in required:
            yield where, "required"


def _node_findings(ours: dict[str, Any], reference: dict[str, Any], defs: dict[str, Any], where: str,
                   name: str) -> Iterator[tuple[str, str]]:
    stated = _stated(name, reference)
    for keyword in _BOUNDS:
        if keyword in ours and stated.get(keyword) != _value(keyword, ours[keyword]):
            if not (keyword == "minimum" and ours[keyword] == 0 and ours.get("type") == "integer"
                    and reference.get("type") == "integer"):
                yield where, f"{keyword} {ours[keyword]}"
    ref_type = reference.get("type")
    our_type = ours.get("type")
    if ref_type and our_type and our_type != ref_type and not (our_type == "integer" and ref_type == "number"):
        # integer for "number": every field so typed counts things (seconds, pixels, pages), as the docs say.
        yield where, f"type {our_type}, not {ref_type}"
    if "enum" in ours:
        documented = reference.get("enum") or ([reference["const"]] if "const" in reference else None)
        if documented is None or not set(ours["enum"]) <= set(documented):
            yield where, f"enum {ours['enum']}"
    if "items" in ours and "items" in reference:
        yield from _node_findings(ours["items"], _resolved(reference["items"], defs), defs, where + "[]", name)
        if "properties" in ours["items"]:
            yield from _schema_findings(ours["items"], _resolved(reference["items"], defs), defs, where + "[].", set())
    if "properties" in ours and ref_type in ("object", None) and "properties" in reference:
        yield from _schema_findings(ours, reference, defs, where + ".", set())


def _validator_findings(model: type[BaseModel], path: str = "") -> Iterator[tuple[str, str]]:
    """(field path, validator name) for every validator of a field that is a rule of its own."""
    decorators = model.__pydantic_decorators__.field_validators.values()
    for name, info in model.model_fields.items():
        where = f"{path}{info.alias or name}"
        for decorator in decorators:
            if name in decorator.info.fields and decorator.cls_var_name not in EVERYWHERE:
                yield where, decorator.cls_var_name
        for item in _annotations(info.annotation, info.metadata):
            if isinstance(item, (AfterValidator, BeforeValidator)):
                function = item.func.__name__
                if function not in _STATED_BY_KEYWORD and function not in EVERYWHERE:
                    yield where, function
            elif isinstance(item, type) and issubclass(item, BaseModel):
                yield from _validator_findings(item, where + ("[]." if _in_list(info.annotation) else "."))


def _annotations(annotation: Any, metadata: list[Any]) -> Iterator[Any]:
    yield from metadata
    yield annotation
    yield from getattr(annotation, "__metadata__", ())
    for arg in typing.get_args(annotation):
        yield from _annotations(arg, [])


def _in_list(annotation: Any) -> bool:
    return typing.get_origin(annotation) is list or any(_in_list(arg) for arg in typing.get_args(annotation))


def findings(endpoint: Endpoint) -> dict[str, list[str]]:
    """Field path -> each rule the tool enforces there beyond the reference."""
    operation = OPERATIONS[endpoint.method, endpoint.full_path]
    reference = operation["params_schema"] or {"properties": {}}
    found: dict[str, list[str]] = defaultdict(list)
    ours = input_schema(endpoint.params, portable=False)
    for where, what in _schema_findings(ours, reference, reference.get("$defs", {}), "", set(endpoint.path_fields)):
        found[where].append(what)
    for where, what in _validator_findings(endpoint.params):
        if where.split(".")[0] not in OWN_ARGUMENTS:
            found[where].append(what)
    return dict(found)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda ep: ep.name)
def test_every_rule_beyond_the_reference_is_listed_with_its_reason(endpoint: Endpoint) -> None:
    found = findings(endpoint)
    listed = {path for tool, path in OURS if tool == endpoint.name}
    unlisted = {path: rules for path, rules in found.items() if path not in listed}
    assert not unlisted, f"{endpoint.name}: rules the reference does not state, not listed in OURS: {unlisted}"
    gone = listed - set(found)
    assert not gone, f"{endpoint.name}: listed in OURS but no longer enforced: {gone}"


def test_the_rules_applied_everywhere_are_still_applied() -> None:
    from rtk_mcp.catalog import common

    assert common.Params.__pydantic_decorators__.field_validators["_within_limits"].info.fields == ("*",)
    for endpoint in ENDPOINTS:
        for name in endpoint.path_fields:
            functions = {item.func.__name__ for item in _annotations(endpoint.params.model_fields[name].annotation,
                                                                      endpoint.params.model_fields[name].metadata)
                         if isinstance(item, AfterValidator)}
            assert "check_path_id" in functions, (endpoint.name, name)


def test_a_rule_not_listed_fails() -> None:
    """The check can fail: a bound added to a field the reference leaves open is found, with its path."""
    from pydantic import Field, create_model

    from rtk_mcp.catalog.livestreams import LivestreamResolution, StartMeetingLivestream

    capped = create_model("Capped", __base__=LivestreamResolution, width=(int | None, Field(default=None, le=1920)))
    model = create_model("Capped", __base__=StartMeetingLivestream, video_config=(capped | None, None))
    endpoint = Endpoint("start_meeting_livestream", "POST", "/{app_id}/meetings/{meeting_id}/livestreams", model,
                        "Start meeting livestream")
    assert findings(endpoint) == {"video_config.width": ["maximum 1920"]}


def test_documented_bounds_are_read_from_the_reference() -> None:
    """The bounds the docs state (which endpoints.json drops) are found, each under its own field."""
    assert DOCUMENTED["session_keep_alive_time_in_secs"]
    assert {"maximum": "1920", "minimum": "1"} in DOCUMENTED["width"]["Width of the recording video in pixels"]
    assert "Width of the livestreaming video in pixels" not in DOCUMENTED["width"]
    # start_recording's width and height (1-1920), max_seconds (60-86400), watermark size (min 1) and URL
    # (format uri) are documented; the page URL's form and the RTMP scheme are ours.
    start_recording = next(ep for ep in ENDPOINTS if ep.name == "start_recording")
    assert findings(start_recording) == {"url": ["format uri"], "rtmp_out_config.rtmp_url": ["pattern ^rtmps?://"]}
