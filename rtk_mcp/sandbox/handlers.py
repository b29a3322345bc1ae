"""Endpoint handlers and the route table.

Every handler takes a :class:`Ctx` and returns ``(status, payload)``; it raises
:class:`~rtk_mcp.sandbox.store.ApiError` for client errors. Handlers never await, so each
request's read-modify-write of the state is atomic within the event loop.
"""

from __future__ import annotations

import copy
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from starlette.datastructures import QueryParams

from .seed import MEETING_DEFAULTS, default_preset, livestream_record, make_token
from .store import ApiError, deep_merge, find, iso, new_id, now, now_iso, paginate, parse_ts, pick, public

Reply = tuple[int, dict[str, Any]]
Record = dict[str, Any]


@dataclass
class Ctx:
    st: dict[str, Any]  # the whole state
    app_id: str | None  # validated app id of /{app_id}/... routes
    p: dict[str, str]  # path parameters
    q: QueryParams
    body: dict[str, Any]
    base: str  # base URL of the sandbox, e.g. "http://sandbox/"


def ok(data: Any, status: int = 200, **extra: Any) -> Reply:
    return status, {"success": True, "data": data, **extra}


# --------------------------------------------------------------------------- query parameters


def _bad_query(name: str, problem: str) -> ApiError:
    return ApiError(400, f"Invalid query parameter '{name}': {problem}")


def q_int(ctx: Ctx, name: str, default: int) -> int:
    raw = ctx.q.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _bad_query(name, "must be an integer") from None
    if value < 1:
        raise _bad_query(name, "must be >= 1")
    return value


def q_enum(ctx: Ctx, name: str, allowed: Iterable[str], default: str | None = None) -> str | None:
    raw = ctx.q.get(name)
    if raw in (None, ""):
        return default
    allowed = tuple(allowed)
    if raw not in allowed:
        raise _bad_query(name, "must be one of: " + ", ".join(allowed))
    return raw


def q_list(ctx: Ctx, name: str, allowed: Iterable[str]) -> list[str]:
    """A repeated and/or comma-separated enum parameter."""
    allowed = tuple(allowed)
    values = [v for raw in ctx.q.getlist(name) for v in raw.split(",") if v]
    for v in values:
        if v not in allowed:
            raise _bad_query(name, f"{v!r} is not one of: " + ", ".join(allowed))
    return values


def q_bool(ctx: Ctx, name: str) -> bool | None:
    raw = ctx.q.get(name)
    if raw in (None, ""):
        return None
    if raw.lower() not in ("true", "false", "1", "0"):
        raise _bad_query(name, "must be true or false")
    return raw.lower() in ("true", "1")


def q_time(ctx: Ctx, name: str) -> datetime | None:
    raw = ctx.q.get(name)
    if raw in (None, ""):
        return None
    try:
        return parse_ts(raw)
    except ValueError:
        raise _bad_query(name, "must be an ISO 8601 date-time") from None


def q_date(ctx: Ctx, name: str) -> date | None:
    raw = ctx.q.get(name)
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise _bad_query(name, "must be a date in YYYY-MM-DD format") from None


def time_window(ctx: Ctx, items: list[Record], key: str) -> list[Record]:
    """Keep items whose *key* timestamp lies within the start_time/end_time query window."""
    lo, hi = q_time(ctx, "start_time"), q_time(ctx, "end_time")
    return [i for i in items if (lo is None or parse_ts(i[key]) >= lo) and (hi is None or parse_ts(i[key]) <= hi)]


def matches(ctx: Ctx, item: Record, *keys: str) -> bool:
    """Case-insensitive substring search of the ``search`` query parameter over *keys*."""
    term = (ctx.q.get("search") or "").strip().lower()
    return not term or any(term in str(item.get(k) or "").lower() for k in keys)


def paged(ctx: Ctx, items: list[Any], per_page: int = 20) -> tuple[list[Any], Record]:
    return paginate(items, q_int(ctx, "page_no", 1), q_int(ctx, "per_page", per_page))


def owned(ctx: Ctx, collection: str, **where: Any) -> list[Record]:
    """Records of *collection* that belong to the current app and match *where*."""
    return [
        r for r in ctx.st[collection].values()
        if r.get("_app") == ctx.app_id and all(r.get(k) == v for k, v in where.items())
    ]


def touch(record: Record, **changes: Any) -> Record:
    record.update(changes, updated_at=now_iso())
    return record


def _strip_secrets(cfg: Any) -> Any:
    """Storage credentials are write-only: never echoed back."""
    if isinstance(cfg, dict):
        return {k: _strip_secrets(v) for k, v in cfg.items() if k not in ("access_key", "secret")}
    return cfg


# --------------------------------------------------------------------------- apps


def list_apps(ctx: Ctx) -> Reply:
    return ok([public(a) for a in sorted(ctx.st["apps"].values(), key=lambda a: a["created_at"])])


def create_app(ctx: Ctx) -> Reply:
    app = {"id": new_id(), "name": ctx.body["name"], "created_at": now_iso()}
    ctx.st["apps"][app["id"]] = app
    return ok({"app": public(app)}, 201)


# --------------------------------------------------------------------------- meetings

MEETING_SUMMARY = (
    "id", "title", "status", "created_at", "updated_at", "record_on_start", "live_stream_on_start",
    "persist_chat", "summarize_on_end", "session_keep_alive_time_in_secs",
)


def meeting(ctx: Ctx, meeting_id: str | None = None) -> Record:
    return find(ctx.st, "meetings", ctx.app_id, meeting_id or ctx.p["meeting_id"], "Meeting")


def render_meeting(m: Record) -> Record:
    out = _strip_secrets(public(m))
    if out.get("recording_config") is None:
        out.pop("recording_config", None)
    return out


