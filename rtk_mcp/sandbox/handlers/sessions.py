"""Sessions: one run of a meeting, from first join to last leave; its participants, reports and artefacts.

A session starts when the first participant joins a meeting that has no live session
(:func:`start_session`, called by the sandbox's join control), and ends on its own once its last
participant has left and the meeting's ``session_keep_alive_time_in_secs`` has passed (see
:func:`end_empty_sessions`). Ending applies the meeting's settings: the chat is kept only with
``persist_chat``, a summary is generated with ``summarize_on_end``. A generated summary becomes
readable :data:`SUMMARY_DELAY` after it is requested (or after the session ended).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Any

from .. import seed
from ..clock import iso, parse_ts
from ..events import LINK_LIFETIME as EVENT_LINK_LIFETIME
from ..events import base_url, emit, meeting_object
from ..store import State
from .common import (
    Call,
    ErrorReply,
    Record,
    Reply,
    new_id,
    no_content,
    ok,
    pick,
    public,
    touch,
)

_S = "/{app_id}/sessions"

#: How long summary generation takes before the summary can be downloaded.
SUMMARY_DELAY = timedelta(seconds=20)
#: How long a download link handed out for chat, transcript or summary stays valid.
LINK_LIFETIME = timedelta(hours=1)

SESSION_PARTICIPANT = (
    "id", "user_id", "custom_participant_id", "display_name", "preset_name", "joined_at", "left_at",
    "duration", "created_at", "updated_at",
)
REPORT_SECTIONS = ("device_info", "ip_information", "precall_network_information", "events", "quality_stats")


def joined(session: Record) -> list[Record]:
    """The session's participants who have not left."""
    return [p for p in session["_participants"] if p["left_at"] is None]


def peer_minutes(peer: Record, now: datetime) -> float:
    """Minutes *peer* has spent in the session (so far, while still joined)."""
    if peer["left_at"] is not None:
        return peer["duration"]
    return round((now - parse_ts(peer["joined_at"])).total_seconds() / 60, 2)


def live_session(call: Call, meeting_id: str) -> Record | None:
    return next(iter(call.owned("sessions", associated_id=meeting_id, status="LIVE")), None)


def start_session(state: State, meeting: Record, now: datetime) -> Record:
    """A new LIVE session of *meeting*, started at *now* (its first participant is joining)."""
    at = iso(now)
    session = {
        "id": new_id(), "associated_id": meeting["id"], "meeting_display_name": meeting.get("title"), "type": "meeting",
        "status": "LIVE", "organization_id": meeting["_app"], "created_at": at, "started_at": at, "updated_at": at,
        "minutes_consumed": 0, "max_concurrent_participants": 0, "breakout_rooms": [], "meta": {"region": "sandbox"},
        "_app": meeting["_app"], "_participants": [], "_polls": [], "_chat": [], "_transcript": [], "_summary": None,
        "_summary_available_at": None,
    }
    state["sessions"][session["id"]] = session
    emit(state, now, meeting["_app"], "meeting.started", {"meeting": meeting_object(state, session)})
    return session


def announce_peer(state: State, session: Record, peer: Record, event: str, at: datetime) -> None:
    """``meeting.participantJoined`` or ``meeting.participantLeft`` for *peer*."""
    person = {
        "peerId": peer["id"], "userDisplayName": peer["display_name"], "customParticipantId": peer["custom_participant_id"],
        "clientSpecificId": peer["custom_participant_id"], "joinedAt": peer["joined_at"], "leftAt": peer["left_at"],
    }
    emit(state, at, session["_app"], event, {"meeting": meeting_object(state, session), "participant": person})


def peer_leaves(state: State, session: Record, peer: Record, now: datetime) -> None:
    """*peer* leaves *session* at *now*, with the minutes it spent there, and ``meeting.participantLeft`` is sent."""
    peer.update(left_at=iso(now), updated_at=iso(now), duration=peer_minutes(peer, now))
    announce_peer(state, session, peer, "meeting.participantLeft", now)


