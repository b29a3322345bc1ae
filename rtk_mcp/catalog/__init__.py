"""The RealtimeKit API surface as data: one module per documented group, one ``Endpoint`` per tool.

The modules that define parameter models leave out ``from __future__ import annotations``: with it,
every annotation is kept as text and pydantic parses each one back on import, at every start.
"""

from __future__ import annotations

from rtk_mcp.catalog import (
    active_session,
    analytics,
    apps,
    livestreams,
    meetings,
    presets,
    recordings,
    sessions,
    webhooks,
)
from rtk_mcp.catalog.endpoint import PATH_PREFIX, Endpoint, input_schema, input_schemas

__all__ = ["ENDPOINTS", "BY_NAME", "GROUPS", "Endpoint", "input_schema", "input_schemas", "PATH_PREFIX"]

_MODULES = (apps, meetings, presets, sessions, recordings, webhooks, active_session, livestreams, analytics)

#: Every tool, in the order the reference documents them.
ENDPOINTS: tuple[Endpoint, ...] = tuple(ep for module in _MODULES for ep in module.ENDPOINTS)
BY_NAME: dict[str, Endpoint] = {ep.name: ep for ep in ENDPOINTS}
#: The documented groups, usable as toolsets.
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(ep.group for ep in ENDPOINTS))