def list_meetings(ctx: Ctx) -> Reply:
    items = [m for m in owned(ctx, "meetings") if matches(ctx, m, "id", "title")]
    items = sorted(time_window(ctx, items, "created_at"), key=lambda m: m["created_at"], reverse=True)
    page, paging = paged(ctx, items)
    return ok([pick(m, MEETING_SUMMARY) for m in page], paging=paging)


def create_meeting(ctx: Ctx) -> Reply:
    ts = now_iso()
    m = {"id": new_id(), **deep_merge(MEETING_DEFAULTS, ctx.body), "created_at": ts, "updated_at": ts, "_app": ctx.app_id}
    ctx.st["meetings"][m["id"]] = m
    return ok(render_meeting(m), 201)


def get_meeting(ctx: Ctx) -> Reply:
    return ok(render_meeting(meeting(ctx)))


def update_meeting(ctx: Ctx) -> Reply:
    m = touch(deep_merge(meeting(ctx), ctx.body))
    ctx.st["meetings"][m["id"]] = m
    return ok(render_meeting(m))


def replace_meeting(ctx: Ctx) -> Reply:
    old = meeting(ctx)
    keep = {k: old[k] for k in ("id", "created_at", "status", "_app")}  # PUT has no status field
    new = {**deep_merge(MEETING_DEFAULTS, ctx.body), **keep, "updated_at": now_iso()}
    ctx.st["meetings"][old["id"]] = new
    return ok(render_meeting(new))


# --------------------------------------------------------------------------- meeting participants

PARTICIPANT = ("id", "custom_participant_id", "name", "picture", "preset_name", "created_at", "updated_at")


def preset_named(ctx: Ctx, name: str) -> Record:
    for p in owned(ctx, "presets", name=name):
        return p
    raise ApiError(400, f"Invalid field 'preset_name': no preset named {name!r} in this app")


def participant(ctx: Ctx) -> Record:
    meeting(ctx)
    rec = find(ctx.st, "participants", ctx.app_id, ctx.p["participant_id"], "Participant")
    if rec["_meeting"] != ctx.p["meeting_id"]:
        raise ApiError(404, "Participant not found")
    return rec


def list_participants(ctx: Ctx) -> Reply:
    m = meeting(ctx)
    items = sorted(owned(ctx, "participants", _meeting=m["id"]), key=lambda p: p["created_at"])
    page, paging = paged(ctx, items)
    return ok([pick(p, PARTICIPANT) for p in page], paging=paging)


def add_participant(ctx: Ctx) -> Reply:
    m = meeting(ctx)
    preset = preset_named(ctx, ctx.body["preset_name"])
    ts = now_iso()
    rec = {
        "id": new_id(), "custom_participant_id": ctx.body["custom_participant_id"], "name": ctx.body.get("name"),
        "picture": ctx.body.get("picture"), "preset_name": preset["name"], "created_at": ts, "updated_at": ts,
        "_app": ctx.app_id, "_meeting": m["id"], "_preset_id": preset["id"],
    }
    rec["token"] = make_token(rec)
    ctx.st["participants"][rec["id"]] = rec
    return ok(pick(rec, (*PARTICIPANT, "token")), 201)


def get_participant(ctx: Ctx) -> Reply:
    return ok(pick(participant(ctx), PARTICIPANT))


def edit_participant(ctx: Ctx) -> Reply:
    rec = participant(ctx)
    changes = {k: ctx.body[k] for k in ("name", "picture") if k in ctx.body}
    if ctx.body.get("preset_name") is not None:
        preset = preset_named(ctx, ctx.body["preset_name"])
        changes.update(preset_name=preset["name"], _preset_id=preset["id"])
    touch(rec, **changes)
    return ok(pick(rec, (*PARTICIPANT, "token")))


def delete_participant(ctx: Ctx) -> Reply:
    rec = participant(ctx)
    del ctx.st["participants"][rec["id"]]
    return ok({**pick(rec, ("created_at", "custom_participant_id", "updated_at")), "preset_id": rec["_preset_id"]})


def refresh_token(ctx: Ctx) -> Reply:
    rec = participant(ctx)
    touch(rec, token=make_token(rec))
    return ok({"token": rec["token"]})


# --------------------------------------------------------------------------- presets


def preset(ctx: Ctx) -> Record:
    return find(ctx.st, "presets", ctx.app_id, ctx.p["preset_id"], "Preset")


def _unique_preset_name(ctx: Ctx, name: str, self_id: str | None = None) -> None:
    if any(p["id"] != self_id for p in owned(ctx, "presets", name=name)):
        raise ApiError(409, f"A preset named {name!r} already exists")


def list_presets(ctx: Ctx) -> Reply:
    items = sorted(owned(ctx, "presets"), key=lambda p: (p["created_at"], p["name"]))
    page, paging = paged(ctx, items)
    return ok([pick(p, ("id", "name", "created_at", "updated_at")) for p in page], paging=paging)


def create_preset(ctx: Ctx) -> Reply:
    _unique_preset_name(ctx, ctx.body["name"])
    base = default_preset(ctx.body["name"], ctx.body["config"]["view_type"])
    ts = now_iso()
    rec = {"id": new_id(), **deep_merge(base, ctx.body), "created_at": ts, "updated_at": ts, "_app": ctx.app_id}
    ctx.st["presets"][rec["id"]] = rec
    return ok(public(rec), 201)


def get_preset(ctx: Ctx) -> Reply:
    return ok(public(preset(ctx)))


def update_preset(ctx: Ctx) -> Reply:
    rec = preset(ctx)
    if "name" in ctx.body:
        _unique_preset_name(ctx, ctx.body["name"], rec["id"])
    merged = touch(deep_merge(rec, ctx.body))
    ctx.st["presets"][rec["id"]] = merged
    return ok(public(merged))


