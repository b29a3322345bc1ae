"""Analytics: day-wise usage of an app."""

import datetime as dt

from pydantic import Field

from rtk_mcp.catalog.common import AppParams
from rtk_mcp.catalog.endpoint import Endpoint


# The 30-day default is in endpoints.json's description of the operation ("If start_date and end_date are
# not provided, the default time range is set from 30 days ago to the current date"), which fills in
# what the docs page leaves out.
class GetDaywiseAnalytics(AppParams):
    """Get per-day session and recording stats (meetings, minutes, recordings); without dates, the last 30 days."""

    start_date: dt.date | None = Field(default=None, description="YYYY-MM-DD")
    end_date: dt.date | None = Field(default=None, description="YYYY-MM-DD")


ENDPOINTS = [
    # One tool for the operation the reference documents under both Analytics and Livestreams.
    Endpoint("get_daywise_analytics", "GET", "/{app_id}/analytics/daywise", GetDaywiseAnalytics,
             "Get day-wise analytics", alias_of="livestreams"),
]
