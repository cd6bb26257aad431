"""Concerns' figures for /metrics (walkandtalk/metrics.py): walks debriefed and concerns
logged, read from the database at each scrape. Registered from ConcernsConfig.ready."""

from datetime import datetime

from patrols.models import Walk
from walkandtalk import metrics

from .models import Concern

NAME = "concerns"


def figures(now: datetime):
    """Two counts. A walk is debriefed when its debrief marks it completed (complete_debrief,
    by way of complete_walk)."""
    yield metrics.gauge(
        "debriefs",
        "Walks debriefed (marked completed).",
        Walk.objects.filter(status=Walk.Status.COMPLETED).count(),
    )
    yield metrics.gauge("concerns", "Concerns logged.", Concern.objects.count())


def register() -> None:
    metrics.register(NAME, figures)