def delete_preset(ctx: Ctx) -> Reply:
    rec = ctx.st["presets"].pop(preset(ctx)["id"])
    return ok(public(rec))


# --------------------------------------------------------------------------- sessions

SESSION_PARTICIPANT = (
    "id", "user_id", "custom_participant_id", "display_name", "preset_name", "joined_at", "left_at",
    "duration", "created_at", "updated_at",
)


def session(ctx: Ctx) -> Record:
    return find(ctx.st, "sessions", ctx.app_id, ctx.p["session_id"], "Session")


def joined(s: Record) -> list[Record]:
    return [p for p in s["_participants"] if p["left_at"] is None]


def render_session(s: Record) -> Record:
    out = public(s)
    out["live_participants"] = len(joined(s)) if s["status"] == "LIVE" else 0
    return out


def list_sessions(ctx: Ctx) -> Reply:
    status = q_enum(ctx, "status", ("LIVE", "ENDED"))
    assoc = ctx.q.get("associated_id")
    sort_key = {"createdAt": "created_at", "minutesConsumed": "minutes_consumed"}[
        q_enum(ctx, "sort_by", ("minutesConsumed", "createdAt"), "createdAt") or "createdAt"
    ]
    desc = q_enum(ctx, "sort_order", ("ASC", "DESC"), "DESC") == "DESC"
    items = [
        s for s in owned(ctx, "sessions")
        if (status is None or s["status"] == status) and (not assoc or s["associated_id"] == assoc)
        and matches(ctx, s, "meeting_display_name", "associated_id", "id")
    ]
    items = sorted(time_window(ctx, items, "started_at"), key=lambda s: s[sort_key], reverse=desc)
    page, _ = paged(ctx, items)
    return ok({"sessions": [render_session(s) for s in page]})


def get_session(ctx: Ctx) -> Reply:
    q_bool(ctx, "include_breakout_rooms")
    return ok({"session": render_session(session(ctx))})


def list_session_participants(ctx: Ctx) -> Reply:
    s = session(ctx)
    q_enum(ctx, "view", ("raw", "consolidated"))
    q_bool(ctx, "include_peer_events")
    key = {"joinedAt": "joined_at", "duration": "duration"}[q_enum(ctx, "sort_by", ("joinedAt", "duration"), "joinedAt") or "joinedAt"]
    desc = q_enum(ctx, "sort_order", ("ASC", "DESC"), "ASC") == "DESC"
    items = [p for p in s["_participants"] if matches(ctx, p, "display_name", "custom_participant_id", "id")]
    page, _ = paged(ctx, sorted(items, key=lambda p: p[key], reverse=desc))
    return ok({"participants": [pick(p, SESSION_PARTICIPANT) for p in page]})


def session_peer(s: Record, peer_id: str) -> Record:
    for p in s["_participants"]:
        if peer_id in (p["id"], p["user_id"]):
            return p
    raise ApiError(404, "Participant not found")


_CLIENTS = [  # browser, version, engine, os, os version, city, region, country, timezone, lat, lon
    ("Chrome", "131.0.0.0", "Blink", "macOS", "14.6", "San Francisco", "California", "US", "America/Los_Angeles", 37.77, -122.42),
    ("Firefox", "133.0", "Gecko", "Windows", "11", "London", "England", "GB", "Europe/London", 51.51, -0.13),
    ("Safari", "18.1", "WebKit", "iOS", "18.1", "Bengaluru", "Karnataka", "IN", "Asia/Kolkata", 12.97, 77.59),
]


def _client(p: Record) -> tuple[Any, ...]:
    n = int(hashlib.sha256(p["id"].encode()).hexdigest(), 16)
    return (*_CLIENTS[n % len(_CLIENTS)], n % 200 + 20)


def _peer_stats(p: Record, report: bool) -> Record:
    """Deterministic, plausible device/network stats for a session participant."""
    browser, version, engine, os_, os_v, city, region, country, tz, lat, lon, host = _client(p)
    ip = f"203.0.113.{host}"
    events = [
        {"type": t, "timestamp": iso(parse_ts(p["joined_at"]) + timedelta(seconds=s))}
        for t, s in (("precall_begin", -20), ("precall_end", -5), ("call_join", 0), ("audio_on", 2), ("video_on", 3))
    ]
    if p["left_at"]:
        events.append({"type": "call_leave", "timestamp": p["left_at"]})
    net = {
        "backend_rtt": 0.042, "effective_networktype": "4g", "fractional_loss": 0, "jitter": 2,
        "reflexive_connectivity": True, "relay_connectivity": True, "rtt": 0.038, "turn_connectivity": True,
        ("throughput" if report else "throughtput"): 18500,
    }
    return {
        "device_info": {
            "browser": browser, "browser_version": version, "cpus": 8, "engine": engine, "is_mobile": os_ == "iOS",
            "memory": 8, "os": os_, "os_version": os_v, "sdk_name": "web-core", "sdk_version": "1.2.0",
            "user_agent": f"Mozilla/5.0 ({os_} {os_v}) {browser}/{version}", "webgl_support": "WebGL2",
        },
        "ip_information": {
            "city": city, "region": region, "country": country, "timezone": tz, "ipv4": ip,
            "ip_location": f"{lat},{lon}", "org": "AS64500 Sandbox Networks",
            **({"asn": {"asn": "AS64500"}} if report else {}),
        },
        "precall_network_information": net,
        "events": events,
    }


def _quality_samples(p: Record, video: bool) -> list[Record]:
    start = parse_ts(p["joined_at"])
    out = []
    for i in range(3):
        sample = {"timestamp": iso(start + timedelta(minutes=i)), "jitter": 3 + i, "packets_lost": i, "quality": 90 - 2 * i}
        sample.update(
            {"frame_height": 720, "frame_width": 1280, "frames_dropped": i, "frames_per_second": 30}
            if video else {"concealment_events": i}
        )
        out.append(sample)
    return out


