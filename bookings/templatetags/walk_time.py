"""Times and dates as GOV.UK writes them, in London time: 6:30pm, Thursday 26 November 2026."""

from datetime import datetime, timedelta

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def clock(value: datetime) -> str:
    """6:30pm, 7am, midday, midnight."""
    local = timezone.localtime(value)
    if (local.hour, local.minute) == (0, 0):
        return "midnight"
    if (local.hour, local.minute) == (12, 0):
        return "midday"
    hour = local.hour % 12 or 12
    minutes = f":{local.minute:02d}" if local.minute else ""
    return f"{hour}{minutes}{'am' if local.hour < 12 else 'pm'}"


@register.filter
def day(value: datetime) -> str:
    """Thursday 26 November 2026."""
    local = timezone.localtime(value)
    return f"{local:%A} {local.day} {local:%B %Y}"


@register.filter
def short_day(value: datetime) -> str:
    """Thu 26 Nov."""
    local = timezone.localtime(value)
    return f"{local:%a} {local.day} {local:%b}"


@register.filter
def duration(value: timedelta) -> str:
    """1 hour 30 minutes."""
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts) or "less than a minute"
