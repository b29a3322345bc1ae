"""A tiny request-body checker and the body specs of the write endpoints.

Specs mirror ``params_schema`` of the reference (types, required fields, enums) plus the
ranges the docs page adds (``session_keep_alive_time_in_secs`` 60-600, ``word_limit``
150-1000, ``max_seconds`` 60-86400, video ``width``/``height`` 1-1920, preset video
``frame_rate`` <= 30). Unknown keys are ignored, like a lenient server would.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlparse

__all__ = ["Invalid", "O", "T", "check", "SPECS"]


class Invalid(Exception):
    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"'{path}' {problem}")
        self.path = path


@dataclass(frozen=True)
class T:
    """A scalar or array: ``kind`` is a JSON Schema type name."""

    kind: str
    enum: tuple[Any, ...] = ()
    lo: float | None = None
    hi: float | None = None
    null: bool = False
    items: T | O | None = None
    min_items: int = 0
    uri: bool = False


@dataclass(frozen=True)
class O:  # noqa: E742 - short on purpose: the specs below read like a schema
    """An object: ``fields`` by name, ``extra`` checks keys not listed (``additionalProperties``)."""

    fields: dict[str, T | O] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    null: bool = False
    extra: T | O | None = None

    def partial(self) -> O:
        """The same object with nothing required, recursively (PATCH bodies)."""
        sub = {k: v.partial() if isinstance(v, O) else v for k, v in self.fields.items()}
        return replace(self, fields=sub, required=())

    def without(self, *names: str, **extra: T | O) -> O:
        sub = {k: v for k, v in self.fields.items() if k not in names}
        return replace(self, fields={**sub, **extra})


_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
    "array": list,
}


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def check(spec: T | O, value: Any, path: str = "") -> None:
    """Raise :class:`Invalid` naming the first offending field of *value*."""
    where = path or "body"
    if value is None:
        if spec.null:
            return
        raise Invalid(where, "must not be null")
    if isinstance(spec, O):
        if not isinstance(value, dict):
            raise Invalid(where, "must be an object")
        for key in spec.required:
            if key not in value:
                raise Invalid(_join(path, key), "is required")
        for key, item in value.items():
            sub = spec.fields.get(key, spec.extra)
            if sub is not None:
                check(sub, item, _join(path, key))
        return
    is_bool = isinstance(value, bool)
    if not isinstance(value, _TYPES[spec.kind]) or (is_bool and spec.kind != "boolean"):
        article = "an" if spec.kind[0] in "aeiou" else "a"
        raise Invalid(where, f"must be {article} {spec.kind}")
    if spec.enum and value not in spec.enum:
        raise Invalid(where, "must be one of: " + ", ".join(map(str, spec.enum)))
    if spec.lo is not None and value < spec.lo:
        raise Invalid(where, f"must be >= {spec.lo:g}")
    if spec.hi is not None and value > spec.hi:
        raise Invalid(where, f"must be <= {spec.hi:g}")
    if spec.uri:
        parts = urlparse(value)
        if not (parts.scheme and parts.netloc):
            raise Invalid(where, "must be an absolute URL")
    if spec.kind == "array":
        if len(value) < spec.min_items:
            raise Invalid(where, f"must have at least {spec.min_items} item(s)")
        if spec.items is not None:
            for i, item in enumerate(value):
                check(spec.items, item, _join(path, i))


# --------------------------------------------------------------------------- building blocks

STR, BOOL, INT, NUM = T("string"), T("boolean"), T("integer"), T("number")
STR_NULL, BOOL_NULL = T("string", null=True), T("boolean", null=True)
URL = T("string", uri=True)


def enum(*values: str) -> T:
    return T("string", enum=values)


def strings(min_items: int = 0, item: T = STR) -> T:
    return T("array", items=item, min_items=min_items)


STORAGE_CONFIG = O(
    {
        "type": enum("aws", "azure", "digitalocean", "gcs", "sftp"),
        "auth_method": enum("KEY", "PASSWORD"),
        "port": NUM,
        **{k: STR for k in ("access_key", "bucket", "host", "password", "path", "private_key", "region", "secret", "username")},
    },
    required=("type",),
    null=True,
)
AUDIO_CONFIG = O({"channel": enum("mono", "stereo"), "codec": enum("MP3", "AAC"), "export_file": BOOL})
PIXELS = T("integer", lo=1, hi=1920)
RECORDING_VIDEO = O(
    {
        "codec": enum("H264", "VP8"),
        "export_file": BOOL,
        "width": PIXELS,
        "height": PIXELS,
        "watermark": O(
            {
                "position": enum("left top", "right top", "left bottom", "right bottom"),
                "size": O({"height": T("integer", lo=1), "width": T("integer", lo=1)}),
                "url": URL,
            }
        ),
    }
)
#: A meeting livestream's ``video_config``: only its resolution (a recording's video_config is RECORDING_VIDEO).
LIVESTREAM_RESOLUTION = O({"height": T("integer", lo=1), "width": T("integer", lo=1)})  # no documented maximum
MAX_SECONDS = T("number", lo=60, hi=86400)
BUCKET = O({"enabled": BOOL}, required=("enabled",))

AI_CONFIG = O(
    {
        "summarization": O(
            {
                "summary_type": enum(
                    "general", "team_meeting", "sales_call", "client_check_in", "interview",
                    "daily_standup", "one_on_one_meeting", "lecture", "code_review",
                ),
                "text_format": enum("plain_text", "markdown"),
                "word_limit": T("integer", lo=150, hi=1000),
            }
        ),
        "transcription": O(
            {
                "keywords": strings(),
                "language": enum("en-US", "en-IN", "de", "hi", "sv", "ru", "pl", "el", "fr", "nl"),
                "profanity_filter": BOOL,
            }
        ),
    }
)
MEETING = O(
    {
        "title": STR_NULL,
        "ai_config": AI_CONFIG,
        "live_stream_on_start": BOOL_NULL,
        "record_on_start": BOOL_NULL,
        "persist_chat": BOOL,
        "summarize_on_end": BOOL,
        "session_keep_alive_time_in_secs": T("number", lo=60, hi=600),
        "recording_config": O(
            {
                "audio_config": AUDIO_CONFIG,
                "file_name_prefix": STR,
                "live_streaming_config": O({"rtmp_url": URL}),
                "max_seconds": MAX_SECONDS,
                "realtimekit_bucket_config": BUCKET,
                "storage_config": STORAGE_CONFIG,
                "video_config": RECORDING_VIDEO,
            }
        ),
    }
)
MEETING_PATCH = MEETING.without(
    "recording_config",
    title=STR,
    live_stream_on_start=BOOL,
    record_on_start=BOOL,
    status=enum("ACTIVE", "INACTIVE"),
)

PRODUCE = O({"can_produce": enum("ALLOWED", "NOT_ALLOWED", "CAN_REQUEST")}, required=("can_produce",))
QUALITY = enum("hd", "vga", "qvga")
_PERMISSION_FLAGS = (
    "accept_waiting_requests", "can_accept_production_requests", "can_change_participant_permissions",
    "can_edit_display_name", "can_livestream", "can_record", "can_spotlight", "disable_participant_audio",
    "disable_participant_screensharing", "disable_participant_video", "hidden_participant",
    "kick_participant", "pin_participant", "show_participant_list",
)
PERMISSIONS = O(
    {
        **{k: BOOL for k in _PERMISSION_FLAGS},
        "is_recorder": BOOL,
        "chat": O(
            {
                "private": O({k: BOOL for k in ("can_receive", "can_send", "files", "text")}, required=("can_receive", "can_send", "files", "text")),
                "public": O({k: BOOL for k in ("can_send", "files", "text")}, required=("can_send", "files", "text")),
            },
            required=("private", "public"),
        ),
        "connected_meetings": O(
            {k: BOOL for k in ("can_alter_connected_meetings", "can_switch_connected_meetings", "can_switch_to_parent_meeting")},
            required=("can_alter_connected_meetings", "can_switch_connected_meetings", "can_switch_to_parent_meeting"),
        ),
        "media": O({"audio": PRODUCE, "screenshare": PRODUCE, "video": PRODUCE}, required=("audio", "screenshare", "video")),
        "plugins": O({"can_close": BOOL, "can_edit_config": BOOL, "can_start": BOOL}, required=("can_close", "can_edit_config", "can_start", "config")),
        "polls": O({"can_create": BOOL, "can_view": BOOL, "can_vote": BOOL}, required=("can_create", "can_view", "can_vote")),
        "recorder_type": enum("RECORDER", "LIVESTREAMER", "NONE"),
        "waiting_room_type": enum("SKIP", "ON_PRIVILEGED_USER_ENTRY", "SKIP_ON_ACCEPT"),
    },
    required=(*_PERMISSION_FLAGS, "chat", "connected_meetings", "media", "plugins", "polls", "recorder_type", "waiting_room_type"),
)
_COLOR_KEYS = ("danger", "success", "text", "text_on_brand", "video_bg", "warning")
PRESET = O(
    {
        "name": STR,
        "config": O(
            {
                "max_screenshare_count": INT,
                "max_video_streams": O({"desktop": INT, "mobile": INT}, required=("desktop", "mobile")),
                "media": O(
                    {
                        "screenshare": O({"frame_rate": INT, "quality": QUALITY}, required=("frame_rate", "quality")),
                        "video": O({"frame_rate": T("integer", hi=30), "quality": QUALITY}, required=("frame_rate", "quality")),
                        "audio": O({"enable_high_bitrate": BOOL, "enable_stereo": BOOL}),
                    },
                    required=("screenshare", "video"),
                ),
                "view_type": enum("GROUP_CALL", "WEBINAR", "AUDIO_ROOM"),
            },
            required=("max_screenshare_count", "max_video_streams", "media", "view_type"),
        ),
        "ui": O(
            {
                "design_tokens": O(
                    {
                        "border_radius": enum("rounded"),
                        "border_width": enum("thin"),
                        "colors": O(
                            {
                                "background": O({k: STR for k in ("600", "700", "800", "900", "1000")}, required=("600", "700", "800", "900", "1000")),
                                "brand": O({k: STR for k in ("300", "400", "500", "600", "700")}, required=("300", "400", "500", "600", "700")),
                                **{k: STR for k in _COLOR_KEYS},
                            },
                            required=("background", "brand", *_COLOR_KEYS),
                        ),
                        "logo": STR,
                        "spacing_base": NUM,
                        "theme": enum("dark"),
                    },
                    required=("border_radius", "border_width", "colors", "logo", "spacing_base", "theme"),
                ),
            },
            required=("design_tokens",),
        ),
        "permissions": PERMISSIONS,
    },
    required=("name", "config", "ui"),
)

WEBHOOK = O(
    {
        "name": STR,
        "url": URL,
        "enabled": BOOL,
        "events": strings(
            0,
            enum(
                "meeting.started", "meeting.ended", "meeting.participantJoined", "meeting.participantLeft",
                "meeting.chatSynced", "recording.statusUpdate", "livestreaming.statusUpdate",
                "meeting.transcript", "meeting.summary",
            ),
        ),
    },
    required=("name", "url", "events"),
)

RECORDING_START = O(
    {
        "meeting_id": STR,
        "url": URL,
        "allow_multiple_recordings": BOOL,
        "audio_config": AUDIO_CONFIG,
        "video_config": RECORDING_VIDEO,
        "file_name_prefix": STR,
        "interactive_config": O({"type": enum("ID3")}),
        "max_seconds": T("integer", lo=60, hi=86400),
        "realtimekit_bucket_config": BUCKET,
        "rtmp_out_config": O({"rtmp_url": URL}),
        "storage_config": STORAGE_CONFIG,
    }
)
TRACK_RECORDING = O(
    {
        "meeting_id": STR,
        "max_seconds": NUM,
        "layers": O(
            extra=O(
                {
                    "file_name_prefix": STR,
                    "outputs": T(
                        "array",
                        items=O({"type": enum("REALTIMEKIT_BUCKET", "STORAGE_CONFIG"), "storage_config": STORAGE_CONFIG}),
                    ),
                }
            )
        ),
    },
    required=("layers", "meeting_id"),
)

SPECS: dict[str, O] = {
    "app": O({"name": STR}, required=("name",)),
    "meeting": MEETING,
    "meeting_patch": MEETING_PATCH,
    "participant": O(
        {"custom_participant_id": STR, "preset_name": STR, "name": STR_NULL, "picture": STR_NULL},
        required=("custom_participant_id", "preset_name"),
    ),
    "participant_patch": O({"name": STR_NULL, "picture": STR_NULL, "preset_name": STR_NULL}),
    "preset": PRESET,
    "preset_patch": PRESET.partial(),
    "webhook": WEBHOOK,
    "webhook_patch": WEBHOOK.partial(),
    "recording_start": RECORDING_START,
    "recording_action": O({"action": enum("stop", "pause", "resume")}, required=("action",)),
    "track_recording": TRACK_RECORDING,
    "kick": O(
        {"participant_ids": strings(), "custom_participant_ids": strings()},
        required=("custom_participant_ids", "participant_ids"),
    ),
    "poll": O(
        {"question": STR, "options": strings(), "anonymous": BOOL, "hide_votes": BOOL},
        required=("options", "question"),
    ),
    "livestream": O({"name": STR_NULL}),
    "meeting_livestream": O({"name": STR_NULL, "video_config": LIVESTREAM_RESOLUTION}),
}