def _filters(ctx: Ctx) -> set[str]:
    allowed = ("device_info", "ip_information", "precall_network_information", "events", "quality_stats")
    return set(q_list(ctx, "filters", allowed)) or set(allowed)


def get_session_participant(ctx: Ctx) -> Reply:
    p = session_peer(session(ctx), ctx.p["participant_id"])
    wanted = _filters(ctx)
    if not q_bool(ctx, "include_peer_events"):
        wanted.discard("events")
    stats = {k: v for k, v in _peer_stats(p, report=False).items() if k in wanted}
    out = {**pick(p, SESSION_PARTICIPANT), "peer_stats": {**stats, "status": "ENDED" if p["left_at"] else "LIVE"}}
    if "quality_stats" in wanted:
        out["quality_stats"] = [{
            "peer_id": p["id"], "start": p["joined_at"], "end": p["left_at"] or p["updated_at"], "average_quality": 88,
            "audio_bandwidth": 48, "video_bandwidth": 1200, "audio_packet_loss": 0.2, "video_packet_loss": 0.4,
            "audio_stats": _quality_samples(p, False), "video_stats": _quality_samples(p, True),
        }]
    return ok({"participant": out})


def peer_report(ctx: Ctx) -> Reply:
    wanted = _filters(ctx)
    peers = [p for s in owned(ctx, "sessions") for p in s["_participants"] if p["id"] == ctx.p["peer_id"]]
    if not peers:
        raise ApiError(404, "Peer not found")
    p = peers[0]
    stats = _peer_stats(p, report=True)
    device = stats["device_info"]
    audio = [
        {"timestamp": x["timestamp"], "jitter": x["jitter"], "packets_lost": x["packets_lost"], "mos_quality": 4,
         "bytes_sent": 240_000 * (i + 1), "packets_sent": 3000 * (i + 1), "rtt": 0.04, "ssrc": 1001, "mid": "0",
         "producer_id": f"{p['id']}-audio"}
        for i, x in enumerate(_quality_samples(p, False))
    ]
    out = {
        **pick(p, SESSION_PARTICIPANT),
        "role": p["preset_name"],
        "peer_stats": {k: v for k, v in stats.items() if k in wanted},
        "peer_report": {
            "metadata": {
                "sdk_name": device["sdk_name"], "sdk_version": device["sdk_version"], "room_view_type": "GROUP_CALL",
                "browser_metadata": pick(device, ("browser", "browser_version", "engine", "user_agent", "webgl_support")),
                "device_info": pick(device, ("cpus", "is_mobile", "os", "os_version")),
                "ip_information": pick(stats["ip_information"], ("asn", "city", "country", "ipv4", "region", "timezone")),
                "events": [{"name": e["type"], "timestamp": e["timestamp"]} for e in stats["events"]],
                "pc_metadata": [{
                    "timestamp": p["joined_at"], "effective_network_type": "4g", "reflexive_connectivity": True,
                    "relay_connectivity": True, "turn_connectivity": True,
                }],
                "candidate_pairs": {"producing_transport": [], "consuming_transport": []},
                "audio_devices_updates": [], "video_devices_updates": [], "speaker_devices_updates": [],
                "selected_device_updates": [],
            },
            "quality": {
                "audio_producer": audio,
                "audio_producer_cumulative": {
                    "packet_loss": {"avg": 0, "5_or_greater_event_fraction": 0, "10_or_greater_event_fraction": 0,
                                    "25_or_greater_event_fraction": 0, "50_or_greater_event_fraction": 0},
                    "quality_mos": {"avg": 4, "p50": 4, "p75": 4, "p90": 5},
                    "rtt": {"avg": 0.04, "100ms_or_greater_event_fraction": 0.01,
                            "250ms_or_greater_event_fraction": 0.0, "500ms_or_greater_event_fraction": 0.0},
                },
                **{k: [] for k in ("audio_consumer", "video_producer", "video_consumer", "screenshare_audio_producer",
                                   "screenshare_audio_consumer", "screenshare_video_producer", "screenshare_video_consumer")},
            },
        },
    }
    if "quality_stats" in wanted:
        out["quality_stats"] = {
            "peer_ids": [p["id"]], "start": p["joined_at"], "end": p["left_at"] or p["updated_at"], "average_quality": 88,
            "audio_bandwidth": 48, "video_bandwidth": 1200, "total_audio_packets": 54_000, "total_audio_packets_lost": 21,
            "total_video_packets": 310_000, "total_video_packets_lost": 140,
            "first_audio_packet_received": p["joined_at"], "first_video_packet_received": p["joined_at"],
            "last_audio_packet_received": p["left_at"] or p["updated_at"],
            "last_video_packet_received": p["left_at"] or p["updated_at"], "audio_stats": [], "video_stats": [],
        }
    return ok({"participant": out})


def _download(ctx: Ctx, s: Record, name: str, label: str, present: bool) -> tuple[str, str]:
    if not present:
        raise ApiError(404, f"{label} not found for this session")
    return f"{ctx.base}sandbox-files/sessions/{s['id']}/{name}", iso(now() + timedelta(hours=1))


def get_chat(ctx: Ctx) -> Reply:
    s = session(ctx)
    url, exp = _download(ctx, s, "chat.csv", "Chat", bool(s["_chat"]))
    return ok({"chat_download_url": url, "chat_download_url_expiry": exp})


def get_transcript(ctx: Ctx) -> Reply:
    s = session(ctx)
    url, exp = _download(ctx, s, "transcript.csv", "Transcript", bool(s["_transcript"]))
    return ok({"sessionId": s["id"], "transcript_download_url": url, "transcript_download_url_expiry": exp})


