"""The API reference as data, shipped in the package: ``reference.json``.

``tools/gen_reference.py`` writes it from the reference that sits beside a checkout (its
``endpoints.json`` and the ranges its docs page adds); a test fails when it is stale. One entry per
documented operation, keyed ``"METHOD /path"`` with the path under ``/accounts/{account_id}/realtime/kit``
as documented (``{livestream_session_id}`` spelled with underscores like every other placeholder):

- ``body``: the JSON Schema of the request body, for the operations that take one, as strict as the
  reference: the sandbox validates requests with it;
- ``response``: the documented fields of the answer's ``data`` and ``paging``, loosened so that they
  never reject a valid answer: ``rtk_mcp.results.outputs`` builds the output schemas from it.

It imports nothing of the package, so the sandbox (which must not read the catalog) and the results
layer can both read it.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

__all__ = ["REFERENCE_FILE", "operations"]

REFERENCE_FILE = Path(__file__).with_name("reference.json")


@functools.cache
def operations() -> dict[str, dict[str, Any]]:
    """Every documented operation by ``"METHOD /path"`` (shared: read it, never change it)."""
    return json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))
