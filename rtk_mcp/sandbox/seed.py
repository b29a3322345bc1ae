"""Seeded demo data, with fixed ids (:data:`SEED`) so tests and demos can refer to them.

Fixed ids follow ``5a0db0c5-KKKK-4000-8000-NNNNNNNNNNNN`` (``KKKK`` = kind, ``N`` = serial):
valid version-4 UUIDs that are easy to recognise as sandbox objects.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .clock import iso, parse_ts

__all__ = ["SANDBOX_APP_ID", "SEED", "SeedIds", "build_state", "default_preset", "make_token"]

_KINDS = {
    "app": 1, "preset": 2, "meeting": 3, "participant": 4, "session": 5, "peer": 6,
    "recording": 7, "webhook": 8, "livestream": 9, "livestream_session": 10, "chat": 11,
}


def _uid(kind: str, n: int) -> str:
    return f"5a0db0c5-{_KINDS[kind]:04x}-4000-8000-{n:012x}"


SANDBOX_APP_ID = _uid("app", 1)


@dataclass(frozen=True)
class SeedIds:
    """Ids of the seeded objects (all in the app :data:`SANDBOX_APP_ID`)."""

    app_id: str = SANDBOX_APP_ID
    #: presets "group_call_host", "group_call_participant", "webinar_presenter", "webinar_viewer"
    preset_host: str = _uid("preset", 1)
    preset_participant: str = _uid("preset", 2)
    preset_presenter: str = _uid("preset", 3)
    preset_viewer: str = _uid("preset", 4)
    #: "Weekly Team Sync": two ended sessions, the latest with chat, transcript, summary, recording
    meeting_team_sync: str = _uid("meeting", 1)
    #: "Product Launch Webinar": an ended session with a transcript (no summary yet), a livestream
    meeting_webinar: str = _uid("meeting", 2)
    #: "Customer Support Standup": has a LIVE session, started half an hour before the sandbox, with 4 joined participants
    meeting_live: str = _uid("meeting", 3)
    #: "Design Review (archived)": INACTIVE, never used
    meeting_inactive: str = _uid("meeting", 4)
    #: meeting participant "Alice Chen" (group_call_host) of the team sync
    participant_alice: str = _uid("participant", 1)
    #: meeting participant "Dave Kim" (group_call_host) of the live meeting
    participant_live_host: str = _uid("participant", 6)
    #: meeting participant "Erin Walsh" of the live meeting (custom_participant_id "erin.walsh")
    participant_live_guest: str = _uid("participant", 7)
    #: ended team-sync session with participants, chat, transcript, summary and a recording
    session_ended: str = _uid("session", 2)
    #: ended webinar session with a transcript but no summary (try generate summary on it)
    session_no_summary: str = _uid("session", 3)
    #: the live session of ``meeting_live``
    session_live: str = _uid("session", 4)
    #: peer id of Alice in ``session_ended`` (works with the peer report endpoint)
    peer_id: str = _uid("peer", 3)
    #: peer id of Dave in ``session_live``
    peer_live: str = _uid("peer", 8)
    #: UPLOADED recording of ``session_ended``
    recording_id: str = _uid("recording", 1)
    webhook_id: str = _uid("webhook", 1)
    #: IDLE livestream of the webinar meeting, with two past livestream sessions
    livestream_id: str = _uid("livestream", 1)
    livestream_session_id: str = _uid("livestream_session", 2)
    #: independent (no meeting) livestream "Sandbox Lobby Cam"
    livestream_independent: str = _uid("livestream", 2)


SEED = SeedIds()


# --------------------------------------------------------------------------- helpers


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


def make_token(participant: dict[str, Any], issued: datetime) -> str:
    """A JWT-shaped participant token; the signature part is random, so every call differs."""
    claims = {
        "sub": participant["id"],
        "orgId": participant["_app"],
        "meetingId": participant["_meeting"],
        "participantId": participant["id"],
        "presetId": participant["_preset_id"],
        "iat": int(issued.timestamp()),
    }
    return f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(claims)}.{secrets.token_urlsafe(32)}"


def _at(ts: str, minutes: float = 0) -> str:
    return iso(parse_ts(ts) + timedelta(minutes=minutes))


def _design_tokens() -> dict[str, Any]:
    return {
        "border_radius": "rounded",
        "border_width": "thin",
        "colors": {
            "background": {"600": "#222222", "700": "#1f1f1f", "800": "#1b1b1b", "900": "#181818", "1000": "#141414"},
            "brand": {"300": "#844d1c", "400": "#9d5b22", "500": "#f38020", "600": "#f5983f", "700": "#f7b06b"},
            "danger": "#FF2D2D",
            "success": "#62A504",
            "text": "#EEEEEE",
            "text_on_brand": "#EEEEEE",
            "video_bg": "#191919",
            "warning": "#FFCD07",
        },
        "logo": "",
        "spacing_base": 4,
        "theme": "dark",
    }


def default_preset(name: str, view_type: str = "GROUP_CALL", host: bool = False) -> dict[str, Any]:
    """A complete preset body (config, ui, permissions); *host* grants moderator rights."""
    produce = "ALLOWED" if host or view_type == "GROUP_CALL" else "CAN_REQUEST"
    return {
        "name": name,
        "config": {
            "max_screenshare_count": 1,
            "max_video_streams": {"desktop": 25 if view_type == "GROUP_CALL" else 6, "mobile": 6},
            "media": {
                "screenshare": {"frame_rate": 5, "quality": "hd"},
                "video": {"frame_rate": 30, "quality": "hd" if host else "vga"},
                "audio": {"enable_high_bitrate": False, "enable_stereo": False},
            },
            "view_type": view_type,
        },
        "ui": {"design_tokens": _design_tokens(), "config_diff": {}},
        "permissions": {
            "accept_waiting_requests": host,
            "can_accept_production_requests": host,
            "can_change_participant_permissions": host,
            "can_edit_display_name": True,
            "can_livestream": host,
            "can_record": host,
            "can_spotlight": host,
            "chat": {
                "private": {"can_receive": True, "can_send": True, "files": True, "text": True},
                "public": {"can_send": True, "files": True, "text": True},
            },
            "connected_meetings": {
                "can_alter_connected_meetings": host,
                "can_switch_connected_meetings": host,
                "can_switch_to_parent_meeting": host,
            },
            "disable_participant_audio": host,
            "disable_participant_screensharing": host,
            "disable_participant_video": host,
            "hidden_participant": False,
            "is_recorder": False,
            "kick_participant": host,
            "media": {
                "audio": {"can_produce": produce},
                "screenshare": {"can_produce": produce},
                "video": {"can_produce": produce},
            },
            "pin_participant": host,
            "plugins": {
                "can_close": host,
                "can_edit_config": host,
                "can_start": host,
                "config": {"access_control": "FULL_ACCESS" if host else "VIEW_ONLY", "handles_view_only": not host},
            },
            "polls": {"can_create": host, "can_view": True, "can_vote": True},
            "recorder_type": "NONE",
            "show_participant_list": True,
            "waiting_room_type": "SKIP" if host or view_type == "GROUP_CALL" else "ON_PRIVILEGED_USER_ENTRY",
        },
    }


DEFAULT_AI_CONFIG: dict[str, Any] = {
    "summarization": {"summary_type": "general", "text_format": "markdown", "word_limit": 500},
    "transcription": {"keywords": [], "language": "en-US", "profanity_filter": False},
}

MEETING_DEFAULTS: dict[str, Any] = {
    "title": None,
    "status": "ACTIVE",
    "record_on_start": False,
    "live_stream_on_start": False,
    "persist_chat": False,
    "summarize_on_end": False,
    "session_keep_alive_time_in_secs": 60,
    "ai_config": DEFAULT_AI_CONFIG,
}

# --------------------------------------------------------------------------- seed tables

APP_CREATED = "2026-01-15T09:00:00.000Z"

_PRESETS = [  # (id, name, view_type, host)
    (SEED.preset_host, "group_call_host", "GROUP_CALL", True),
    (SEED.preset_participant, "group_call_participant", "GROUP_CALL", False),
    (SEED.preset_presenter, "webinar_presenter", "WEBINAR", True),
    (SEED.preset_viewer, "webinar_viewer", "WEBINAR", False),
]

_MEETINGS = [  # (id, title, created_at, overrides)
    (SEED.meeting_team_sync, "Weekly Team Sync", "2026-11-02T09:00:00.000Z",
     {"record_on_start": True, "persist_chat": True, "summarize_on_end": True,
      "ai_config": {**DEFAULT_AI_CONFIG, "summarization": {"summary_type": "team_meeting", "text_format": "markdown", "word_limit": 300}}}),
    (SEED.meeting_webinar, "Product Launch Webinar", "2026-11-05T10:00:00.000Z", {"session_keep_alive_time_in_secs": 300}),
    (SEED.meeting_live, "Customer Support Standup", "2026-11-10T08:00:00.000Z", {"persist_chat": True}),
    (SEED.meeting_inactive, "Design Review (archived)", "2026-10-20T14:00:00.000Z", {"status": "INACTIVE"}),
]

# (participant serial, meeting, custom id, name, preset name)
_PEOPLE = [
    (1, SEED.meeting_team_sync, "alice.chen", "Alice Chen", "group_call_host"),
    (2, SEED.meeting_team_sync, "bob.martin", "Bob Martin", "group_call_participant"),
    (3, SEED.meeting_team_sync, "carol.diaz", "Carol Diaz", "group_call_participant"),
    (4, SEED.meeting_webinar, "priya.shah", "Priya Shah", "webinar_presenter"),
    (5, SEED.meeting_webinar, "tom.becker", "Tom Becker", "webinar_viewer"),
    (6, SEED.meeting_live, "dave.kim", "Dave Kim", "group_call_host"),
    (7, SEED.meeting_live, "erin.walsh", "Erin Walsh", "group_call_participant"),
    (8, SEED.meeting_live, "frank.osei", "Frank Osei", "group_call_participant"),
    (9, SEED.meeting_live, "grace.liu", "Grace Liu", "group_call_participant"),
]

# (session serial, meeting, started_at, ended_at or None, [(peer serial, participant serial, join +min, leave +min)])
_SESSIONS = [
    (1, SEED.meeting_team_sync, "2026-11-09T15:00:00.000Z", "2026-11-09T15:35:00.000Z", [(1, 1, 0, 35), (2, 2, 1, 34)]),
    (2, SEED.meeting_team_sync, "2026-11-16T15:00:00.000Z", "2026-11-16T15:42:00.000Z", [(3, 1, 0, 42), (4, 2, 0.5, 41), (5, 3, 2, 42)]),
    (3, SEED.meeting_webinar, "2026-11-18T17:00:00.000Z", "2026-11-18T18:05:00.000Z", [(6, 4, 0, 65), (7, 5, 3, 60)]),
    (4, SEED.meeting_live, None, None, [(8, 6, 0, None), (9, 7, 1, None), (10, 8, 2, None), (11, 9, 4, None)]),
]
#: The live session (its started_at is None above) began this long before the sandbox started.
LIVE_SESSION_AGE = timedelta(minutes=30)

_CHAT = [  # (participant serial, +min, text, pinned, edited)
    (1, 0.5, "Morning all, agenda is in the doc: https://docs.example.com/team-sync/2026-11-16", True, False),
    (2, 1.0, "Thanks Alice! I'll start with the release status.", False, False),
    (3, 2.5, "Joining late, sorry - network issues.", False, False),
    (2, 10.0, "Release candidate 2 is green on CI \U0001f680", False, True),
    (3, 14.0, "Rollback notes: https://wiki.example.com/release/rc2-rollback", False, False),
    (1, 25.0, "Great. Carol, can you own the migration checklist?", False, False),
    (3, 26.0, "Yes, I'll have it ready by Thursday \U0001f44d", False, False),
    (2, 38.0, "Who asked about pricing for the EU tier? Sales wants a note by Friday.", False, False),
    (1, 39.0, "That was me - I'll send it to Dana \U0001f469\u200d\U0001f4bb", False, False),
]

# (participant serial, +min, text). One line hides a word behind a zero-width space and a bidi
# override (U+202E), as a pasted or injected line might: what an agent reads has neither.
_TRANSCRIPTS = {
    SEED.session_ended: [
        (1, 0.2, "Good afternoon everyone, let's get started with the weekly sync."),
        (1, 0.6, "Three things today: the release, the migration, and the support backlog."),
        (2, 1.5, "Release candidate two passed all checks last night."),
        (2, 2.1, "The only flaky test was the upload retry one, and that's fixed on main now."),
        (1, 3.0, "Great news. Any blockers before we ship on Monday?"),
        (3, 4.2, "The database migration still needs a dry run on staging."),
        (3, 4.9, "Last time it took about forty minutes on a copy of production data."),
        (2, 6.0, "I can pair with Carol on that tomorrow morning."),
        (1, 6.8, "Good. If the dry run passes, we ship Monday. If not, we slip to Wednesday."),
        (3, 7.5, "Agreed. I'll post the dry run results in the release channel."),
        (2, 9.0, "One more thing on the release: the changelog still lists the old API limits."),
        (1, 9.6, "Can you fix that before the release notes go out?"),
        (2, 10.1, "Yes, today."),
        (3, 12.0, "For the migration, do we keep the old columns for one release or drop them?"),
        (1, 12.8, "Keep them for one release. We drop them in the next cycle once nothing reads them."),
        (3, 13.5, "Okay, then the migration is additive only, which makes rollback easy."),
        (2, 14.2, "Rollback steps are in the wiki; search for re\u200blease\u202e notes\u202c."),
        (1, 15.0, "Let's move to the support backlog. It grew by twelve tickets this week."),
        (1, 15.9, "Most of them are about the new sign-in flow on mobile."),
        (3, 17.0, "I looked at a few. Half are the same bug with expired sessions."),
        (2, 18.3, "That's the token refresh race. I have a fix in review."),
        (1, 19.0, "Can we get it into release candidate two, or is it too late?"),
        (2, 19.8, "Too late for Monday. It can go in the patch release the week after."),
        (1, 20.5, "Fine. I'll triage the rest of the backlog and tag the duplicates."),
        (3, 22.0, "Should we tell support about the workaround in the meantime?"),
        (1, 22.6, "Yes. Carol, can you write a short note for them?"),
        (3, 23.1, "Sure, I'll send it today."),
        (2, 25.0, "On hiring: the backend interviews are Thursday and Friday."),
        (1, 25.7, "I can take Thursday. Bob, can you do Friday?"),
        (2, 26.2, "Yes."),
        (3, 28.0, "Quick question, is anyone looking at the staging costs? The bill doubled."),
        (1, 28.9, "That's the load test cluster. It should have been scaled down after the test."),
        (2, 29.5, "My fault, I'll scale it down right after this call."),
        (3, 30.5, "I'll prepare the migration checklist by Thursday."),
        (1, 36.0, "Anything else? Then let's recap the action items."),
        (1, 36.8, "Bob and Carol: dry run on staging tomorrow. Carol: checklist by Thursday."),
        (1, 37.4, "Bob: changelog fix and the staging cluster. Me: backlog triage."),
        (2, 38.2, "And the pricing note for the EU tier, Alice?"),
        (1, 38.8, "Right, I'll send that to Dana by Friday."),
        (1, 41.0, "Thanks all, see you next week."),
    ],
    SEED.session_no_summary: [
        (4, 0.5, "Welcome to the product launch webinar, thanks for joining."),
        (4, 5.0, "Today we'll walk through the new realtime dashboard."),
        (5, 40.0, "Will the dashboard be available on the free plan?"),
        (4, 41.0, "Yes, with a seven day history limit."),
        (4, 62.0, "Thanks for attending, the recording will be shared by email."),
    ],
}

_SUMMARY_ENDED = """# Weekly Team Sync - summary