def _file_link(state: State, session: Record, file_name: str) -> str:
    return f"{base_url(state)}sandbox-files/sessions/{session['id']}/{file_name}"


def end_empty_sessions(state: State, now: datetime) -> None:
    """End every live session whose last participant left more than the meeting's keep-alive time ago."""
    for session in state["sessions"].values():
        if session["status"] != "LIVE" or joined(session) or not session["_participants"]:
            continue
        meeting = state["meetings"].get(session["associated_id"]) or seed.MEETING_DEFAULTS
        last_left = max(parse_ts(p["left_at"]) for p in session["_participants"])
        ended = last_left + timedelta(seconds=meeting["session_keep_alive_time_in_secs"])
        if now >= ended:
            session.update(
                status="ENDED", ended_at=iso(ended), updated_at=iso(ended),
                minutes_consumed=round(sum(p["duration"] for p in session["_participants"]), 2),
            )
            _after_end(state, session, meeting, ended)


def _after_end(state: State, session: Record, meeting: Record, ended: datetime) -> None:
    """What ending a session sets off: the ended event, the transcript, the chat export, the summary."""
    app_id, expiry = session["_app"], iso(ended + EVENT_LINK_LIFETIME)
    emit(state, ended, app_id, "meeting.ended", {"meeting": meeting_object(state, session), "reason": "ALL_PARTICIPANTS_LEFT"})
    if session["_transcript"]:
        emit(state, ended, app_id, "meeting.transcript", {
            "meeting": meeting_object(state, session), "transcriptDownloadUrl": _file_link(state, session, "transcript.csv"),
            "transcriptDownloadUrlExpiry": expiry,
        })
    if not meeting.get("persist_chat"):
        session["_chat"] = []  # "Specifies if Chat within a meeting should persist": not kept past the session
    elif session["_chat"]:
        emit(state, ended, app_id, "meeting.chatSynced", {
            "sessionId": session["id"], "meetingId": session["associated_id"], "title": meeting.get("title"),
            "chatDownloadUrl": _file_link(state, session, "chat.csv"), "chatDownloadUrlExpiry": expiry,
            "createdAt": session["created_at"], "startedAt": session["started_at"], "endedAt": session["ended_at"],
            "organizedBy": meeting_object(state, session)["organizedBy"],
        })
    if meeting.get("summarize_on_end") and session["_transcript"]:
        write_summary(session, ended)


def announce_summaries(state: State, now: datetime) -> None:
    """Send ``meeting.summary`` for every summary that finished generating by *now*."""
    for session in state["sessions"].values():
        if session.get("_summary_announced") is False and summary_ready(session, now):
            session["_summary_announced"] = True
            at = parse_ts(session["_summary_available_at"])
            emit(state, at, session["_app"], "meeting.summary", {
                "meeting": meeting_object(state, session), "summaryDownloadUrl": _file_link(state, session, "summary.md"),
                "summaryDownloadUrlExpiry": iso(at + EVENT_LINK_LIFETIME),
            })


def render_session(session: Record, now: datetime) -> Record:
    out = public(session)
    if session["status"] == "LIVE":
        out["live_participants"] = len(joined(session))
        out["minutes_consumed"] = round(sum(peer_minutes(p, now) for p in session["_participants"]), 2)
    else:
        out["live_participants"] = 0
    return out


def render_peer(peer: Record, now: datetime) -> Record:
    return {**pick(peer, SESSION_PARTICIPANT), "duration": peer_minutes(peer, now)}


def _session(call: Call) -> Record:
    return call.find("sessions", call.path_params["session_id"], "Session")


_COUNT_RANGE = re.compile(r"^\s*(\d*)\s*(?::\s*(\d*)\s*)?$")


def _participant_count_range(call: Call) -> tuple[int, float] | None:
    """``participants`` as ``min:max`` (either end open) or one exact count; anything else filters nothing.

    The reference gives the parameter no format, so no value of it is refused.
    """
    match = _COUNT_RANGE.match(call.query.get("participants") or "")
    if not match or not (match[1] or match[2]):
        return None
    low = int(match[1] or 0)
    if match[2] is None:
        return low, low
    return low, int(match[2]) if match[2] else float("inf")


