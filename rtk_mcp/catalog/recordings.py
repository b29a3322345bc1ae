"""Recordings: composite recordings of a meeting (or a URL) and per-track recordings."""

from typing import Annotated, Any, Literal

from pydantic import Field, field_serializer, field_validator

from rtk_mcp.catalog.common import (
    FROM_LIST_MEETINGS,
    AppParams,
    ISOTime,
    ListedBy,
    MeetingId,
    PageNo,
    Params,
    PathId,
    PerPage,
    Uri,
)
from rtk_mcp.catalog.endpoint import Endpoint
from rtk_mcp.catalog.media import (
    AudioConfig,
    BucketConfig,
    RtmpConfig,
    StorageConfig,
    VideoConfig,
)

RecordingId = Annotated[PathId, ListedBy("list_recordings", "start_recording")]


class ListRecordings(AppParams):
    """List recordings, with download URLs."""

    meeting_id: str | None = Field(default=None, description="Only this meeting's recordings")
    status: list[Literal["INVOKED", "RECORDING", "UPLOADING", "UPLOADED"]] | None = Field(
        default=None, description="Any of these statuses"
    )
    expired: bool | None = Field(default=None, description="Download link expired")
    search: str | None = Field(default=None, description="Meeting ID or title")
    start_time: ISOTime | None = None
    end_time: ISOTime | None = None
    sort_by: Literal["invokedTime"] | None = None
    sort_order: Literal["ASC", "DESC"] | None = None
    page_no: PageNo | None = None
    per_page: PerPage | None = None


class InteractiveConfig(Params):
    type: Literal["ID3"] | None = None


class StartRecording(AppParams):
    """Record a live meeting (meeting_id) or a web page (url); update_recording stops it."""

    meeting_id: Annotated[str, FROM_LIST_MEETINGS] | None = None
    url: Uri | None = Field(default=None, description="Record this page instead")
    allow_multiple_recordings: bool | None = Field(default=None, description="Allow concurrent recordings")
    audio_config: AudioConfig | None = None
    video_config: VideoConfig | None = None
    file_name_prefix: str | None = None
    max_seconds: int | None = Field(default=None, ge=60, le=86400, description="Max length")
    interactive_config: InteractiveConfig | None = Field(default=None, description="HLS timed metadata (.tar)")
    rtmp_out_config: RtmpConfig | None = Field(default=None, description="Also stream to RTMP")
    realtimekit_bucket_config: BucketConfig | None = Field(default=None, description="RealtimeKit storage on/off")
    storage_config: StorageConfig | None = Field(default=None, description="Upload to your storage")


class GetActiveRecording(AppParams):
    """Get the recording currently running in a meeting, if any."""

    meeting_id: MeetingId


class GetRecording(AppParams):
    """Get one recording's status and download URLs."""

    recording_id: RecordingId
    # Ours, not the API's: rtk_mcp.results.content polls until the status is final (never sent to the API).
    wait_s: int | None = Field(default=None, ge=1, le=120, description="Wait up to N s for UPLOADED or ERRORED")


class UpdateRecording(AppParams):
    """Pause, resume or stop a recording."""

    recording_id: RecordingId
    action: Literal["stop", "pause", "resume"]


class LayerOutput(Params):
    type: Literal["REALTIMEKIT_BUCKET", "STORAGE_CONFIG"] | None = None
    storage_config: StorageConfig | None = Field(default=None, description="For STORAGE_CONFIG")


class Layer(Params):
    name: str
    file_name_prefix: str | None = None
    outputs: list[LayerOutput] | None = None


class StartTrackRecording(AppParams):
    """Record a meeting's tracks separately; layers map tracks to outputs."""

    meeting_id: Annotated[str, FROM_LIST_MEETINGS]
    # The API takes an object keyed by layer name: an open map, which strict provider modes refuse to
    # describe. Agents send a list of named layers; the request carries the object.
    layers: list[Layer] = Field(description="One per layer, names unique")
    max_seconds: int | None = Field(default=None, description="Max length (beta)")

    @field_validator("layers", mode="before")
    @classmethod
    def _from_object(cls, layers: Any) -> Any:
        """The API's own form (an object keyed by name) is accepted too."""
        if isinstance(layers, dict):
            return [{**layer, "name": name} if isinstance(layer, dict) else layer for name, layer in layers.items()]
        return layers

    @field_validator("layers")
    @classmethod
    def _unique_names(cls, layers: list[Layer]) -> list[Layer]:
        names = [layer.name for layer in layers]
        if len(set(names)) != len(names):
            raise ValueError("layer names must be unique")
        return layers

    @field_serializer("layers")
    def _keyed_by_name(self, layers: list[Layer]) -> dict[str, Any]:
        return {layer.name: layer.model_dump(mode="json", exclude={"name"}, exclude_none=True) for layer in layers}


_R = "/{app_id}/recordings"

ENDPOINTS = [
    Endpoint("list_recordings", "GET", _R, ListRecordings, "List recordings"),
    Endpoint("start_recording", "POST", _R, StartRecording, "Start recording", check_with="get_active_recording",
             default_toolset=True),
    Endpoint("get_active_recording", "GET", _R + "/active-recording/{meeting_id}", GetActiveRecording,
             "Get active recording"),
    Endpoint("get_recording", "GET", _R + "/{recording_id}", GetRecording, "Get recording"),
    # PUT (idempotent), but "stop" ends the recording irreversibly.
    Endpoint("update_recording", "PUT", _R + "/{recording_id}", UpdateRecording, "Control recording",
             destructive=True, default_toolset=True),
    Endpoint("start_track_recording", "POST", _R + "/track", StartTrackRecording, "Start track recording",
             check_with="list_recordings", returns_nothing=True),
]