def get_summary(ctx: Ctx) -> Reply:
    s = session(ctx)
    url, exp = _download(ctx, s, "summary.md", "Summary", s["_summary"] is not None)
    return ok({"sessionId": s["id"], "summaryDownloadUrl": url, "summaryDownloadUrlExpiry": exp})


def generate_summary(ctx: Ctx) -> Reply:
    s = session(ctx)
    if not s["_transcript"]:
        raise ApiError(404, "Transcript not found for this session")
    if s["status"] == "LIVE":
        raise ApiError(400, "Session is still live; summaries are generated from the transcript of an ended session")
    speakers = sorted({line["peer_name"] for line in s["_transcript"]})
    points = "\n".join(f"- **{line['peer_name']}**: {line['text']}" for line in s["_transcript"][:6])
    s["_summary"] = f"# {s['meeting_display_name']} - summary\n\nParticipants: {', '.join(speakers)}\n\n**Key points**\n{points}\n"
    touch(s)
    return ok({"sessionId": s["id"], "message": "Summary generated"})


# --------------------------------------------------------------------------- recordings

RECORDING_STATUSES = ("INVOKED", "RECORDING", "UPLOADING", "UPLOADED", "ERRORED", "PAUSED")
ACTIVE_RECORDING = ("INVOKED", "RECORDING", "PAUSED")


def recording(ctx: Ctx) -> Record:
    return find(ctx.st, "recordings", ctx.app_id, ctx.p["recording_id"], "Recording")


def render_recording(ctx: Ctx, r: Record, with_meeting: bool = False) -> Record:
    out = _strip_secrets(public(r))
    uploaded = r["status"] == "UPLOADED" and r["_bucket"]
    base = f"{ctx.base}sandbox-files/recordings/{r['id']}/"
    out["download_url"] = base + r["output_file_name"] if uploaded else None
    out["audio_download_url"] = base + "audio.mp3" if uploaded and r["_audio"] else None
    out["download_url_expiry"] = iso(parse_ts(r["stopped_time"]) + timedelta(days=7)) if uploaded else None
    m = ctx.st["meetings"].get(r["_meeting"] or "")
    if with_meeting and m is not None:
        out["meeting"] = pick(m, MEETING_SUMMARY)
    return out


def _expired(r: Record) -> bool:
    return r["status"] == "UPLOADED" and parse_ts(r["stopped_time"]) + timedelta(days=7) < now()


def list_recordings(ctx: Ctx) -> Reply:
    statuses = q_list(ctx, "status", RECORDING_STATUSES)
    expired = q_bool(ctx, "expired")
    q_enum(ctx, "sort_by", ("invokedTime",))
    desc = q_enum(ctx, "sort_order", ("ASC", "DESC"), "DESC") == "DESC"
    meeting_id = ctx.q.get("meeting_id")
    titles = {m["id"]: m["title"] for m in owned(ctx, "meetings")}
    items = [
        r for r in owned(ctx, "recordings")
        if (not meeting_id or r["_meeting"] == meeting_id) and (not statuses or r["status"] in statuses)
        and (expired is None or _expired(r) == expired)
        and matches(ctx, {**r, "title": titles.get(r["_meeting"])}, "id", "output_file_name", "title", "session_id")
    ]
    items = sorted(time_window(ctx, items, "invoked_time"), key=lambda r: r["invoked_time"], reverse=desc)
    page, paging = paged(ctx, items)
    return ok([render_recording(ctx, r, with_meeting=True) for r in page], paging=paging)


def active_recordings(ctx: Ctx, meeting_id: str) -> list[Record]:
    items = [r for r in owned(ctx, "recordings", _meeting=meeting_id) if r["status"] in ACTIVE_RECORDING]
    return sorted(items, key=lambda r: r["invoked_time"], reverse=True)


def live_session(ctx: Ctx, meeting_id: str) -> Record | None:
    return next(iter(owned(ctx, "sessions", associated_id=meeting_id, status="LIVE")), None)


def start_recording(ctx: Ctx) -> Reply:
    body, meeting_id = ctx.body, ctx.body.get("meeting_id")
    if not meeting_id and not body.get("url"):
        raise ApiError(400, "Invalid request body: 'meeting_id' is required (or 'url' to record a web page)")
    sess = None
    if meeting_id:
        m = meeting(ctx, meeting_id)
        if m["status"] != "ACTIVE":
            raise ApiError(400, "Meeting is INACTIVE and cannot be recorded")
        if active_recordings(ctx, meeting_id) and not body.get("allow_multiple_recordings"):
            raise ApiError(409, "A recording is already in progress for this meeting; pass allow_multiple_recordings to start another")
        sess = live_session(ctx, meeting_id)
    ts = now()
    prefix = body.get("file_name_prefix")
    rec = {
        "id": new_id(), "status": "RECORDING",
        "output_file_name": f"{prefix + '_' if prefix else ''}{meeting_id or 'url'}_{int(ts.timestamp() * 1000)}.mp4",
        "invoked_time": iso(ts), "started_time": iso(ts), "stopped_time": None, "recording_duration": None,
        "file_size": None, "session_id": sess["id"] if sess else None,
        "start_reason": {"reason": "API_CALL", "caller": {"type": "ORGANIZATION", "name": "API", "user_Id": ctx.app_id}},
        "stop_reason": None, "storage_config": body.get("storage_config"),
        "_app": ctx.app_id, "_meeting": meeting_id, "_bucket": (body.get("realtimekit_bucket_config") or {}).get("enabled", True),
        "_audio": "audio_config" in body,
        "_config": {k: v for k, v in body.items() if k not in ("storage_config",)},
    }
    ctx.st["recordings"][rec["id"]] = rec
    return ok(render_recording(ctx, rec), 201)


