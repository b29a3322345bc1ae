"""Presets: named bundles of meeting config, UI theme and participant permissions.

A participant joins a meeting with a preset (add_participant's ``preset_name``). The nested models
below describe the create body; update_preset uses :func:`_partial` copies of the same models,
since the reference makes every field of the PATCH body optional, at every depth.
"""

import functools
import operator
import types
import typing
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, create_model

from rtk_mcp.catalog.common import (
    AppParams,
    JsonObject,
    ListedBy,
    PageNo,
    Params,
    PathId,
    PerPage,
)
from rtk_mcp.catalog.endpoint import Endpoint

Quality = Literal["hd", "vga", "qvga"]
Produce = Literal["ALLOWED", "NOT_ALLOWED", "CAN_REQUEST"]
PresetId = Annotated[PathId, ListedBy("list_presets")]

# Nested models carry no docstring: pydantic would emit it as a schema description (tokens).

# --- config ---------------------------------------------------------------------------------


class MaxVideoStreams(Params):
    desktop: int
    mobile: int


class ScreenshareMedia(Params):
    frame_rate: int
    quality: Quality


class VideoMedia(ScreenshareMedia):
    frame_rate: int = Field(le=30)


class AudioMedia(Params):
    enable_high_bitrate: bool | None = None
    enable_stereo: bool | None = None


class Media(Params):
    screenshare: ScreenshareMedia
    video: VideoMedia
    audio: AudioMedia | None = None


class PresetConfig(Params):
    max_screenshare_count: int
    max_video_streams: MaxVideoStreams
    media: Media
    view_type: Literal["GROUP_CALL", "WEBINAR", "AUDIO_ROOM"]


# --- ui ---------------------------------------------------------------------------------------


class _Shades(Params):
    # The API's keys are numbers ("600"); serialize under them, not the python names.
    model_config = ConfigDict(serialize_by_alias=True)


def _shades(name: str, *shades: int) -> type[_Shades]:
    """A palette: one colour string per shade, e.g. ``s600`` sent as "600"."""
    return create_model(name, __base__=_Shades, **{f"s{shade}": (str, Field(alias=str(shade))) for shade in shades})


Background = _shades("Background", 600, 700, 800, 900, 1000)
Brand = _shades("Brand", 300, 400, 500, 600, 700)


class Colors(Params):
    background: Background
    brand: Brand
    danger: str
    success: str
    text: str
    text_on_brand: str
    video_bg: str
    warning: str


class DesignTokens(Params):
    border_radius: Literal["rounded"]
    border_width: Literal["thin"]
    colors: Colors
    logo: str
    spacing_base: float
    theme: Literal["dark"]


class PresetUI(Params):
    design_tokens: DesignTokens
    # `unknown` in the reference; in practice an object of UI overrides, with keys the reference
    # doesn't list: taken as JSON text (see JsonObject), sent as the object.
    config_diff: JsonObject | None = Field(default=None, description="UI overrides, JSON object as text")


# --- permissions ------------------------------------------------------------------------------


class PublicChat(Params):
    can_send: bool
    files: bool
    text: bool


class PrivateChat(PublicChat):
    can_receive: bool


class Chat(Params):
    private: PrivateChat
    public: PublicChat


class ConnectedMeetings(Params):
    can_alter_connected_meetings: bool
    can_switch_connected_meetings: bool
    can_switch_to_parent_meeting: bool


class CanProduce(Params):
    can_produce: Produce


class MediaPermissions(Params):
    audio: CanProduce
    screenshare: CanProduce
    video: CanProduce


class PluginConfig(Params):
    access_control: Literal["FULL_ACCESS", "VIEW_ONLY"]
    handles_view_only: bool


class Plugins(Params):
    can_close: bool
    can_edit_config: bool
    can_start: bool
    # The reference types this as `string | {access_control, handles_view_only}`.
    config: str | PluginConfig


class Polls(Params):
    can_create: bool
    can_view: bool
    can_vote: bool


