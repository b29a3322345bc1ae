"""Meetings and their participants."""

from typing import Annotated, Literal

from pydantic import Field

from rtk_mcp.catalog.common import (
    AppParams,
    ISOTime,
    ListedBy,
    MeetingId,
    PageNo,
    PathId,
    PerPage,
    Uri,
)
from rtk_mcp.catalog.endpoint import Endpoint
from rtk_mcp.catalog.media import AIConfig, RecordingConfig

ParticipantId = Annotated[PathId, ListedBy("list_meeting_participants")]


class ListMeetings(AppParams):
    """List meetings. Source of meeting_id."""

    search: str | None = Field(default=None, description="Meeting ID or title")
    start_time: ISOTime | None = None
    end_time: ISOTime | None = None
    page_no: PageNo | None = None
    per_page: PerPage | None = None


class _MeetingBody(AppParams):
    # Fields shared by create, update and replace (no docstring: it would become a description).
    title: str | None = None
    record_on_start: bool | None = Field(default=None, description="Record when someone joins")
    live_stream_on_start: bool | None = Field(default=None, description="Livestream when it starts")
    persist_chat: bool | None = Field(default=None, description="Keep chat for a week")
    session_keep_alive_time_in_secs: int | None = Field(
        default=None, ge=60, le=600, description="Alive after last participant leaves"
    )
    summarize_on_end: bool | None = Field(default=None, description="AI summary; needs transcription")
    ai_config: AIConfig | None = None


class CreateMeeting(_MeetingBody):
    """Create a meeting: a room people join whenever they hold a token (no start time exists to set); then
    add_participant for join tokens."""

    recording_config: RecordingConfig | None = Field(default=None, description="Overrides app defaults")


class GetMeeting(AppParams):
    """Get one meeting's settings."""

    meeting_id: MeetingId
    name: str | None = Field(default=None, description="Undocumented; usually omit")


class UpdateMeeting(_MeetingBody):
    """Change some of a meeting's settings; omitted ones stay."""

    meeting_id: MeetingId
    status: Literal["ACTIVE", "INACTIVE"] | None = Field(default=None, description="INACTIVE blocks joining")


class ReplaceMeeting(_MeetingBody):
    """Replace all of a meeting's settings; omitted ones may reset (update_meeting changes some)."""

    meeting_id: MeetingId
    recording_config: RecordingConfig | None = Field(default=None, description="Overrides app defaults")


class ListParticipants(AppParams):
    """List the participants added to a meeting."""

    meeting_id: MeetingId
    page_no: PageNo | None = None
    per_page: PerPage | None = None


class AddParticipant(AppParams):
    """Add a participant to a meeting; returns their auth token, which a RealtimeKit client (web/mobile SDK)
    joins with."""

    meeting_id: MeetingId
    custom_participant_id: str = Field(description="Any unique ID of the person in your system, e.g. email")
    preset_name: str = Field(description="Name from list_presets")
    name: str | None = None
    picture: Uri | None = None


class ParticipantPath(AppParams):
    # Path-only params shared by get/delete/refresh-token.
    meeting_id: MeetingId
    participant_id: ParticipantId


class GetParticipant(ParticipantPath):
    """Get one participant of a meeting."""


class UpdateParticipant(ParticipantPath):
    """Edit a participant's name, picture or preset."""

    name: str | None = None
    picture: Uri | None = None
    preset_name: str | None = Field(default=None, description="Name from list_presets")


class DeleteParticipant(ParticipantPath):
    """Remove a participant from a meeting."""


class RefreshParticipantToken(ParticipantPath):
    """Issue a participant a new auth token."""


_M = "/{app_id}/meetings"
_P = _M + "/{meeting_id}/participants"

ENDPOINTS = [
    Endpoint("list_meetings", "GET", _M, ListMeetings, "List meetings", default_toolset=True),
    Endpoint("create_meeting", "POST", _M, CreateMeeting, "Create meeting", check_with="list_meetings",
             default_toolset=True),
    Endpoint("get_meeting", "GET", _M + "/{meeting_id}", GetMeeting, "Get meeting", default_toolset=True),
    Endpoint("update_meeting", "PATCH", _M + "/{meeting_id}", UpdateMeeting, "Update meeting",
             check_with="get_meeting", default_toolset=True),
    # PUT: idempotent, but every field left out is reset.
    Endpoint("replace_meeting", "PUT", _M + "/{meeting_id}", ReplaceMeeting, "Replace meeting", destructive=True),
    Endpoint("list_meeting_participants", "GET", _P, ListParticipants, "List meeting participants",
             default_toolset=True),
    Endpoint("add_participant", "POST", _P, AddParticipant, "Add participant",
             check_with="list_meeting_participants", default_toolset=True),
    Endpoint("get_participant", "GET", _P + "/{participant_id}", GetParticipant, "Get participant"),
    Endpoint("update_participant", "PATCH", _P + "/{participant_id}", UpdateParticipant, "Edit participant",
             check_with="get_participant"),
    Endpoint("delete_participant", "DELETE", _P + "/{participant_id}", DeleteParticipant, "Delete participant",
             destructive=True, default_toolset=True),
    Endpoint("refresh_participant_token", "POST", _P + "/{participant_id}/token", RefreshParticipantToken,
             "Refresh participant token", check_with="get_participant", default_toolset=True),
]
