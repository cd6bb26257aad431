from django.core.management.base import BaseCommand
from django.utils import timezone

from bookings.delivery import deliver_due_notifications


class Command(BaseCommand):
    help = "Send every outbox message that is due now: one sweep, as Celery beat runs each minute."

    def handle(self, *args, **options):
        outcomes = deliver_due_notifications(now=timezone.now())
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        self.stdout.write(summary or "Nothing was due.")
