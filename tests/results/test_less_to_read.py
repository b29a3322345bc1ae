"""Results say things once: a peer report without its repeated sections and empty arrays, and a
livestream list that honours ``fields`` like every list tool."""

from __future__ import annotations

import json

from rtk_mcp.testing import call, sandbox_client


async def test_a_peer_report_says_each_section_once_and_drops_empty_arrays() -> None:
    async with sandbox_client() as client:
        live = await call(client, "list_sessions", {"status": "LIVE"})
        session_id = live["sessions"][0]["id"]
        roster = await call(client, "list_session_participants", {"session_id": session_id})
        peer_id = roster["participants"][0]["id"]
        report = (await call(client, "get_peer_report", {"peer_id": peer_id}))["participant"]
    stats, metadata = report["peer_stats"], report["peer_report"]["metadata"]
    assert {"device_info", "ip_information", "events"} <= stats.keys()
    # Said in peer_stats already (a subset of its values): not said again.
    assert not {"device_info", "ip_information", "events", "browser_metadata"} & metadata.keys()
    assert metadata["sdk_name"] and metadata["pc_metadata"]
    text = json.dumps(report)
    assert "[]" not in text and "{}" not in text


async def test_list_livestreams_honours_fields_and_keeps_ids_names_and_paging() -> None:
    async with sandbox_client() as client:
        everything = await call(client, "list_livestreams", {})
        trimmed = await call(client, "list_livestreams", {"fields": ["status"]})
    assert "ingest_server" in everything and "stream_key" in everything
    assert set(trimmed) == {"id", "name", "status", "paging"}