## Decisions
- Ship release candidate 2 on Monday if the staging migration dry run passes; otherwise slip to Wednesday.
- The migration keeps the old columns for one release (additive only); they are dropped next cycle.
- The token refresh fix goes into the patch release after Monday, not into release candidate 2.

## Action items
- Bob and Carol: run the database migration dry run on staging tomorrow morning.
- Carol: prepare the migration checklist by Thursday; send support a note on the expired-session workaround today.
- Bob: fix the API limits in the changelog today; scale down the staging load test cluster.
- Alice: triage the support backlog (+12 tickets) and tag duplicates; send the EU tier pricing note to Dana by Friday.
- Interviews: Alice on Thursday, Bob on Friday.
"""

_RECORDINGS = [  # (serial, session serial, invoked, started +s, duration s, size bytes, start reason, stop reason)
    (1, 2, "2026-11-16T15:00:05.000Z", 4, 2511, 161_280_000, "RECORD_ON_START", "ALL_PEERS_LEFT"),
    (2, 3, "2026-11-18T17:01:00.000Z", 3, 3780, 243_900_000, "API_CALL", "API_CALL"),
]

_LIVESTREAMS = [  # (serial, meeting or None, name, created_at, [(session serial, started, minutes, viewer seconds)])
    (1, SEED.meeting_webinar, "Product Launch Webinar - Live", "2026-11-05T10:05:00.000Z",
     [(1, "2026-11-11T17:00:00.000Z", 30, 12_650), (2, "2026-11-18T17:00:00.000Z", 65, 48_210)]),
    (2, None, "Sandbox Lobby Cam", "2026-11-12T07:30:00.000Z", [(3, "2026-11-20T08:00:00.000Z", 60, 5_400)]),
]


def livestream_record(app_id: str, ls_id: str, name: str | None, meeting_id: str | None, created: str) -> dict[str, Any]:
    return {
        "id": ls_id,
        "name": name,
        "meeting_id": meeting_id,
        "status": "IDLE",
        "disabled": False,
        "ingest_server": "rtmps://live.sandbox.realtimekit.invalid:443/live/",
        "stream_key": hashlib.sha256(f"stream-key:{ls_id}".encode()).hexdigest()[:32],  # stable per livestream
        "playback_url": f"https://stream.sandbox.realtimekit.invalid/{ls_id}/manifest/video.m3u8",
        "created_at": created,
        "updated_at": created,
        "_app": app_id,
    }


# --------------------------------------------------------------------------- telemetry
# What the session-participant detail and the peer report show about a peer's device, network
# and call quality. Each peer gets one of PEER_DEVICES, picked by a hash of its id.

PEER_DEVICES = [
    {"browser": "Chrome", "browser_version": "131.0.0.0", "engine": "Blink", "os": "macOS", "os_version": "14.6",
     "is_mobile": False, "city": "San Francisco", "region": "California", "country": "US",
     "timezone": "America/Los_Angeles", "location": "37.77,-122.42"},
    {"browser": "Firefox", "browser_version": "133.0", "engine": "Gecko", "os": "Windows", "os_version": "11",
     "is_mobile": False, "city": "London", "region": "England", "country": "GB", "timezone": "Europe/London",
     "location": "51.51,-0.13"},
    {"browser": "Safari", "browser_version": "18.1", "engine": "WebKit", "os": "iOS", "os_version": "18.1",
     "is_mobile": True, "city": "Bengaluru", "region": "Karnataka", "country": "IN", "timezone": "Asia/Kolkata",
     "location": "12.97,77.59"},
]
DEVICE_DEFAULTS = {"cpus": 8, "memory": 8, "sdk_name": "web-core", "sdk_version": "1.2.0", "webgl_support": "WebGL2"}
NETWORK_ORG = "AS64500 Sandbox Networks"
NETWORK_ASN = "AS64500"
PRECALL_NETWORK = {
    "backend_rtt": 0.042, "effective_networktype": "4g", "fractional_loss": 0, "jitter": 2,
    "reflexive_connectivity": True, "relay_connectivity": True, "rtt": 0.038, "turn_connectivity": True,
    "throughput": 18500,
}
PEER_CONNECTION = {
    "effective_network_type": "4g", "reflexive_connectivity": True, "relay_connectivity": True, "turn_connectivity": True,
}
#: (event, seconds after joining) for every peer; leaving adds "call_leave".
PEER_EVENTS = (("precall_begin", -20), ("precall_end", -5), ("call_join", 0), ("audio_on", 2), ("video_on", 3))
#: Per-minute quality samples shown from a peer's join.
QUALITY_SAMPLES = 3
QUALITY_SUMMARY = {
    "average_quality": 88, "audio_bandwidth": 48, "video_bandwidth": 1200, "audio_packet_loss": 0.2, "video_packet_loss": 0.4,
}
REPORT_PACKET_TOTALS = {
    "total_audio_packets": 54_000, "total_audio_packets_lost": 21, "total_video_packets": 310_000, "total_video_packets_lost": 140,
}
AUDIO_PRODUCER_CUMULATIVE = {
    "packet_loss": {"avg": 0, "5_or_greater_event_fraction": 0, "10_or_greater_event_fraction": 0,
                    "25_or_greater_event_fraction": 0, "50_or_greater_event_fraction": 0},
    "quality_mos": {"avg": 4, "p50": 4, "p75": 4, "p90": 5},
    "rtt": {"avg": 0.04, "100ms_or_greater_event_fraction": 0.01, "250ms_or_greater_event_fraction": 0.0,
            "500ms_or_greater_event_fraction": 0.0},
}


def quality_sample(minute: int, video: bool) -> dict[str, Any]:
    """The quality sample taken *minute* minutes after a peer joined (quality degrades slightly)."""
    sample: dict[str, Any] = {"jitter": 3 + minute, "packets_lost": minute, "quality": 90 - 2 * minute}
    if video:
        sample.update(frame_height=720, frame_width=1280, frames_dropped=minute, frames_per_second=30)
    else:
        sample.update(concealment_events=minute)
    return sample


def audio_producer_sample(index: int) -> dict[str, Any]:
    """Counters of the peer report's audio producer at its *index*-th sample."""
    return {"mos_quality": 4, "bytes_sent": 240_000 * (index + 1), "packets_sent": 3000 * (index + 1), "rtt": 0.04,
            "ssrc": 1001, "mid": "0"}


