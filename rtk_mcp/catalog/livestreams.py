"""Livestreams: RTMP livestreams, either of a meeting or independent (fed by your own encoder)."""

from typing import Annotated, Literal

from pydantic import Field

from rtk_mcp.catalog.common import (
    AppParams,
    ISOTime,
    ListedBy,
    MeetingId,
    PageNo,
    Params,
    PathId,
    PerPage,
)
from rtk_mcp.catalog.endpoint import Endpoint


class CreateLivestream(AppParams):
    """Create an independent livestream; returns RTMP ingest_server, stream_key, playback_url."""

    name: str | None = None


class ListLivestreams(AppParams):
    """List livestreams (id, name, status). The reference documents one livestream in data, with paging: step page_no."""

    start_time: ISOTime | None = None
    end_time: ISOTime | None = None
    status: Literal["LIVE", "IDLE", "ERRORED", "INVOKED"] | None = None
    exclude_meetings: bool | None = Field(default=None, description="Skip meeting livestreams")
    sort_order: Literal["ASC", "DSC"] | None = None  # "DSC", not "DESC": as documented for this endpoint
    page_no: PageNo | None = None
    per_page: PerPage | None = None


class _MeetingParams(AppParams):
    meeting_id: MeetingId


class StopMeetingLivestream(_MeetingParams):
    """Stop the meeting's active livestream."""


class LivestreamResolution(Params):
    # The reference gives recording video 1-1920 pixels and livestream video no limits: none imposed.
    width: int | None = None
    height: int | None = None


class StartMeetingLivestream(_MeetingParams):
    """Start livestreaming a meeting; returns playback_url."""

    name: str | None = None
    video_config: LivestreamResolution | None = Field(default=None, description="Resolution in pixels")


class GetLivestreamAnalytics(AppParams):
    """Get livestream totals (count, ingest and viewer seconds) for a time range."""

    start_time: ISOTime | None = None
    end_time: ISOTime | None = None


class GetMeetingActiveLivestream(_MeetingParams):
    """Get the meeting's currently active livestream."""


class GetLivestreamSession(AppParams):
    """Get a livestream session (one broadcast run)."""

    # The documented placeholder is spelled {livestream-session-id}; the URL is the same.
    livestream_session_id: Annotated[PathId, ListedBy("get_livestream")]


class _LivestreamParams(AppParams):
    livestream_id: Annotated[PathId, ListedBy("list_livestreams")]


class GetActiveLivestreamSession(_LivestreamParams):
    """Get a livestream and its currently active session."""


class GetLivestream(_LivestreamParams):
    """Get a livestream and its sessions."""

    page_no: PageNo | None = None
    per_page: PerPage | None = None


_M = "/{app_id}/meetings/{meeting_id}"
_L = "/{app_id}/livestreams"
ENDPOINTS = [
    Endpoint("create_livestream", "POST", _L, CreateLivestream, "Create livestream", check_with="list_livestreams"),
    Endpoint("list_livestreams", "GET", _L, ListLivestreams, "List livestreams"),
    Endpoint("stop_meeting_livestream", "POST", _M + "/active-livestream/stop", StopMeetingLivestream,
             "Stop meeting livestream", destructive=True, check_with="get_meeting_active_livestream"),
    Endpoint("start_meeting_livestream", "POST", _M + "/livestreams", StartMeetingLivestream,
             "Start meeting livestream", check_with="get_meeting_active_livestream"),
    Endpoint("get_livestream_analytics", "GET", "/{app_id}/analytics/livestreams/overall", GetLivestreamAnalytics,
             "Get livestream analytics"),
    Endpoint("get_meeting_active_livestream", "GET", _M + "/active-livestream", GetMeetingActiveLivestream,
             "Get active livestream"),
    Endpoint("get_livestream_session", "GET", _L + "/sessions/{livestream_session_id}", GetLivestreamSession,
             "Get livestream session"),
    Endpoint("get_active_livestream_session", "GET", _L + "/{livestream_id}/active-livestream-session",
             GetActiveLivestreamSession, "Get active livestream session"),
    Endpoint("get_livestream", "GET", _L + "/{livestream_id}", GetLivestream, "Get livestream"),
]
