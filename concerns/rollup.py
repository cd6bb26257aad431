"""Facts about concerns kept for the commander reports, so a report reads them rather than
computing them again from every concern and action: each concern's first action's time
(`Concern.first_action_at`).

One owner: every save or delete of an action, through any path (record_action, the admin, the
shell, a test's factory), reaches `action_changed` through the model signals registered here,
inside the same transaction as the write. Bulk writes that send no signals (bulk_create,
update(), raw SQL: seed_demo's volume and the benchmarks' data) call `rebuild()` afterwards.
"""

from collections.abc import Iterable

from django.db.models import Exists, Min, OuterRef, Subquery
from django.db.models.signals import post_delete, post_save

from .models import Concern, ConcernAction


def _earliest_action():
    return (
        ConcernAction.objects.filter(concern=OuterRef("pk"))
        .order_by()
        .values("concern")
        .annotate(first=Min("at"))
        .values("first")
    )


def refresh_first_action(concern_ids: Iterable[int]) -> None:
    """Set each of these concerns' `first_action_at` to its earliest action's time, or None
    when it has none left: one UPDATE, right after an action is added, moved or deleted."""
    ids = list(concern_ids)
    if ids:
        Concern.objects.filter(pk__in=ids).update(first_action_at=Subquery(_earliest_action()))


def rebuild_first_actions() -> int:
    """`first_action_at` of every concern from its actions: after bulk writes, and by the
    migration that added it. Returns the number of concerns with an action."""
    actions = ConcernAction.objects.filter(concern=OuterRef("pk"))
    Concern.objects.filter(first_action_at__isnull=False).exclude(Exists(actions)).update(
        first_action_at=None
    )
    return Concern.objects.filter(Exists(actions)).update(
        first_action_at=Subquery(_earliest_action())
    )


def rebuild() -> None:
    """Every stored report fact from the concerns and actions themselves."""
    rebuild_first_actions()


# --- The signals: the one path every write of an action takes ------------------------------


def action_changed(sender, instance: ConcernAction, **kwargs) -> None:
    """An action was saved or deleted: its concern's first action may have changed. When the
    concern itself is being deleted (its actions go with it) the UPDATE finds nothing."""
    refresh_first_action([instance.concern_id])


def register() -> None:
    post_save.connect(action_changed, sender=ConcernAction, dispatch_uid="rollup-action-saved")
    post_delete.connect(action_changed, sender=ConcernAction, dispatch_uid="rollup-action-deleted")
