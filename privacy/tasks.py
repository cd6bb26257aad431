"""Celery tasks after the walk: the daily purge of personal data past its retention period."""

from celery import shared_task

from . import services


@shared_task(name="privacy.tasks.purge_personal_data", ignore_result=True)
def purge_personal_data() -> dict[str, int]:
    """Beat runs it daily. Safe twice at once or twice in a row: see services."""
    return services.purge_personal_data()