def list_sessions(call: Call) -> Reply:
    status = call.query_enum("status", ("LIVE", "ENDED"))
    meeting_id = call.query.get("associated_id")
    counts = _participant_count_range(call)
    sort_by = {"createdAt": "created_at", "minutesConsumed": "minutes_consumed"}[
        call.query_enum("sort_by", ("minutesConsumed", "createdAt"), "createdAt") or "createdAt"
    ]
    descending = call.query_enum("sort_order", ("ASC", "DESC"), "DESC") == "DESC"
    items = [
        render_session(s, call.now) for s in call.owned("sessions")
        if (status is None or s["status"] == status) and (not meeting_id or s["associated_id"] == meeting_id)
        and (counts is None or counts[0] <= s["max_concurrent_participants"] <= counts[1])
        and call.search_matches(s, "meeting_display_name", "associated_id", "id")
    ]
    items = sorted(call.within_time_window(items, "started_at"), key=lambda s: s[sort_by], reverse=descending)
    page, _ = call.page(items)
    return ok({"sessions": page})


def get_session(call: Call) -> Reply:
    call.query_bool("include_breakout_rooms")  # the sandbox has no breakout rooms: the list is always empty
    return ok({"session": render_session(_session(call), call.now)})


def _peer_events(peer: Record) -> list[Record]:
    joined_at = parse_ts(peer["joined_at"])
    events = [{"type": kind, "timestamp": iso(joined_at + timedelta(seconds=offset))} for kind, offset in seed.PEER_EVENTS]
    if peer["left_at"]:
        events.append({"type": "call_leave", "timestamp": peer["left_at"]})
    return events


def list_session_participants(call: Call) -> Reply:
    session = _session(call)
    call.query_enum("view", ("raw", "consolidated"))  # durations differ only with breakout rooms, which the sandbox lacks
    with_events = call.query_bool("include_peer_events")
    sort_by = {"joinedAt": "joined_at", "duration": "duration"}[
        call.query_enum("sort_by", ("joinedAt", "duration"), "joinedAt") or "joinedAt"
    ]
    descending = call.query_enum("sort_order", ("ASC", "DESC"), "ASC") == "DESC"
    peers = [render_peer(p, call.now) | {"_peer": p} for p in session["_participants"]]
    peers = [p for p in peers if call.search_matches(p, "display_name", "custom_participant_id", "id")]
    page, _ = call.page(sorted(peers, key=lambda p: p[sort_by], reverse=descending))
    out = []
    for peer in page:
        source = peer.pop("_peer")
        if with_events:  # the list's schema has no place for events: they go where the participant detail puts them
            peer["peer_stats"] = {"events": _peer_events(source)}
        out.append(peer)
    return ok({"participants": out})


def _find_peer(session: Record, peer_id: str) -> Record:
    for peer in session["_participants"]:
        if peer_id in (peer["id"], peer["user_id"]):
            return peer
    raise ErrorReply(404, "Participant not found")


def _device(peer: Record) -> dict[str, Any]:
    """The seeded device a peer connects from, picked by its id so it is the same on every call."""
    n = int(hashlib.sha256(peer["id"].encode()).hexdigest(), 16)
    return {**seed.PEER_DEVICES[n % len(seed.PEER_DEVICES)], "host": n % 200 + 20}


def _peer_stats(peer: Record, for_report: bool) -> Record:
    device = _device(peer)
    network = dict(seed.PRECALL_NETWORK)
    if not for_report:  # the participant detail documents the field with this spelling
        network["throughtput"] = network.pop("throughput")
    return {
        "device_info": {
            **seed.DEVICE_DEFAULTS, "browser": device["browser"], "browser_version": device["browser_version"],
            "engine": device["engine"], "is_mobile": device["is_mobile"], "os": device["os"], "os_version": device["os_version"],
            "user_agent": f"Mozilla/5.0 ({device['os']} {device['os_version']}) {device['browser']}/{device['browser_version']}",
        },
        "ip_information": {
            "city": device["city"], "region": device["region"], "country": device["country"], "timezone": device["timezone"],
            "ipv4": f"203.0.113.{device['host']}", "ip_location": device["location"], "org": seed.NETWORK_ORG,
            **({"asn": {"asn": seed.NETWORK_ASN}} if for_report else {}),
        },
        "precall_network_information": network,
        "events": _peer_events(peer),
    }