class Permissions(Params):
    accept_waiting_requests: bool
    can_accept_production_requests: bool
    can_change_participant_permissions: bool
    can_edit_display_name: bool
    can_livestream: bool
    can_record: bool
    can_spotlight: bool
    chat: Chat
    connected_meetings: ConnectedMeetings
    disable_participant_audio: bool
    disable_participant_screensharing: bool
    disable_participant_video: bool
    hidden_participant: bool
    kick_participant: bool
    media: MediaPermissions
    pin_participant: bool
    plugins: Plugins
    polls: Polls
    recorder_type: Literal["RECORDER", "LIVESTREAMER", "NONE"]
    show_participant_list: bool
    waiting_room_type: Literal["SKIP", "ON_PRIVILEGED_USER_ENTRY", "SKIP_ON_ACCEPT"]
    is_recorder: bool | None = None


# --- partial copies for PATCH -----------------------------------------------------------------


def _partial_type(tp: Any) -> Any:
    if isinstance(tp, type) and issubclass(tp, Params):
        return _partial(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return functools.reduce(operator.or_, (_partial_type(arg) for arg in typing.get_args(tp)))
    return tp


#: Fields of the create body that the reference's PATCH body does not list.
_NOT_IN_PATCH = {("Media", "audio")}


@functools.cache
def _partial(model: type[Params]) -> type[Params]:
    """``model`` with every field optional, recursively (same names, aliases, constraints, descriptions),
    less the fields the reference leaves out of the PATCH body."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if (model.__name__, name) in _NOT_IN_PATCH:
            continue
        tp = _partial_type(info.annotation)
        if info.metadata:  # constraints such as le=30
            tp = Annotated[(tp, *info.metadata)]
        fields[name] = (tp | None, Field(default=None, alias=info.alias, description=info.description))
    # Subclassing keeps the config (extra="forbid", serialize_by_alias); a model that loses a field
    # subclasses its own base instead (every field is redefined here anyway).
    loses_one = len(fields) < len(model.model_fields)
    return create_model(model.__name__ + "Patch", __base__=model.__bases__[0] if loses_one else model,
                        __doc__=None, **fields)


ConfigPatch = _partial(PresetConfig)
PermissionsPatch = _partial(Permissions)
UIPatch = _partial(PresetUI)

# --- tools ------------------------------------------------------------------------------------

_NAME = "add_participant's preset_name"
_CONFIG = "Meeting type and media limits"
_UI = "Theme"


class ListPresets(AppParams):
    """List presets; a preset's name is add_participant's preset_name."""

    page_no: PageNo | None = None
    per_page: PerPage | None = None


class CreatePreset(AppParams):
    """Create a preset (meeting config, UI theme, permissions) for add_participant's preset_name."""

    config: PresetConfig = Field(description=_CONFIG)
    name: str = Field(description=_NAME)
    ui: PresetUI = Field(description=_UI)
    permissions: Permissions | None = None


class GetPreset(AppParams):
    """Fetch a preset's full config, ui and permissions."""

    preset_id: PresetId


class DeletePreset(AppParams):
    """Delete a preset from the app."""

    preset_id: PresetId


class UpdatePreset(AppParams):
    """Update a preset's given fields (nested merging is undocumented: send changed objects whole)."""

    preset_id: PresetId
    config: ConfigPatch | None = Field(default=None, description=_CONFIG)
    name: str | None = Field(default=None, description=_NAME)
    permissions: PermissionsPatch | None = None
    ui: UIPatch | None = Field(default=None, description=_UI)


_P = "/{app_id}/presets"
ENDPOINTS = [
    Endpoint("list_presets", "GET", _P, ListPresets, "List presets", default_toolset=True),
    Endpoint("create_preset", "POST", _P, CreatePreset, "Create preset", check_with="list_presets"),
    Endpoint("get_preset", "GET", _P + "/{preset_id}", GetPreset, "Get preset"),
    Endpoint("delete_preset", "DELETE", _P + "/{preset_id}", DeletePreset, "Delete preset", destructive=True),
    Endpoint("update_preset", "PATCH", _P + "/{preset_id}", UpdatePreset, "Update preset", check_with="get_preset"),
]
