"""How a headline figure reads beside the same figure for the previous period of the same
length (`ReportFilters.previous_period`): "Up 12% on the previous 90 days (253)." Words, not
colour or arrows alone, carry the direction, and no direction is called good or bad: more
concerns logged may mean more women walked.

Counts change by a percentage, unless the previous period had none ("None in the previous 90
days"); shares (rates) by percentage points, of the percentages as the page writes them, so
the reader's own subtraction agrees; medians of durations and the mean change in confidence
say what they were before."""

from collections.abc import Callable
from datetime import timedelta


def period_words(days: int) -> str:
    """The previous period, as the sentences below name it."""
    return "the previous day" if days == 1 else f"the previous {days:,} days"


def count_change(now: int, before: int, days: int) -> str:
    period = period_words(days)
    if not before:
        return f"None in {period}."
    if now == before:
        return f"No change on {period}."
    percent = round(abs(now - before) * 100 / before)
    direction = "Up" if now > before else "Down"
    size = f"{percent}%" if percent else "less than 1%"
    return f"{direction} {size} on {period} ({before:,})."


def share_change(now: float | None, before: float | None, days: int) -> str:
    period = period_words(days)
    if before is None:
        return f"No data for {period}."
    was = round(before * 100)
    if now is None:
        return f"{was}% in {period}."
    points = round(now * 100) - was
    if not points:
        return f"No change on {period} ({was}%)."
    direction = "Up" if points > 0 else "Down"
    unit = "point" if abs(points) == 1 else "points"
    return f"{direction} {abs(points)} {unit} on {period} ({was}%)."


def duration_change(
    now: timedelta | None, before: timedelta | None, days: int, words: Callable
) -> str:
    """`words` writes a duration as the page does ("3.0 days"); equal words are no change."""
    period = period_words(days)
    if before is None:
        return f"No data for {period}."
    if now is None:
        return f"{words(before)} in {period}."
    if words(now) == words(before):
        return f"No change on {period}."
    direction = "Down" if now < before else "Up"
    return f"{direction} from {words(before)} in {period}."


def mean_change(now: float | None, before: float | None, days: int) -> str:
    """A mean on the survey's scale, to one decimal place as the page writes it."""
    period = period_words(days)
    if before is None:
        return f"No data for {period}."
    if now is None:
        return f"{before:+.1f} in {period}."
    difference = round(now, 1) - round(before, 1)
    if round(difference, 1) == 0:
        return f"No change on {period} ({before:+.1f})."
    direction = "Up" if difference > 0 else "Down"
    return f"{direction} {abs(difference):.1f} on {period} ({before:+.1f})."