def _quality_samples(peer: Record, video: bool) -> list[Record]:
    start = parse_ts(peer["joined_at"])
    samples = []
    for minute in range(seed.QUALITY_SAMPLES):
        sample = {"timestamp": iso(start + timedelta(minutes=minute)), **seed.quality_sample(minute, video)}
        samples.append(sample)
    return samples


def _sections(call: Call, peer_events: bool | None = None) -> set[str]:
    """The report sections asked for: ``filters`` if given, else all; events also when ``include_peer_events``."""
    chosen = set(call.query_list("filters", REPORT_SECTIONS))
    if peer_events is None:
        return chosen or set(REPORT_SECTIONS)
    sections = chosen or set(REPORT_SECTIONS) - {"events"}
    return sections | {"events"} if peer_events else sections


def get_session_participant(call: Call) -> Reply:
    peer = _find_peer(_session(call), call.path_params["participant_id"])
    wanted = _sections(call, peer_events=bool(call.query_bool("include_peer_events")))
    stats = {k: v for k, v in _peer_stats(peer, for_report=False).items() if k in wanted}
    out = {**render_peer(peer, call.now), "peer_stats": {**stats, "status": "ENDED" if peer["left_at"] else "LIVE"}}
    if "quality_stats" in wanted:
        out["quality_stats"] = [{
            "peer_id": peer["id"], "start": peer["joined_at"], "end": peer["left_at"] or call.now_iso,
            **seed.QUALITY_SUMMARY, "audio_stats": _quality_samples(peer, False), "video_stats": _quality_samples(peer, True),
        }]
    return ok({"participant": out})


def get_peer_report(call: Call) -> Reply:
    wanted = _sections(call)
    peers = [p for s in call.owned("sessions") for p in s["_participants"] if p["id"] == call.path_params["peer_id"]]
    if not peers:
        raise ErrorReply(404, "Peer not found")
    peer = peers[0]
    stats = _peer_stats(peer, for_report=True)
    device = stats["device_info"]
    audio = [
        {"timestamp": x["timestamp"], "jitter": x["jitter"], "packets_lost": x["packets_lost"], **seed.audio_producer_sample(i),
         "producer_id": f"{peer['id']}-audio"}
        for i, x in enumerate(_quality_samples(peer, False))
    ]
    stats["device_info"].pop("memory")  # the report's device_info documents no memory field
    out = {
        **{k: v for k, v in render_peer(peer, call.now).items() if k != "preset_name"},
        "role": peer["preset_name"],
        "peer_stats": {k: v for k, v in stats.items() if k in wanted},
        "peer_report": {
            "metadata": {
                "sdk_name": device["sdk_name"], "sdk_version": device["sdk_version"], "room_view_type": "GROUP_CALL",
                "browser_metadata": pick(device, ("browser", "browser_version", "engine", "user_agent", "webgl_support")),
                "device_info": pick(device, ("cpus", "is_mobile", "os", "os_version")),
                "ip_information": pick(stats["ip_information"], ("asn", "city", "country", "ipv4", "region", "timezone")),
                "events": [{"name": e["type"], "timestamp": e["timestamp"]} for e in stats["events"]],
                "pc_metadata": [{"timestamp": peer["joined_at"], **seed.PEER_CONNECTION}],
                "candidate_pairs": {"producing_transport": [], "consuming_transport": []},
                "audio_devices_updates": [], "video_devices_updates": [], "speaker_devices_updates": [],
                "selected_device_updates": [],
            },
            "quality": {
                "audio_producer": audio,
                "audio_producer_cumulative": seed.AUDIO_PRODUCER_CUMULATIVE,
                **{k: [] for k in ("audio_consumer", "video_producer", "video_consumer", "screenshare_audio_producer",
                                   "screenshare_audio_consumer", "screenshare_video_producer", "screenshare_video_consumer")},
            },
        },
    }
    if "quality_stats" in wanted:
        last = peer["left_at"] or call.now_iso
        out["quality_stats"] = {
            "peer_ids": [peer["id"]], "start": peer["joined_at"], "end": last,
            **pick(seed.QUALITY_SUMMARY, ("average_quality", "audio_bandwidth", "video_bandwidth")), **seed.REPORT_PACKET_TOTALS,
            "first_audio_packet_received": peer["joined_at"], "first_video_packet_received": peer["joined_at"],
            "last_audio_packet_received": last, "last_video_packet_received": last, "audio_stats": [], "video_stats": [],
        }
    return ok({"participant": out})