def get_active_recording(ctx: Ctx) -> Reply:
    active = active_recordings(ctx, meeting(ctx)["id"])
    if not active:
        raise ApiError(404, "No active recording found for this meeting")
    return ok(render_recording(ctx, active[0]))


def get_recording(ctx: Ctx) -> Reply:
    return ok(render_recording(ctx, recording(ctx)))


_TRANSITIONS = {  # action: (allowed from, to)
    "pause": (("RECORDING",), "PAUSED"),
    "resume": (("PAUSED",), "RECORDING"),
    "stop": (ACTIVE_RECORDING, "UPLOADED"),
}


def recording_action(ctx: Ctx) -> Reply:
    r, action = recording(ctx), ctx.body["action"]
    allowed, target = _TRANSITIONS[action]
    if r["status"] not in allowed:
        raise ApiError(400, f"Cannot {action} a recording whose status is {r['status']}")
    changes: Record = {"status": target}
    if action == "stop":
        ts = now()
        duration = max(1, int((ts - parse_ts(r["started_time"])).total_seconds()))
        changes.update(
            stopped_time=iso(ts), recording_duration=duration, file_size=duration * 64_000,
            stop_reason={"reason": "API_CALL", "caller": {"type": "ORGANIZATION", "name": "API", "user_Id": ctx.app_id}},
        )
    r.update(changes)
    return ok(render_recording(ctx, r))


def start_track_recording(ctx: Ctx) -> Reply:
    m = meeting(ctx, ctx.body["meeting_id"])
    return ok({"meeting_id": m["id"], "layers": sorted(ctx.body["layers"]), "status": "INVOKED", "message": "Track recording started"}, 201)


# --------------------------------------------------------------------------- webhooks


def webhook(ctx: Ctx) -> Record:
    return find(ctx.st, "webhooks", ctx.app_id, ctx.p["webhook_id"], "Webhook")


def list_webhooks(ctx: Ctx) -> Reply:
    return ok([public(w) for w in sorted(owned(ctx, "webhooks"), key=lambda w: w["created_at"])])


def create_webhook(ctx: Ctx) -> Reply:
    ts = now_iso()
    w = {"id": new_id(), "enabled": True, **ctx.body, "created_at": ts, "updated_at": ts, "_app": ctx.app_id}
    ctx.st["webhooks"][w["id"]] = w
    return ok(public(w), 201)


def get_webhook(ctx: Ctx) -> Reply:
    return ok(public(webhook(ctx)))


def replace_webhook(ctx: Ctx) -> Reply:
    old = webhook(ctx)
    new = {"enabled": True, **ctx.body, **{k: old[k] for k in ("id", "created_at", "_app")}, "updated_at": now_iso()}
    ctx.st["webhooks"][old["id"]] = new
    return ok(public(new))


def edit_webhook(ctx: Ctx) -> Reply:
    return ok(public(touch(webhook(ctx), **ctx.body)))


def delete_webhook(ctx: Ctx) -> Reply:
    return ok(public(ctx.st["webhooks"].pop(webhook(ctx)["id"])))


# --------------------------------------------------------------------------- active session


def active_session(ctx: Ctx) -> Record:
    s = live_session(ctx, meeting(ctx)["id"])
    if s is None:
        raise ApiError(404, "No active session found for this meeting")
    return s


def get_active_session(ctx: Ctx) -> Reply:
    return ok(render_session(active_session(ctx)))


def _kick(s: Record, who: Callable[[Record], bool]) -> list[Record]:
    ts = now()
    kicked = []
    for p in joined(s):
        if who(p):
            p.update(left_at=iso(ts), updated_at=iso(ts),
                     duration=round((ts - parse_ts(p["joined_at"])).total_seconds() / 60, 2))
            kicked.append({"id": p["user_id"], "name": p["display_name"], "created_at": p["created_at"], "updated_at": p["updated_at"]})
    touch(s)
    return kicked


def kick(ctx: Ctx) -> Reply:
    s = active_session(ctx)
    ids, custom = set(ctx.body["participant_ids"]), set(ctx.body["custom_participant_ids"])
    kicked = _kick(s, lambda p: p["user_id"] in ids or p["id"] in ids or p["custom_participant_id"] in custom)
    return ok({"action": "kick", "participants": kicked})


def kick_all(ctx: Ctx) -> Reply:
    kicked = _kick(active_session(ctx), lambda p: True)
    return ok({"action": "kick_all", "kicked_participants_count": len(kicked)})


def create_poll(ctx: Ctx) -> Reply:
    s = active_session(ctx)
    poll = {
        "id": new_id(), "question": ctx.body["question"],
        "options": [{"text": text, "count": 0, "votes": []} for text in ctx.body["options"]],
        "anonymous": ctx.body.get("anonymous", False), "hide_votes": ctx.body.get("hide_votes", False),
        "created_by": "API", "voted": [],
    }
    s["_polls"].append(poll)
    touch(s)
    return ok({"action": "create", "poll": copy.deepcopy(poll)}, 201)


# --------------------------------------------------------------------------- livestreams

LIVESTREAM = ("id", "name", "meeting_id", "status", "disabled", "ingest_server", "stream_key", "playback_url", "created_at", "updated_at")


def livestream(ctx: Ctx) -> Record:
    return find(ctx.st, "livestreams", ctx.app_id, ctx.p["livestream_id"], "Livestream")


def render_livestream(ls: Record) -> Record:
    """The GET shape: ``disabled`` is documented as a string there (a boolean on create)."""
    return {**pick(ls, LIVESTREAM), "disabled": str(ls["disabled"]).lower()}


def render_ls_session(s: Record, as_strings: bool = False) -> Record:
    out = public(s)
    if as_strings:  # documented as strings on the active-livestream-session endpoint
        out.update(ingest_seconds=str(s["ingest_seconds"]), viewer_seconds=str(s["viewer_seconds"]))
    return out


