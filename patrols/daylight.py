"""Sunrise and sunset on the day of a walk: the public walk page tells her whether it will be
dark, and the officers' briefing says when the light goes. Here, below both screens, so that
each uses the same sums."""

from datetime import datetime
from zoneinfo import ZoneInfo

from astral import LocationInfo, Observer
from astral.sun import sun
from django.utils import timezone

from .models import Walk

LONDON = ZoneInfo("Europe/London")
CENTRAL_LONDON = LocationInfo("London", "England", "Europe/London", 51.5074, -0.1278)


def daylight(walk: Walk) -> dict:
    """Sunrise and sunset at the meeting point (central London when it has no coordinates)
    on the day of the walk, and whether it will be dark when the walk starts and ends."""
    if walk.meeting_lat is not None and walk.meeting_lng is not None:
        observer = Observer(float(walk.meeting_lat), float(walk.meeting_lng))
    else:
        observer = CENTRAL_LONDON.observer
    day = timezone.localtime(walk.starts_at, LONDON).date()
    times = sun(observer, date=day, tzinfo=LONDON)

    def dark(moment: datetime) -> bool:
        return not times["sunrise"] <= moment < times["sunset"]

    return {
        "morning": timezone.localtime(walk.starts_at, LONDON).hour < 12,
        "sunrise": times["sunrise"],
        "sunset": times["sunset"],
        "dark_at_start": dark(walk.starts_at),
        "dark_at_end": dark(walk.ends_at),
    }
