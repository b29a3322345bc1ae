"""Day-wise usage analytics: sessions and recordings per day.

As documented: without dates the range is 30 days ago to today (by the sandbox clock); a date
left out defaults the same way. Per-day recording minutes are whole numbers in the reference, so
each recording counts its started minutes (rounded up), and every total is the sum of its days.

The reference sets no longest range; the sandbox answers at most :data:`MAX_RANGE_DAYS` days per
call (its own rule: the answer has a row per day, so a range of centuries would take seconds and
gigabytes to build) and refuses a longer one with a 400 saying how to ask instead.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta

from ..clock import parse_ts
from .common import Call, ErrorReply, Reply, ok
from .sessions import render_session

DEFAULT_RANGE = timedelta(days=30)
#: The longest range one call covers (ten years with their leap days), the sandbox's own bound: far
#: beyond any real use, and still a small answer.
MAX_RANGE_DAYS = 3653


def get_daywise_analytics(call: Call) -> Reply:
    today = call.now.date()
    start, end = call.query_date("start_date"), call.query_date("end_date")
    if start is None and end is None:
        start, end = today - DEFAULT_RANGE, today
    elif start is None:
        start = end - min(DEFAULT_RANGE, end - date.min)  # type: ignore[operator]  # no earlier than year 1
    elif end is None:
        end = max(start, today)
    days_asked = (end - start).days + 1  # type: ignore[operator]
    if days_asked > MAX_RANGE_DAYS:
        raise ErrorReply(
            400, f"The sandbox answers at most {MAX_RANGE_DAYS} days per call (its own limit, not the API's): "
            f"start_date {start} to end_date {end} is {days_asked} days. Ask for a shorter range.",
        )
    session_count: dict[str, int] = defaultdict(int)
    session_minutes: dict[str, float] = defaultdict(float)
    recording_count: dict[str, int] = defaultdict(int)
    recording_minutes: dict[str, int] = defaultdict(int)
    for session in call.owned("sessions"):
        day = session["started_at"][:10]
        session_count[day] += 1
        session_minutes[day] += render_session(session, call.now)["minutes_consumed"]
    for recording in call.owned("recordings"):
        day = parse_ts(recording["invoked_time"]).date().isoformat()
        recording_count[day] += 1
        recording_minutes[day] += math.ceil((recording["recording_duration"] or 0) / 60)
    days = [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]  # empty when start > end
    session_days = [
        {"day": d, "total_sessions": session_count[d], "total_session_minutes": round(session_minutes[d], 2)} for d in days
    ]
    recording_days = [
        {"day": d, "total_recordings": recording_count[d], "total_recording_minutes": recording_minutes[d]} for d in days
    ]
    return ok({
        "session_stats": {
            "day_stats": session_days,
            "sessions_count": sum(d["total_sessions"] for d in session_days),
            "sessions_minutes_consumed": round(sum(d["total_session_minutes"] for d in session_days), 2),
        },
        "recording_stats": {
            "day_stats": recording_days,
            "recording_count": sum(d["total_recordings"] for d in recording_days),
            "recording_minutes_consumed": sum(d["total_recording_minutes"] for d in recording_days),
        },
    })


ROUTES = [
    ("GET", "/{app_id}/analytics/daywise", get_daywise_analytics),
]