def ls_sessions(ctx: Ctx, livestream_id: str) -> list[Record]:
    return sorted(owned(ctx, "livestream_sessions", livestream_id=livestream_id), key=lambda s: s["created_at"], reverse=True)


def live_livestream(ctx: Ctx, meeting_id: str) -> Record | None:
    return next(iter(owned(ctx, "livestreams", meeting_id=meeting_id, status="LIVE")), None)


def create_livestream(ctx: Ctx) -> Reply:
    ls = livestream_record(ctx.app_id or "", new_id(), ctx.body.get("name"), None, now_iso())
    ctx.st["livestreams"][ls["id"]] = ls
    return ok(pick(ls, ("id", "name", "meeting_id", "status", "disabled", "ingest_server", "stream_key", "playback_url")), 201)


def list_livestreams(ctx: Ctx) -> Reply:
    status = q_enum(ctx, "status", ("LIVE", "IDLE", "ERRORED", "INVOKED"))
    exclude = q_bool(ctx, "exclude_meetings")
    desc = q_enum(ctx, "sort_order", ("ASC", "DSC"), "DSC") == "DSC"
    items = [
        ls for ls in owned(ctx, "livestreams")
        if (status is None or ls["status"] == status) and not (exclude and ls["meeting_id"])
    ]
    items = sorted(time_window(ctx, items, "created_at"), key=lambda ls: ls["created_at"], reverse=desc)
    page, paging = paged(ctx, items)
    rendered = [render_livestream(ls) for ls in page]
    # Documented as ONE livestream object plus paging: the first of the page is spread at
    # the top level (documented shape) and the whole page is in "livestreams".
    return ok({**(rendered[0] if rendered else {}), "livestreams": rendered, "paging": paging})


def stop_meeting_livestream(ctx: Ctx) -> Reply:
    ls = live_livestream(ctx, meeting(ctx)["id"])
    if ls is None:
        raise ApiError(404, "No active livestream found for this meeting")
    ts = now()
    for s in ls_sessions(ctx, ls["id"]):
        if s["stopped_time"] is None:
            ingest = max(1, int((ts - parse_ts(s["started_time"])).total_seconds()))
            touch(s, stopped_time=iso(ts), ingest_seconds=ingest, viewer_seconds=ingest * 4)
    touch(ls, status="IDLE")
    return ok({"message": "Livestream stopped"})


def start_meeting_livestream(ctx: Ctx) -> Reply:
    m = meeting(ctx)
    if m["status"] != "ACTIVE":
        raise ApiError(400, "Meeting is INACTIVE and cannot be livestreamed")
    if live_livestream(ctx, m["id"]):
        raise ApiError(409, "This meeting is already being livestreamed")
    ls = next(iter(owned(ctx, "livestreams", meeting_id=m["id"])), None)
    if ls is None:
        ls = livestream_record(ctx.app_id or "", new_id(), None, m["id"], now_iso())
        ctx.st["livestreams"][ls["id"]] = ls
    touch(ls, status="LIVE", name=ctx.body.get("name") or ls["name"] or m["title"], _video_config=ctx.body.get("video_config"))
    ts = now_iso()
    s = {
        "id": new_id(), "livestream_id": ls["id"], "created_at": ts, "invoked_time": ts, "started_time": ts,
        "stopped_time": None, "updated_at": ts, "ingest_seconds": 0, "viewer_seconds": 0, "err_message": None, "_app": ctx.app_id,
    }
    ctx.st["livestream_sessions"][s["id"]] = s
    return ok(pick(ls, ("id", "status", "ingest_server", "stream_key", "playback_url")), 201)


def livestream_analytics(ctx: Ctx) -> Reply:
    sessions = time_window(ctx, owned(ctx, "livestream_sessions"), "started_time")
    return ok({
        "count": len({s["livestream_id"] for s in sessions}),
        "total_ingest_seconds": sum(s["ingest_seconds"] for s in sessions),
        "total_viewer_seconds": sum(s["viewer_seconds"] for s in sessions),
    })