def build_state(now: datetime) -> dict[str, Any]:
    """A fresh copy of the seeded state, for a sandbox whose clock reads *now*."""
    app = SANDBOX_APP_ID
    st: dict[str, Any] = {
        name: {}
        for name in ("apps", "presets", "meetings", "participants", "sessions", "recordings", "webhooks", "livestreams",
                     "livestream_sessions", "deliveries")
    }
    st["apps"][app] = {"id": app, "name": "Sandbox App", "created_at": APP_CREATED}
    for pid, name, view_type, host in _PRESETS:
        st["presets"][pid] = {"id": pid, **default_preset(name, view_type, host), "created_at": APP_CREATED, "updated_at": APP_CREATED, "_app": app}
    for mid, title, created, extra in _MEETINGS:
        st["meetings"][mid] = {"id": mid, **MEETING_DEFAULTS, "title": title, **extra, "created_at": created, "updated_at": created, "_app": app}
    preset_ids = {name: pid for pid, name, *_ in _PRESETS}
    people = {}
    for n, mid, custom, name, preset in _PEOPLE:
        pid = _uid("participant", n)
        created = _at(st["meetings"][mid]["created_at"], 5 + n)
        rec = {
            "id": pid, "custom_participant_id": custom, "name": name, "picture": None, "preset_name": preset,
            "created_at": created, "updated_at": created, "_app": app, "_meeting": mid, "_preset_id": preset_ids[preset],
        }
        rec["token"] = make_token(rec, parse_ts(created))
        st["participants"][pid] = people[n] = rec
    for n, mid, started, ended, peers in _SESSIONS:
        sid = _uid("session", n)
        started = started or iso(now - LIVE_SESSION_AGE)
        parts = []
        for peer_n, person_n, join, leave in peers:
            person = people[person_n]
            parts.append({
                "id": _uid("peer", peer_n), "user_id": person["id"], "custom_participant_id": person["custom_participant_id"],
                "display_name": person["name"], "preset_name": person["preset_name"],
                "joined_at": _at(started, join), "left_at": _at(started, leave) if leave is not None else None,
                "duration": round(leave - join, 2) if leave is not None else 0,
                "created_at": _at(started, join), "updated_at": _at(started, leave if leave is not None else join),
            })
        st["sessions"][sid] = {
            "id": sid, "associated_id": mid, "meeting_display_name": st["meetings"][mid]["title"], "type": "meeting",
            "status": "ENDED" if ended else "LIVE", "organization_id": app,
            "created_at": started, "started_at": started, "updated_at": ended or _at(started, 6),
            **({"ended_at": ended} if ended else {}),
            "minutes_consumed": round(sum(p["duration"] for p in parts), 2),
            "max_concurrent_participants": len(parts), "breakout_rooms": [], "meta": {"region": "sandbox"},
            "_app": app, "_participants": parts, "_polls": [],
            # Seeded content (chat, transcript, summary) is filled in below; a summary can be
            # downloaded from _summary_available_at on (the sandbox clock decides).
            "_chat": [], "_transcript": [], "_summary": None, "_summary_available_at": None,
        }
    ended = st["sessions"][SEED.session_ended]
    by_person = {p["user_id"]: p for p in ended["_participants"]}
    ended["_chat"] = [
        {"id": _uid("chat", i + 1), "peer": by_person[_uid("participant", n)]["id"], "name": people[n]["name"],
         "at": _at(ended["started_at"], m), "text": text, "pinned": pinned, "edited": edited}
        for i, (n, m, text, pinned, edited) in enumerate(_CHAT)
    ]
    for sid, lines in _TRANSCRIPTS.items():
        peers = {p["user_id"]: p["id"] for p in st["sessions"][sid]["_participants"]}
        st["sessions"][sid]["_transcript"] = [
            {"peer_name": people[n]["name"], "custom_participant_id": people[n]["custom_participant_id"],
             "user_id": people[n]["id"], "peer_id": peers[people[n]["id"]],
             "at": _at(st["sessions"][sid]["started_at"], m), "text": text}
            for n, m, text in lines
        ]
    ended["_summary"] = _SUMMARY_ENDED
    ended["_summary_available_at"] = _at(ended["ended_at"], 2)
    for n, session_n, invoked, start_s, duration, size, start_reason, stop_reason in _RECORDINGS:
        rid, sess = _uid("recording", n), st["sessions"][_uid("session", session_n)]
        started = iso(parse_ts(invoked) + timedelta(seconds=start_s))
        caller = {"type": "ORGANIZATION", "name": "Sandbox App", "user_Id": app}
        st["recordings"][rid] = {
            "id": rid, "status": "UPLOADED", "output_file_name": f"{sess['associated_id']}_{n}.mp4",
            "invoked_time": invoked, "started_time": started, "stopped_time": _at(started, duration / 60),
            "recording_duration": duration, "file_size": size, "session_id": sess["id"],
            "start_reason": {"reason": start_reason, "caller": caller},
            "stop_reason": {"reason": stop_reason, "caller": caller},
            "storage_config": None, "_app": app, "_meeting": sess["associated_id"], "_bucket": True, "_audio": False,
            "_track": False,
        }
    st["webhooks"][SEED.webhook_id] = {
        "id": SEED.webhook_id, "name": "Sandbox event sink", "url": "https://example.com/webhooks/realtimekit",
        "events": ["meeting.started", "meeting.ended", "recording.statusUpdate"], "enabled": True,
        "created_at": APP_CREATED, "updated_at": APP_CREATED, "_app": app,
    }
    for n, mid, name, created, sessions in _LIVESTREAMS:
        lid = _uid("livestream", n)
        st["livestreams"][lid] = livestream_record(app, lid, name, mid, created)
        for sn, started, minutes, viewers in sessions:
            lsid = _uid("livestream_session", sn)
            st["livestream_sessions"][lsid] = {
                "id": lsid, "livestream_id": lid, "created_at": _at(started, -0.5), "invoked_time": _at(started, -0.5),
                "started_time": started, "stopped_time": _at(started, minutes), "updated_at": _at(started, minutes),
                "ingest_seconds": minutes * 60, "viewer_seconds": viewers, "err_message": None, "_app": app,
            }
        st["livestreams"][lid]["updated_at"] = max(
            [created, *(s["updated_at"] for s in st["livestream_sessions"].values() if s["livestream_id"] == lid)]
        )
    return st
