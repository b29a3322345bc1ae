"""Nested request objects shared by meetings and recordings: AI and recording configuration.

These models carry no docstrings on purpose: a docstring would be inlined into every schema
that uses the model. Field descriptions say what an agent needs; constraints come from the docs.
"""

from typing import Literal

from pydantic import Field

from rtk_mcp.catalog.common import Params, StreamUrl, Uri

__all__ = ["AIConfig", "AudioConfig", "BucketConfig", "RecordingConfig", "RtmpConfig", "StorageConfig", "VideoConfig"]

SummaryType = Literal["general", "team_meeting", "sales_call", "client_check_in", "interview", "daily_standup",
                      "one_on_one_meeting", "lecture", "code_review"]


class Summarization(Params):
    summary_type: SummaryType | None = None
    text_format: Literal["plain_text", "markdown"] | None = None
    word_limit: int | None = Field(default=None, ge=150, le=1000)


class Transcription(Params):
    keywords: list[str] | None = Field(default=None, description="Hint terms")
    language: Literal["en-US", "en-IN", "de", "hi", "sv", "ru", "pl", "el", "fr", "nl"] | None = None
    profanity_filter: bool | None = None


class AIConfig(Params):
    summarization: Summarization | None = None
    transcription: Transcription | None = None


class AudioConfig(Params):
    channel: Literal["mono", "stereo"] | None = None
    codec: Literal["MP3", "AAC"] | None = Field(default=None, description="Forced to vorbis with VP8")
    export_file: bool | None = Field(default=None, description="Separate audio file")


class WatermarkSize(Params):
    height: int | None = Field(default=None, ge=1)
    width: int | None = Field(default=None, ge=1)


class Watermark(Params):
    position: Literal["left top", "right top", "left bottom", "right bottom"] | None = None
    size: WatermarkSize | None = None
    url: Uri | None = None


class VideoConfig(Params):
    codec: Literal["H264", "VP8"] | None = None
    export_file: bool | None = Field(default=None, description="Separate video file")
    height: int | None = Field(default=None, ge=1, le=1920)
    width: int | None = Field(default=None, ge=1, le=1920)
    watermark: Watermark | None = None


class RtmpConfig(Params):
    rtmp_url: StreamUrl | None = None


class BucketConfig(Params):
    enabled: bool = Field(description="false: no download URLs")


class StorageConfig(Params):
    # Credentials are write-only on the API side; plain strings, never defaulted or echoed.
    type: Literal["aws", "azure", "digitalocean", "gcs", "sftp"] = Field(
        description="sftp uses host, port, username, auth_method")
    access_key: str | None = Field(default=None, description="Not needed for gcs")
    secret: str | None = None
    bucket: str | None = None
    region: str | None = None
    path: str | None = Field(default=None, description="Under bucket root")
    auth_method: Literal["KEY", "PASSWORD"] | None = None
    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = Field(default=None, description="Key passphrase if auth_method KEY")
    private_key: str | None = None


class RecordingConfig(Params):
    audio_config: AudioConfig | None = None
    video_config: VideoConfig | None = None
    file_name_prefix: str | None = None
    max_seconds: int | None = Field(default=None, ge=60, le=86400)
    live_streaming_config: RtmpConfig | None = None
    realtimekit_bucket_config: BucketConfig | None = None
    storage_config: StorageConfig | None = None
