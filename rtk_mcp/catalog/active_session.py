"""The live session of a meeting: who is in it, kicking people out, polls."""

from pydantic import Field

from rtk_mcp.catalog.common import AppParams, MeetingId
from rtk_mcp.catalog.endpoint import Endpoint


class ActiveSessionParams(AppParams):
    """Get a meeting's ongoing session: id, status, participant counts (not names), minutes. Names:
    list_session_participants with its id (no left_at: still in)."""

    meeting_id: MeetingId


class KickParticipants(ActiveSessionParams):
    """Remove participants from a meeting's live session. Prefer custom_participant_ids (as given to
    add_participant); participant_ids are "user IDs", undocumented beyond that. Pass [] for the unused list."""

    # Which id the API matches here is undocumented ("user ID or custom participant ID"), so no tool is
    # named as their source: the description points to the unambiguous custom ids instead.
    participant_ids: list[str] = Field(description="User IDs")
    custom_participant_ids: list[str] = Field(description="custom_participant_id values")


class KickAllParticipants(ActiveSessionParams):
    """Remove everyone from a meeting's live session."""


class CreatePoll(ActiveSessionParams):
    """Start a poll in a meeting's live session."""

    question: str
    options: list[str] = Field(description="Answer choices")
    anonymous: bool | None = Field(default=None, description="Hide who voted")
    hide_votes: bool | None = Field(default=None, description="Hide results until voting")


_S = "/{app_id}/meetings/{meeting_id}/active-session"

ENDPOINTS = [
    Endpoint("get_active_session", "GET", _S, ActiveSessionParams, "Get active session", default_toolset=True),
    Endpoint("kick_participants", "POST", _S + "/kick", KickParticipants, "Kick participants", destructive=True,
             check_with="get_active_session"),
    Endpoint("kick_all_participants", "POST", _S + "/kick-all", KickAllParticipants, "Kick all participants",
             destructive=True, check_with="get_active_session"),
    Endpoint("create_poll", "POST", _S + "/poll", CreatePoll, "Create poll", check_with="get_active_session"),
]