def daywise_analytics(ctx: Ctx) -> Reply:
    sess_min: dict[str, float] = defaultdict(float)
    sess_n: dict[str, int] = defaultdict(int)
    rec_min: dict[str, float] = defaultdict(float)
    rec_n: dict[str, int] = defaultdict(int)
    for s in owned(ctx, "sessions"):
        sess_n[s["started_at"][:10]] += 1
        sess_min[s["started_at"][:10]] += s["minutes_consumed"]
    for r in owned(ctx, "recordings"):
        rec_n[r["invoked_time"][:10]] += 1
        rec_min[r["invoked_time"][:10]] += (r["recording_duration"] or 0) / 60
    days = sorted({*sess_n, *rec_n}) or [now_iso()[:10]]
    start = q_date(ctx, "start_date") or date.fromisoformat(days[0])
    end = q_date(ctx, "end_date") or date.fromisoformat(days[-1])
    if start > end:
        raise ApiError(400, "Invalid query parameter 'start_date': must not be after end_date")
    if (end - start).days > 366:
        raise ApiError(400, "Invalid query parameter 'end_date': the range must not exceed 366 days")
    span = [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
    s_days = [{"day": d, "total_sessions": sess_n[d], "total_session_minutes": round(sess_min[d], 2)} for d in span]
    r_days = [{"day": d, "total_recordings": rec_n[d], "total_recording_minutes": round(rec_min[d])} for d in span]
    return ok({
        "session_stats": {
            "day_stats": s_days, "sessions_count": sum(d["total_sessions"] for d in s_days),
            "sessions_minutes_consumed": round(sum(sess_min[d] for d in span), 2),
        },
        "recording_stats": {
            "day_stats": r_days, "recording_count": sum(d["total_recordings"] for d in r_days),
            "recording_minutes_consumed": round(sum(rec_min[d] for d in span), 2),
        },
    })


def get_meeting_active_livestream(ctx: Ctx) -> Reply:
    ls = live_livestream(ctx, meeting(ctx)["id"])
    if ls is None:
        raise ApiError(404, "No active livestream found for this meeting")
    return ok(render_livestream(ls))


def get_livestream_session(ctx: Ctx) -> Reply:
    s = find(ctx.st, "livestream_sessions", ctx.app_id, ctx.p["livestream_session_id"], "Livestream session")
    return ok(render_ls_session(s))


def get_active_livestream_session(ctx: Ctx) -> Reply:
    ls = livestream(ctx)
    active = [s for s in ls_sessions(ctx, ls["id"]) if s["stopped_time"] is None]
    if ls["status"] != "LIVE" or not active:
        raise ApiError(404, "No active livestream session found for this livestream")
    return ok({"livestream": render_livestream(ls), "session": render_ls_session(active[0], as_strings=True)})


def get_livestream(ctx: Ctx) -> Reply:
    ls = livestream(ctx)
    page, paging = paged(ctx, ls_sessions(ctx, ls["id"]))
    sessions = [render_ls_session(s) for s in page]
    # Documented with ONE "session" (+ paging over the livestream's sessions, newest first):
    # "session" is the first of the page, "sessions" the whole page.
    return ok({"livestream": render_livestream(ls), "session": sessions[0] if sessions else None, "sessions": sessions, "paging": paging})


# --------------------------------------------------------------------------- route table

A = "/{app_id}"
M = A + "/meetings/{meeting_id}"

#: (method, path under /accounts/{account_id}/realtime/kit, handler, body spec name or None).
#: Order matters where a literal segment competes with a parameter (peer-report, track,
#: livestreams/sessions): the literal route comes first.
ROUTES: list[tuple[str, str, Callable[[Ctx], Reply], str | None]] = [
    ("GET", "/apps", list_apps, None),
    ("POST", "/apps", create_app, "app"),
    ("GET", A + "/meetings", list_meetings, None),
    ("POST", A + "/meetings", create_meeting, "meeting"),
    ("GET", M, get_meeting, None),
    ("PATCH", M, update_meeting, "meeting_patch"),
    ("PUT", M, replace_meeting, "meeting"),
    ("GET", M + "/participants", list_participants, None),
    ("POST", M + "/participants", add_participant, "participant"),
    ("GET", M + "/participants/{participant_id}", get_participant, None),
    ("PATCH", M + "/participants/{participant_id}", edit_participant, "participant_patch"),
    ("DELETE", M + "/participants/{participant_id}", delete_participant, None),
    ("POST", M + "/participants/{participant_id}/token", refresh_token, None),
    ("GET", M + "/active-session", get_active_session, None),
    ("POST", M + "/active-session/kick", kick, "kick"),
    ("POST", M + "/active-session/kick-all", kick_all, None),
    ("POST", M + "/active-session/poll", create_poll, "poll"),
    ("GET", M + "/active-livestream", get_meeting_active_livestream, None),
    ("POST", M + "/active-livestream/stop", stop_meeting_livestream, None),
    ("POST", M + "/livestreams", start_meeting_livestream, "meeting_livestream"),
    ("GET", A + "/presets", list_presets, None),
    ("POST", A + "/presets", create_preset, "preset"),
    ("GET", A + "/presets/{preset_id}", get_preset, None),
    ("PATCH", A + "/presets/{preset_id}", update_preset, "preset_patch"),
    ("DELETE", A + "/presets/{preset_id}", delete_preset, None),
    ("GET", A + "/sessions", list_sessions, None),
    ("GET", A + "/sessions/peer-report/{peer_id}", peer_report, None),
    ("GET", A + "/sessions/{session_id}", get_session, None),
    ("GET", A + "/sessions/{session_id}/participants", list_session_participants, None),
    ("GET", A + "/sessions/{session_id}/participants/{participant_id}", get_session_participant, None),
    ("GET", A + "/sessions/{session_id}/chat", get_chat, None),
    ("GET", A + "/sessions/{session_id}/transcript", get_transcript, None),
    ("GET", A + "/sessions/{session_id}/summary", get_summary, None),
    ("POST", A + "/sessions/{session_id}/summary", generate_summary, None),
    ("GET", A + "/recordings", list_recordings, None),
    ("POST", A + "/recordings", start_recording, "recording_start"),
    ("POST", A + "/recordings/track", start_track_recording, "track_recording"),
    ("GET", A + "/recordings/active-recording/{meeting_id}", get_active_recording, None),
    ("GET", A + "/recordings/{recording_id}", get_recording, None),
    ("PUT", A + "/recordings/{recording_id}", recording_action, "recording_action"),
    ("GET", A + "/webhooks", list_webhooks, None),
    ("POST", A + "/webhooks", create_webhook, "webhook"),
    ("GET", A + "/webhooks/{webhook_id}", get_webhook, None),
    ("PUT", A + "/webhooks/{webhook_id}", replace_webhook, "webhook"),
    ("PATCH", A + "/webhooks/{webhook_id}", edit_webhook, "webhook_patch"),
    ("DELETE", A + "/webhooks/{webhook_id}", delete_webhook, None),
    ("GET", A + "/livestreams", list_livestreams, None),
    ("POST", A + "/livestreams", create_livestream, "livestream"),
    ("GET", A + "/livestreams/sessions/{livestream_session_id}", get_livestream_session, None),
    ("GET", A + "/livestreams/{livestream_id}", get_livestream, None),
    ("GET", A + "/livestreams/{livestream_id}/active-livestream-session", get_active_livestream_session, None),
    ("GET", A + "/analytics/livestreams/overall", livestream_analytics, None),
    ("GET", A + "/analytics/daywise", daywise_analytics, None),
]