# --------------------------------------------------------------------------- chat, transcript, summary


def _download_link(call: Call, session: Record, file_name: str, label: str, present: bool) -> tuple[str, str]:
    if not present:
        raise ErrorReply(404, f"{label} not found for this session")
    return f"{call.base_url}sandbox-files/sessions/{session['id']}/{file_name}", iso(call.now + LINK_LIFETIME)


def summary_ready(session: Record, now: datetime) -> bool:
    """Whether the session has a summary that has finished generating by *now*."""
    available_at = session.get("_summary_available_at")
    return session["_summary"] is not None and available_at is not None and parse_ts(available_at) <= now


def get_session_chat(call: Call) -> Reply:
    session = _session(call)
    url, expiry = _download_link(call, session, "chat.csv", "Chat", bool(session["_chat"]))
    return ok({"chat_download_url": url, "chat_download_url_expiry": expiry})


def get_session_transcript(call: Call) -> Reply:
    session = _session(call)
    url, expiry = _download_link(call, session, "transcript.csv", "Transcript", bool(session["_transcript"]))
    return ok({"sessionId": session["id"], "transcript_download_url": url, "transcript_download_url_expiry": expiry})


def get_session_summary(call: Call) -> Reply:
    session = _session(call)
    url, expiry = _download_link(call, session, "summary.md", "Summary", summary_ready(session, call.now))
    return ok({"sessionId": session["id"], "summaryDownloadUrl": url, "summaryDownloadUrlExpiry": expiry})


def generate_session_summary(call: Call) -> Reply:
    session = _session(call)
    if not session["_transcript"]:
        raise ErrorReply(404, "Transcript not found for this session")
    if session["status"] == "LIVE":
        raise ErrorReply(400, "Session is still live; summaries are generated from the transcript of an ended session")
    write_summary(session, call.now)
    touch(session, call.now)
    return no_content()


def write_summary(session: Record, now: datetime) -> None:
    """Start generating the session's summary at *now*: a digest of its transcript, readable after the delay."""
    lines = session["_transcript"]
    speakers = sorted({line["peer_name"] for line in lines})
    points = "\n".join(f"- **{line['peer_name']}**: {line['text']}" for line in lines[:6])
    session["_summary"] = (
        f"# {session['meeting_display_name']} - summary\n\nParticipants: {', '.join(speakers)}\n\n**Key points**\n{points}\n"
    )
    session["_summary_available_at"] = iso(now + SUMMARY_DELAY)
    session["_summary_announced"] = False


ROUTES = [
    ("GET", _S, list_sessions),
    ("GET", _S + "/peer-report/{peer_id}", get_peer_report),  # before /{session_id}: a literal segment wins
    ("GET", _S + "/{session_id}", get_session),
    ("GET", _S + "/{session_id}/participants", list_session_participants),
    ("GET", _S + "/{session_id}/participants/{participant_id}", get_session_participant),
    ("GET", _S + "/{session_id}/chat", get_session_chat),
    ("GET", _S + "/{session_id}/transcript", get_session_transcript),
    ("GET", _S + "/{session_id}/summary", get_session_summary),
    ("POST", _S + "/{session_id}/summary", generate_session_summary),
]
