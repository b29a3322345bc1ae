"""Sessions: one run of a meeting, from first join to last leave, and its participants and artefacts."""

from typing import Annotated, Literal

from pydantic import Field, field_serializer

from rtk_mcp.catalog.common import (
    AppParams,
    ISOTime,
    ListedBy,
    PageNo,
    PathId,
    PerPage,
    unstated_minimum,
)
from rtk_mcp.catalog.endpoint import Endpoint

SessionId = Annotated[PathId, ListedBy("list_sessions")]

#: The most entries one get_session_transcript / get_session_chat window returns.
MAX_WINDOW = 1000

SortOrder = Literal["ASC", "DESC"]
ReportFilter = Literal["device_info", "ip_information", "precall_network_information", "events", "quality_stats"]


class _Filtered(AppParams):
    filters: list[ReportFilter] | None = Field(default=None, description="Sections to include")

    # The API wants one comma-separated string with no spaces, not repeated query keys.
    @field_serializer("filters")
    def _join(self, value: list[str] | None) -> str | None:
        return ",".join(value) if value is not None else None


class ListSessions(AppParams):
    """List sessions (runs of meetings)."""

    associated_id: str | None = Field(default=None, description="Meeting ID")
    start_time: ISOTime | None = None
    end_time: ISOTime | None = None
    participants: str | None = Field(default=None, description="Participants filter (syntax undocumented)")
    search: str | None = Field(default=None, description="Meeting title/ID or session ID")
    status: Literal["LIVE", "ENDED"] | None = None
    sort_by: Literal["minutesConsumed", "createdAt"] | None = None
    sort_order: SortOrder | None = None
    page_no: PageNo | None = None
    per_page: PerPage | None = None


class _SessionParams(AppParams):
    session_id: SessionId


class GetSession(_SessionParams):
    """Get a session's details: status, times, minutes, participant counts."""

    include_breakout_rooms: bool | None = Field(default=None, description="List breakout rooms")


class ListSessionParticipants(_SessionParams):
    """List a session's participants."""

    search: str | None = None
    include_peer_events: bool | None = None
    view: Literal["raw", "consolidated"] | None = Field(
        default=None, description="Breakout durations: per room or summed"
    )
    sort_by: Literal["joinedAt", "duration"] | None = None
    sort_order: SortOrder | None = None
    page_no: PageNo | None = None
    per_page: PerPage | None = None


class GetSessionParticipant(_SessionParams, _Filtered):
    """Get a session participant, optionally with device, network, quality stats."""

    participant_id: Annotated[PathId, ListedBy("list_session_participants")]
    include_peer_events: bool | None = None


class _Content(_SessionParams):
    # Ours, not the API's: rtk_mcp.results.content fetches the file the API links to (see Endpoint.reads).
    include_content: bool | None = Field(default=None, description="Also return the content")


class _Window(_Content):
    offset: int | None = Field(default=None, ge=0, description="First entry, 0-based; implies include_content",
                               json_schema_extra=unstated_minimum)
    limit: int | None = Field(default=None, ge=1, le=MAX_WINDOW, description="Entries to return, default 200")


class GetSessionChat(_Window):
    """Get a session's chat (messages written by meeting participants): a download URL, or with include_content
    the messages (time, sender, text)."""


class GetSessionTranscript(_Window):
    """Get a session's transcript (meeting participants' speech): a download URL, or with include_content the
    utterances (time, speaker, text)."""


class GetSessionSummary(_Content):
    """Get a session's AI summary (see generate_session_summary): a download URL, or with include_content its
    text."""

    wait_s: int | None = Field(default=None, ge=1, le=120, description="Wait up to N s for a summary being generated")


class GenerateSessionSummary(_SessionParams):
    """Generate a session's transcript summary, asynchronously: get_session_summary has it after a while."""


class GetPeerReport(_Filtered):
    """Get a participant's peer report (device, network, media quality)."""

    peer_id: Annotated[PathId, ListedBy("list_session_participants", as_field="participant_id")]


_S = "/{app_id}/sessions"
ENDPOINTS = [
    Endpoint("list_sessions", "GET", _S, ListSessions, "List sessions", default_toolset=True),
    Endpoint("get_session", "GET", _S + "/{session_id}", GetSession, "Get session"),
    Endpoint("list_session_participants", "GET", _S + "/{session_id}/participants", ListSessionParticipants,
             "List session participants"),
    Endpoint("get_session_participant", "GET", _S + "/{session_id}/participants/{participant_id}",
             GetSessionParticipant, "Get session participant"),
    Endpoint("get_session_chat", "GET", _S + "/{session_id}/chat", GetSessionChat, "Get session chat", reads="chat"),
    Endpoint("get_session_transcript", "GET", _S + "/{session_id}/transcript", GetSessionTranscript,
             "Get session transcript", reads="transcript", default_toolset=True),
    Endpoint("get_session_summary", "GET", _S + "/{session_id}/summary", GetSessionSummary, "Get session summary",
             reads="summary", default_toolset=True),
    Endpoint("generate_session_summary", "POST", _S + "/{session_id}/summary", GenerateSessionSummary,
             "Generate session summary", check_with="get_session_summary", returns_nothing=True),
    Endpoint("get_peer_report", "GET", _S + "/peer-report/{peer_id}", GetPeerReport, "Get peer report"),
]
