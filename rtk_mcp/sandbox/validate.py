"""Request bodies checked against the reference, with jsonschema.

Each operation's ``body`` schema in :mod:`rtk_mcp.reference` is ``endpoints.json``'s parameter schema
plus the ranges and URL formats the docs page adds (``tools/gen_reference.py`` lists them). Keys the
reference does not name are accepted, as its schemas allow. A problem is told by field and rule, never
by the value sent: a value may be a credential (a storage ``secret``).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from rtk_mcp.reference import operations

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

__all__ = ["body_problem", "takes_body"]

_FORMATS = {"uri": "an absolute URI"}


def takes_body(operation: str) -> bool:
    """Whether *operation* (``"POST /{app_id}/meetings"``) is documented with a request body."""
    return "body" in operations()[operation]


def _is_absolute_uri(value: object) -> bool:
    parts = urlparse(value) if isinstance(value, str) else None
    return parts is None or bool(parts.scheme and parts.netloc)


@functools.cache
def _validator(operation: str) -> Validator:
    import jsonschema  # here, not at the top: a server that never sends the sandbox a body never loads it

    formats = jsonschema.FormatChecker(())
    formats.checks("uri", raises=ValueError)(_is_absolute_uri)
    return jsonschema.Draft202012Validator(operations()[operation]["body"], format_checker=formats)


def _kinds(types: str | list[str]) -> str:
    names = [types] if isinstance(types, str) else types
    return " or ".join(name if name == "null" else ("an " if name[0] in "aeiou" else "a ") + name for name in names)


def _rule(keyword: str, value: Any) -> str:
    if keyword == "type":
        return f"must be {_kinds(value)}"
    if keyword == "anyOf":  # no form fits even in type (best_match looks inside a form that does)
        return f"must be {_kinds([form['type'] for form in value])}"
    if keyword == "enum":
        return "must be one of: " + ", ".join(map(str, value))
    if keyword == "const":
        return f"must be {value}"
    if keyword in ("minimum", "maximum"):
        return f"must be {'>=' if keyword == 'minimum' else '<='} {value}"
    if keyword == "format":
        return f"must be {_FORMATS.get(value, value)}"
    return f"breaks the reference's '{keyword}' rule"


def body_problem(operation: str, body: Any) -> str | None:
    """What is wrong with *body* for *operation*, naming the field, or None when nothing is."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator(operation).iter_errors(body))
    if error is None:
        return None
    path = list(error.absolute_path)
    if error.validator == "required":
        path.append(next(name for name in error.validator_value if name not in error.instance))
        problem = "is required"
    else:
        problem = _rule(str(error.validator), error.validator_value)
    where = "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in path).lstrip(".")
    return f"'{where or 'body'}' {problem}"
